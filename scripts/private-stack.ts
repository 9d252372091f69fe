/**
 * A private PostgreSQL cluster, RabbitMQ node and Redis server, on free loopback ports in a
 * folder of their own, for runs that must disturb or measure the services (the fault run, the
 * benchmark): the machine's shared services are never touched. Built from the Debian packages'
 * binaries; `close()` stops everything and removes the folder.
 */
import { execFile, spawn } from 'node:child_process';
import { processTree } from './process-tree';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export type ServiceId = 'postgres' | 'rabbitmq' | 'redis';

export interface PrivateStack {
  dir: string;
  /** What a runtime needs to use this stack instead of the shared services. */
  env: { DATABASE_URL: string; RABBITMQ_URL: string; RABBITMQ_MANAGEMENT_URL: string; REDIS_URL: string };
  /** The processes of each service, for CPU accounting. */
  pids(): Record<ServiceId, number[]>;
  /** Stops a service cleanly (`immediate` for PostgreSQL: as a crash would, no checkpoint). */
  stop(service: ServiceId, opts?: { immediate?: boolean }): Promise<void>;
  start(service: ServiceId): Promise<void>;
  restart(service: ServiceId): Promise<void>;
  /** Runs rabbitmqctl against this stack's node (a resource alarm set at run time, say); its output. */
  rabbitmqctl(args: string[]): Promise<string>;
  close(): Promise<void>;
}

/** A loopback port nothing listens on now (for the stack's services, and the runtime beside them). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(500, () => (s.destroy(), resolve(false)));
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function waitUntil(what: string, probe: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function pgBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  if (!version) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql');
  return path.join(root, version, 'bin', name);
}

export interface PrivateStackOptions {
  /** Load pg_stat_statements (and create it in the postgres database): statement counts, at a small cost per statement. */
  statementStats?: boolean;
}

