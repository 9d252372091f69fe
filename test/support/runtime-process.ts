import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { connectAmqp } from '../../shared/messaging/broker';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DEFAULTS, SERVICES, databaseName, resolveConfig } from '../../shared/config';
import { removeIdentities } from '../../local/identities/provision';
import { deleteTopology } from '../../functions/topology';
import { notificationKeys } from '../../functions/notification/redis-keys';
import { rateLimitPrefix } from '../../shared/http/rate-limits';

export interface TestSystem {
  httpUrl: string;
  wsUrl: string;
  /** The dashboard, when started with WEB_PORT set (it is "off" unless a test asks for it). */
  webUrl: string | null;
  /** The runtime's OpenID Connect issuer (its tokens open the APIs; test/support/auth.ts mints them). */
  issuerUrl: string;
  namespace: string;
  logFile: string;
}

/**
 * For the test runtimes: tests send bursts far past the local concurrency (50 orders at once,
 * the fuzz test's batches of 50, 16 orders into a runtime whose environments are still cold) on a
 * machine that test files share, and they check what the system does with requests, not how many
 * it takes at once. A wait for an environment longer than any test waits keeps throttling, a
 * capacity answer (test/integration/http-gateway.test.ts), out of them, and so does turning off the
 * gateway's per-route budgets, an answer of the edge (tested there too). Benchmarks keep the default wait.
 */
export const PATIENT_HTTP_ENV: Record<string, string> = { LOCAL_THROTTLE_WAIT_MS: '60000', LOCAL_ROUTE_THROTTLING: 'off' };

/**
 * How long a runtime may take to get ready before its start counts as failed: 90 s for one
 * starting alone; scripts/test-run.ts, which starts several at once on the same cores (one per
 * integration group and the browser tests'), gives each that much per runtime it starts together.
 */
const START_SECONDS = Number(process.env.TEST_RUNTIME_START_SECONDS) || 90;

export function freshNamespace(prefix = 't'): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * Starts the local runtime (`npm run dev`'s own entry point) as a child process in a namespace of
 * its own: its own databases, exchanges and queues, on free ports. stop() ends it and removes
 * everything it created, so runs never see each other's data.
 */
export async function startRuntimeProcess(opts: { namespace?: string; env?: Record<string, string>; netns?: string } = {}) {
  const namespace = opts.namespace ?? freshNamespace();
  const logFile = path.join(os.tmpdir(), `eventflow-${namespace}.log`);
  // Appended to: a runtime started again in the same namespace (after a kill) adds to the same log.
  const log = createWriteStream(logFile, { flags: 'a' });
  const root = path.resolve(import.meta.dirname, '../..');
  const command = [process.execPath, ...(process.env.RUNTIME_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', 'local/dev.ts'];
  // In a network namespace (the fault run's network cuts): `ip netns exec` execs node, so the pid is node's.
  if (opts.netns) command.unshift('ip', 'netns', 'exec', opts.netns);
  const child = spawn(command[0]!, command.slice(1), {
    cwd: root,
    env: {
      ...process.env,
      EVENTFLOW_NAMESPACE: namespace,
      HTTP_PORT: '0',
      WS_PORT: '0',
      OIDC_PORT: '0',
      WEB_PORT: 'off',
      SEED_DEMO: 'false',
      SCHEDULE_SECONDS: '2',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.pipe(log, { end: false });
  const lines = createInterface({ input: child.stdout });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000).unref())]);
      child.kill('SIGKILL');
    }
    lines.close();
    child.stdout.destroy();
    child.stderr.destroy();
    await dropNamespace(namespace);
    log.end();
  };
  try {
    const system = await new Promise<TestSystem>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`runtime did not start in ${START_SECONDS} s; see ${logFile}`)), START_SECONDS * 1000);
      timer.unref();
      child.once('exit', (code) => reject(new Error(`runtime exited with ${code} before it was ready; see ${logFile}`)));
      lines.on('line', (line) => {
        log.write(`${line}\n`);
        if (line.startsWith('EVENTFLOW_READY ')) {
          clearTimeout(timer);
          resolve({ ...JSON.parse(line.slice('EVENTFLOW_READY '.length)), logFile });
        }
      });
    });
    /** Ends the runtime with a signal (SIGKILL: as a crash would, mid-batch) and leaves its namespace in place. */
    const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
      lines.close();
      child.stdout.destroy();
      child.stderr.destroy();
      log.end();
    };
    return { system, stop, kill, pid: child.pid! };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Drops a namespace's databases, broker topology, Redis keys and identities (broker and Redis users, database roles). */
export async function dropNamespace(namespace: string) {
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl });
  await admin.connect();
  try {
    for (const s of SERVICES) await admin.query(`DROP DATABASE IF EXISTS "${databaseName(s, namespace)}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  const connection = await connectAmqp(process.env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl);
  try {
    await deleteTopology(connection, namespace);
  } finally {
    await connection.close();
  }
  const redis = new Redis(process.env.REDIS_URL ?? DEFAULTS.redisUrl);
  try {
    const keys = notificationKeys(namespace);
    const prefix = keys.connections.slice(0, keys.connections.lastIndexOf(':'));
    for (const match of [`${prefix}:*`, `${rateLimitPrefix(namespace)}*`]) {
      for await (const batch of redis.scanStream({ match, count: 500 })) {
        if ((batch as string[]).length) await redis.del(...(batch as string[]));
      }
    }
  } finally {
    redis.disconnect();
  }
  await removeIdentities(await resolveConfig({ ...process.env, EVENTFLOW_NAMESPACE: namespace }));
}
