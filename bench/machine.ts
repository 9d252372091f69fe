/** What the benchmark ran on: CPU, memory, kernel and the versions of every server and of Node. */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { ChannelModel } from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  postgres: string;
  rabbitmq: string;
  redis: string;
  /** Load average when the run began: the machine is shared. */
  loadAverage: number[];
}

export async function describeMachine(opts: { databaseServerUrl: string; amqp: ChannelModel; redisUrl: string }): Promise<Machine> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const client = new pg.Client({ connectionString: opts.databaseServerUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  let postgres = 'unknown';
  try {
    postgres = (await client.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v.split(' on ')[0]!;
  } finally {
    await client.end();
  }
  const props = opts.amqp.connection.serverProperties as { product?: string; version?: string };
  const redis = new Redis(opts.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5_000 });
  let redisVersion = 'unknown';
  try {
    await redis.connect();
    redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  } finally {
    redis.disconnect();
  }
  return {
    cpuModel,
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres,
    rabbitmq: `${props.product ?? 'RabbitMQ'} ${props.version ?? 'unknown'}`,
    redis: `Redis ${redisVersion}`,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
