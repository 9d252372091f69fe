import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../shared/config';
import { LOCAL_ENV } from '../shared/env';

const exec = promisify(execFile);
const COMPOSE_FILE = path.resolve(import.meta.dirname, '../docker-compose.localstack.yml');

interface Dependency {
  name: string;
  /** Its service in docker-compose.localstack.yml. */
  composeService: 'postgres' | 'rabbitmq' | 'redis';
  host: string;
  port: number;
  startHint: string;
}

/**
 * What the compose broker (rabbitmq:4.2-management) offers for policies: rabbitmqctl on this
 * machine cannot reach a node inside a container, its management API can.
 */
export const COMPOSE_RABBITMQ_MANAGEMENT_URL = 'http://guest:guest@127.0.0.1:15672';

/**
 * `docker compose up` for exactly the services that are missing, named: LocalStack sits behind a
 * profile and is never started here, and a service already running on this machine is not
 * started twice (its port is taken).
 */
export function composeUpArgs(composeFile: string, services: readonly Dependency['composeService'][]): string[] {
  return ['compose', '-f', composeFile, 'up', '-d', '--wait', ...services];
}

export function dependencies(config: Config): Dependency[] {
  const at = (url: string, port: number) => {
    const u = new URL(url);
    return { host: u.hostname, port: Number(u.port || port) };
  };
  return [
    { name: 'PostgreSQL', composeService: 'postgres', ...at(config.databaseUrls.order, 5432), startHint: 'pg_ctlcluster <version> main start (or: docker compose -f docker-compose.localstack.yml up -d postgres)' },
    { name: 'RabbitMQ', composeService: 'rabbitmq', ...at(config.rabbitmqUrl, 5672), startHint: 'rabbitmq-server -detached (or: docker compose -f docker-compose.localstack.yml up -d rabbitmq)' },
    { name: 'Redis', composeService: 'redis', ...at(config.redis.url, 6379), startHint: 'redis-server --daemonize yes (or: docker compose -f docker-compose.localstack.yml up -d redis)' },
  ];
}

export function reachable(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function missing(config: Config): Promise<Dependency[]> {
  const deps = dependencies(config);
  const up = await Promise.all(deps.map((d) => reachable(d.host, d.port)));
  return deps.filter((_, i) => !up[i]);
}

async function dockerEngineRuns(): Promise<boolean> {
  try {
    await exec('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure PostgreSQL, RabbitMQ and Redis answer. What is missing is started from
 * docker-compose.localstack.yml when a Docker engine runs (only those services); otherwise this
 * says what to start. Returns the configuration to run with: a broker started from compose is
 * administered through its management API.
 */
export async function ensureInfrastructure(config: Config, log: (line: string) => void): Promise<Config> {
  let absent = await missing(config);
  if (absent.length === 0) return config;
  const names = absent.map((d) => `${d.name} (${d.host}:${d.port})`).join(', ');
  if (!(await dockerEngineRuns())) {
    // Wait rather than give up: a service may be starting, or restarting, or about to be started.
    log(`waiting for ${names}; no Docker engine runs to start them. Start them yourself:`);
    for (const d of absent) log(`  ${d.name}: ${d.startHint}`);
    for (let pause = 1_000, since = Date.now(); (absent = await missing(config)).length > 0; pause = Math.min(pause * 2, 5_000)) {
      await new Promise((r) => setTimeout(r, pause));
      if (Date.now() - since > 30_000) {
        log(`still waiting for ${absent.map((d) => d.name).join(', ')}`);
        since = Date.now();
      }
    }
    log('all dependencies reachable');
    return config;
  }
  log(`not reachable: ${names}; starting them with docker compose (${path.basename(COMPOSE_FILE)})`);
  const services = absent.map((d) => d.composeService);
  await exec('docker', composeUpArgs(COMPOSE_FILE, services), { timeout: 300_000 });
  const deadline = Date.now() + 60_000;
  while ((absent = await missing(config)).length > 0) {
    if (Date.now() > deadline) throw new Error(`still not reachable after docker compose: ${absent.map((d) => d.name).join(', ')}`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
  if (!services.includes('rabbitmq') || config.rabbitmqManagementUrl) return config;
  // Also for the processes the runtime starts and the tools run against this broker.
  process.env[LOCAL_ENV.rabbitmqManagementUrl] = COMPOSE_RABBITMQ_MANAGEMENT_URL;
  return { ...config, rabbitmqManagementUrl: COMPOSE_RABBITMQ_MANAGEMENT_URL };
}
