/**
 * `npm run dev`: the whole EventFlow back end on this machine, running the same Lambda handlers
 * AWS runs, against real PostgreSQL, RabbitMQ and Redis.
 */
import { SIGN_IN_SCOPES } from '../shared/auth/dashboard-client';
import { getConfig } from '../shared/config';
import { dashboardOrigins, startIssuer } from './auth/issuer';
import { DEFAULT_OIDC_PORT, mintAccessToken } from './auth/tokens';
import { LOCAL_USERS } from './auth/users';
import { seedDemoCatalog } from './demo-catalog';
import { createConsole, consoleMode, isDebug, useColor } from './console/console';
import { startStatusLine } from './console/status';
import { IdentityError, keepRedisUsers } from './identities/provision';
import { dependencies, ensureInfrastructure } from './infra';
import { StartError, prepare } from './prepare';
import { startRuntime } from './runtime';
import { prepareDashboard, startDashboard } from './web-server';

// JSON lines off a terminal, exactly as on AWS; readable lines and a status line on one (local/console/).
const terminal = process.stdout.isTTY === true;
const output = createConsole({ mode: consoleMode(process.env, terminal), color: useColor(process.env, terminal), debug: isDebug(process.env) });
const { log, logError } = output;

async function main() {
  const ports = { HTTP_PORT: Number(process.env.HTTP_PORT ?? 3001), WS_PORT: Number(process.env.WS_PORT ?? 3005), OIDC_PORT: Number(process.env.OIDC_PORT ?? DEFAULT_OIDC_PORT), WEB_PORT: Number(process.env.WEB_PORT ?? 3000) };
  const portList = Object.entries(ports).map(([variable, port]) => ({ variable, port }));
  output.setAdviceContext({ services: [], ports: portList });
  const dashboard = prepareDashboard(log);
  output.setAdviceContext({ services: dependencies(await getConfig()), ports: portList });
  const config = await ensureInfrastructure(await getConfig(), log);
  await prepare(config, log);
  const redisUsers = keepRedisUsers(config, log);
  const host = process.env.HOST ?? '127.0.0.1';
  // The issuer listens first: the functions and gateways are told its URL.
  const issuer = await startIssuer({ host, port: ports.OIDC_PORT, log });
  const runtime = await startRuntime(config, {
    auth: { issuer: issuer.url, audience: issuer.clientId },
    host,
    httpPort: ports.HTTP_PORT,
    wsPort: ports.WS_PORT,
    wsIdleTimeoutSeconds: process.env.WS_IDLE_TIMEOUT_SECONDS ? Number(process.env.WS_IDLE_TIMEOUT_SECONDS) : undefined,
    wsMaxConnectionSeconds: process.env.WS_MAX_CONNECTION_SECONDS ? Number(process.env.WS_MAX_CONNECTION_SECONDS) : undefined,
    scheduleSeconds: process.env.SCHEDULE_SECONDS ? Number(process.env.SCHEDULE_SECONDS) : undefined,
    log,
    logError,
    observe: output.environmentOutput && {
      output: output.environmentOutput,
      refused: (why) => (why === 'throttled' ? output.throttled() : output.rateLimited()),
    },
  });
  // On a terminal, what the summarised lines stood for, every 10 s.
  const status = output.mode === 'pretty' ? startStatusLine({ config, environments: runtime.environments, takeCounters: output.takeCounters }, output.status) : null;
  if (process.env.SEED_DEMO !== 'false') {
    const operator = LOCAL_USERS.find((u) => u.role === 'operator')!;
    await seedDemoCatalog(runtime.httpUrl, await mintAccessToken({ sub: operator.sub, role: 'operator', issuer: issuer.url }), log);
  }
  const web = await startDashboard(dashboard, {
    host,
    apiUrl: runtime.httpUrl,
    wsUrl: runtime.wsUrl,
    auth: { authority: issuer.url, clientId: issuer.clientId, scope: SIGN_IN_SCOPES.oidc.join(' ') },
    log,
  });
  // The dashboard's sign-in returns to the origin it is served from.
  if (web) await issuer.allowDashboard(dashboardOrigins(web.url));

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: finishing batches in flight and shutting down`);
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    await web?.close();
    await status?.stop();
    await runtime.stop();
    await issuer.close();
    redisUsers.stop();
    log('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  if (web) log(`Dashboard  ${web.url}/`);
  log(`HTTP API   ${runtime.httpUrl}   (try: curl ${runtime.httpUrl}/health)`);
  log(`WebSocket  ${runtime.wsUrl}   (watch events live: npx wscat -c "${runtime.wsUrl}/?token=$(npm run -s token -- --user ops@eventflow.test)")`);
  log(`Issuer     ${issuer.url}   (OpenID Connect; users ${LOCAL_USERS.map((u) => u.email).join(', ')}; npm run token -- --user ops@eventflow.test)`);
  log(`namespace  ${config.namespace || '(none)'}; Ctrl-C to stop`);
  // One machine-readable line for tools that start the runtime (the test suite does).
  process.stdout.write(`EVENTFLOW_READY ${JSON.stringify({ httpUrl: runtime.httpUrl, wsUrl: runtime.wsUrl, webUrl: web?.url ?? null, issuerUrl: issuer.url, namespace: config.namespace })}\n`);
}

main().catch((err) => {
  // An identity that cannot do its work, or a database or broker step that failed, is said in one
  // line naming it and what to do; anything else with its stack.
  if (err instanceof IdentityError || err instanceof StartError) log(`cannot start: ${err.message}`);
  else logError('failed to start', err);
  process.exit(1);
});