export async function startPrivateStack(opts: PrivateStackOptions = {}): Promise<PrivateStack> {
  const id = randomBytes(4).toString('hex');
  const dir = path.join(os.tmpdir(), `eventflow-stack-${id}`);
  mkdirSync(dir, { recursive: true });
  const [pgPort, amqpPort, mgmtPort, distPort, epmdPort, redisPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  const asRoot = process.getuid?.() === 0;

  // PostgreSQL refuses to run as root: as root, its files and processes belong to `postgres`.
  const pgDir = path.join(dir, 'pg');
  mkdirSync(pgDir);
  if (asRoot) chownSync(pgDir, Number((await exec('id', ['-u', 'postgres'])).stdout), Number((await exec('id', ['-g', 'postgres'])).stdout));
  const asPostgres = (bin: string, args: string[]) => (asRoot ? exec('runuser', ['-u', 'postgres', '--', bin, ...args]) : exec(bin, args));
  const pgData = path.join(pgDir, 'data');
  await asPostgres(pgBin('initdb'), ['-D', pgData, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  const pgOptions =
    `-p ${pgPort} -c listen_addresses=127.0.0.1 -k ${pgDir} -c max_connections=300 -c fsync=on -c synchronous_commit=on` +
    (opts.statementStats ? ' -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.max=5000' : '');
  const postgres = {
    start: async () => {
      await asPostgres(pgBin('pg_ctl'), ['-D', pgData, '-l', path.join(pgDir, 'log'), '-w', '-t', '60', '-o', pgOptions, 'start']);
    },
    stop: async (immediate = false) => {
      await asPostgres(pgBin('pg_ctl'), ['-D', pgData, '-m', immediate ? 'immediate' : 'fast', '-w', 'stop']).catch(() => undefined);
    },
    pids: () => {
      const file = path.join(pgData, 'postmaster.pid');
      if (!existsSync(file)) return [];
      return processTree(Number(readFileSync(file, 'utf8').split('\n')[0]));
    },
  };

  // A RabbitMQ node of its own: its own name, ports, epmd, cookie, data and (empty) plugin list.
  const rmqDir = path.join(dir, 'rabbitmq');
  mkdirSync(path.join(rmqDir, 'mnesia'), { recursive: true });
  mkdirSync(path.join(rmqDir, 'log'));
  writeFileSync(path.join(rmqDir, '.erlang.cookie'), randomBytes(16).toString('hex').toUpperCase(), { mode: 0o400 });
  // The management plugin: the runtime sets its queues' policies (delivery limits, dead-lettering)
  // through it, since rabbitmqctl would reach the machine's default node rather than this one.
  writeFileSync(
    path.join(rmqDir, 'rabbitmq.conf'),
    `listeners.tcp.default = 127.0.0.1:${amqpPort}\nloopback_users = none\nmanagement.tcp.ip = 127.0.0.1\nmanagement.tcp.port = ${mgmtPort}\n`,
  );
  writeFileSync(path.join(rmqDir, 'rabbitmq-env.conf'), '');
  writeFileSync(path.join(rmqDir, 'enabled_plugins'), '[rabbitmq_management].');
  const node = `eventflow-${id}@localhost`;
  const rmqEnv = {
    ...process.env,
    HOME: rmqDir,
    RABBITMQ_NODENAME: node,
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    RABBITMQ_CONF_ENV_FILE: path.join(rmqDir, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: path.join(rmqDir, 'rabbitmq.conf'),
    RABBITMQ_MNESIA_BASE: path.join(rmqDir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(rmqDir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(rmqDir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: path.join(rmqDir, 'pid'),
  };
  const rabbitBin = (name: string) => (existsSync(`/usr/lib/rabbitmq/bin/${name}`) ? `/usr/lib/rabbitmq/bin/${name}` : name);
  const rabbitmq = {
    start: async () => {
      await exec(rabbitBin('rabbitmq-server'), ['-detached'], { env: rmqEnv, cwd: rmqDir });
      await waitUntil('the private RabbitMQ node', async () => (await reachable(amqpPort)) && (await reachable(mgmtPort)), 120_000);
    },
    stop: async () => {
      await exec(rabbitBin('rabbitmqctl'), ['-n', node, 'stop'], { env: rmqEnv, cwd: rmqDir, timeout: 60_000 }).catch(() => undefined);
      await waitUntil('the private RabbitMQ node to stop', async () => !(await reachable(amqpPort)) && !(await reachable(mgmtPort)), 60_000);
    },
    pids: () => {
      const file = path.join(rmqDir, 'pid');
      return existsSync(file) ? processTree(Number(readFileSync(file, 'utf8').trim())) : [];
    },
    /** Runs rabbitmqctl against this node (for policies, queue listings). */
    ctl: (args: string[]) => exec(rabbitBin('rabbitmqctl'), ['-n', node, ...args], { env: rmqEnv, cwd: rmqDir }),
  };

  let redisChild: ChildProcess | undefined;
  const redis = {
    start: async () => {
      redisChild = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(redisPort), '--save', '', '--appendonly', 'no', '--dir', dir], {
        stdio: 'ignore',
      });
      await waitUntil('the private Redis', () => reachable(redisPort));
    },
    stop: async () => {
      const child = redisChild;
      redisChild = undefined;
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
    pids: () => (redisChild?.pid && redisChild.exitCode === null ? [redisChild.pid] : []),
  };

  const services = { postgres, rabbitmq, redis };
  const stack: PrivateStack = {
    dir,
    env: {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/postgres`,
      RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
      RABBITMQ_MANAGEMENT_URL: `http://guest:guest@127.0.0.1:${mgmtPort}`,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    },
    pids: () => ({ postgres: postgres.pids(), rabbitmq: rabbitmq.pids(), redis: redis.pids() }),
    stop: (service, opts = {}) => (service === 'postgres' ? postgres.stop(opts.immediate) : services[service].stop()),
    start: (service) => services[service].start(),
    async restart(service) {
      await stack.stop(service);
      await stack.start(service);
    },
    rabbitmqctl: async (args) => (await rabbitmq.ctl(args)).stdout,
    async close() {
      await Promise.allSettled([postgres.stop(), rabbitmq.stop(), redis.stop()]);
      await exec('epmd', ['-port', String(epmdPort), '-kill'], { env: { ...process.env, ERL_EPMD_PORT: String(epmdPort) } }).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all([postgres.start(), rabbitmq.start(), redis.start()]);
    if (opts.statementStats) await asPostgres(pgBin('psql'), ['-h', pgDir, '-p', String(pgPort), '-U', 'postgres', '-d', 'postgres', '-c', 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements']);
  } catch (err) {
    await stack.close();
    throw err;
  }
  return stack;
}
