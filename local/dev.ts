/**
 * `npm run dev`: the whole EventFlow back end on this machine, running the same Lambda handlers
 * AWS runs, against real PostgreSQL, RabbitMQ and Redis.
 */
import { getConfig } from '../shared/config';
import { seedDemoCatalog } from './demo-catalog';
import { ensureInfrastructure } from './infra';
import { prepare } from './prepare';
import { startRuntime } from './runtime';
import { prepareDashboard, startDashboard } from './web-server';

const log = (line: string) => process.stderr.write(`[eventflow] ${line}\n`);
const logError = (line: string, err: unknown) =>
  process.stderr.write(`[eventflow] ${line}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);

async function main() {
  const dashboard = prepareDashboard(log);
  const config = await ensureInfrastructure(await getConfig(), log);
  await prepare(config, log);
  const runtime = await startRuntime(config, {
    host: process.env.HOST ?? '127.0.0.1',
    httpPort: Number(process.env.HTTP_PORT ?? 3001),
    wsPort: Number(process.env.WS_PORT ?? 3005),
    wsIdleTimeoutSeconds: process.env.WS_IDLE_TIMEOUT_SECONDS ? Number(process.env.WS_IDLE_TIMEOUT_SECONDS) : undefined,
    wsMaxConnectionSeconds: process.env.WS_MAX_CONNECTION_SECONDS ? Number(process.env.WS_MAX_CONNECTION_SECONDS) : undefined,
    scheduleSeconds: process.env.SCHEDULE_SECONDS ? Number(process.env.SCHEDULE_SECONDS) : undefined,
    log,
    logError,
  });
  if (process.env.SEED_DEMO !== 'false') await seedDemoCatalog(runtime.httpUrl, log);
  const web = await startDashboard(dashboard, { host: process.env.HOST ?? '127.0.0.1', apiUrl: runtime.httpUrl, wsUrl: runtime.wsUrl, log });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: finishing batches in flight and shutting down`);
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    await web?.close();
    await runtime.stop();
    log('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  if (web) log(`Dashboard  ${web.url}/`);
  log(`HTTP API   ${runtime.httpUrl}   (try: curl ${runtime.httpUrl}/health)`);
  log(`WebSocket  ${runtime.wsUrl}   (watch events live: npx wscat -c ${runtime.wsUrl})`);
  log(`namespace  ${config.namespace || '(none)'}; Ctrl-C to stop`);
  // One machine-readable line for tools that start the runtime (the test suite does).
  process.stdout.write(`EVENTFLOW_READY ${JSON.stringify({ httpUrl: runtime.httpUrl, wsUrl: runtime.wsUrl, webUrl: web?.url ?? null, namespace: config.namespace })}\n`);
}

main().catch((err) => {
  logError('failed to start', err);
  process.exit(1);
});
