/**
 * One fault run: a private stack (scripts/private-stack.ts), the runtime on it in a namespace of
 * its own on fixed free ports (so that a restarted runtime answers where the load sends), the
 * product set, then for each fault a phase: load, the fault, more load, the drain, the checks.
 * Every wait is bounded; everything started is stopped and removed at the end.
 */
import { openSync, readSync, closeSync, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import WebSocket from 'ws';
import { mintAccessToken } from '../../local/auth/tokens';
import type { ChannelModel } from 'amqplib';
import pg from 'pg';
import { databaseName, withDatabase } from '../../shared/config';
import { LOCAL_ENV } from '../../shared/env';
import type { ServiceName } from '../../shared/config';
import { connectAmqp } from '../../shared/messaging/broker';
import { ManagementApi } from '../../shared/messaging/broker-admin';
import { brokerPolicies, parseBrokerVersion, policyPrefix } from '../../shared/messaging/policies';
import { deploymentLayout, resolveTopology } from '../../functions/topology';
import { refundKeyOf } from '../../functions/payment/domain/gateway';
import { freePort, startPrivateStack } from '../../scripts/private-stack';
import type { PrivateStack, ServiceId } from '../../scripts/private-stack';
import { freshNamespace, startRuntimeProcess } from '../../test/support/runtime-process';
import { drain } from '../drain';
import { readSnapshot, checkInvariants, readTimelineViolations } from '../invariants';
import type { Violation } from '../invariants';
import { startLoad } from '../load';
import type { Load } from '../load';
import { UNTHROTTLED_ENV } from '../../shared/http/rate-limits';
import { benchAccess } from '../access';
import { createProductSet } from '../products';
import type { ProductSet } from '../products';
import { within } from '../run';
import { p99OrNull } from '../stats';
import { apiFetch } from '../http';
import type { ChaosOptions } from './args';
import { readDeadLetters, sendBurst } from './burst';
import { placeDatabaseOnSmallDisk } from './disk';
import { cpuByPart, overloadFigures, rssOfTreeMiB } from './overload';
import { startSampler } from '../sampler';
import { checkDeadLetters, checkDeadlines, checkGatewayBooks, checkPolicies, checkReservationsOnce, checkStatusHistory, tally } from './checks';
import type { DeadlineCancellation, GatewayOperation, PaymentRecord, SentMalformed, StatusChange } from './checks';
import { FAULT_TITLES, NETWORK_FAULTS, injectFault } from './faults';
import { startRuntimeNetwork } from './network';
import type { FaultId, FaultOutcome } from './faults';
import { healthTimeline, isOk, startHealthWatch } from './health';
import type { HealthWatch } from './health';

export interface PhaseResult {
  fault: FaultId;
  title: string;
  /** Orders the API accepted (201) during the phase, and POSTs that got anything else. */
  accepted: number;
  postErrors: number;
  /** POSTs refused at once with 503 (throttled, a dependency unavailable, the broker blocking publishers). */
  refused: number;
  /** p99 of the accepted POSTs' answer times (POST to 201, ms): what the fault cost the ones taken. */
  acceptedPostP99Ms: number | null;
  /** The POSTs that got no 201, by answer ("POST 503", "POST timeout", "POST error ECONNREFUSED"). */
  postOutcomes: Record<string, number>;
  lost: number;
  duplicated: number;
  /** Every rule broken for the first time after this phase (lost and duplicated included). */
  violations: number;
  /** How long what the fault broke was away, and how long after its return until /health said ok and an order placed after it had settled. */
  downSeconds: number;
  /** How long after the fault took hold /health named it (null for faults it is not to name). */
  detectSeconds: number | null;
  recoverySeconds: number | null;
  drainSeconds: number;
  drained: boolean;
  note: string;
  /** What /health said from the fault on (healthTimeline). */
  health: string;
  examples: Violation[];
}

export interface ChaosReport {
  kind: 'eventflow-chaos';
  startedAt: string;
  finishedAt: string;
  options: ChaosOptions;
  phases: PhaseResult[];
  /** The machine, and its load average (1 min) at the start and at the end: other work on it shows here. */
  machine: { cores: number; loadAtStart: number; loadAtEnd: number };
  ok: boolean;
}

export interface ChaosHooks {
  log: (line: string) => void;
  /** Registers what to run on Ctrl-C; returns its removal. */
  registerCleanup?: (fn: () => Promise<void>) => () => void;
}

/** The saga's deadline in the run (the default, named here so that the check can hold the runtime to it). */
const ORDER_DEADLINE_SECONDS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const TERMINAL_STATUSES = ['CONFIRMED', 'FAILED', 'CANCELLED'];

/** Retries fn (a connection to a service that may be restarting) until it works or ms have passed. */
async function retrying<T>(what: string, fn: () => Promise<T>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`);
      await sleep(500);
    }
  }
}

function servicePools(databaseServerUrl: string, namespace: string): Record<ServiceName, pg.Pool> {
  const pool = (s: ServiceName) => {
    const p = new pg.Pool({ connectionString: withDatabase(databaseServerUrl, databaseName(s, namespace)), max: 2, statement_timeout: 60_000, connectionTimeoutMillis: 10_000 });
    // An idle client whose server restarted: the pool drops it and opens another on the next query.
    p.on('error', () => undefined);
    return p;
  };
  return { order: pool('order'), payment: pool('payment'), inventory: pool('inventory') };
}

/** Everything the run checks, from the databases, the inventory API and the broker. */
async function readViolations(opts: {
  pools: Record<ServiceName, pg.Pool>;
  amqp: ChannelModel;
  namespace: string;
  httpUrl: string;
  accepted: string[];
  products: ProductSet;
  malformed: SentMalformed[];
  /** The private node's management API, where the runtime sets its policies. */
  managementUrl: string;
}): Promise<Violation[]> {
  const { pools } = opts;
  const [snapshot, history, payments, operations, reservations, parked] = await Promise.all([
    readSnapshot({ ...pools, httpUrl: opts.httpUrl }),
    pools.order.query<StatusChange>(
      `SELECT order_id AS "orderId", envelope->'data'->>'previousStatus' AS previous,
              CASE WHEN type = 'order.cancelled' THEN 'CANCELLED' ELSE envelope->'data'->>'status' END AS status
         FROM outbox WHERE type IN ('order.updated', 'order.cancelled') ORDER BY seq`,
    ),
    pools.payment.query<PaymentRecord>('SELECT id, order_id AS "orderId", status FROM payments'),
    pools.payment.query<GatewayOperation>('SELECT idempotency_key AS key, kind, succeeded FROM gateway.operations'),
    pools.inventory.query<{ orderId: string }>('SELECT order_id AS "orderId" FROM reservations'),
    readDeadLetters(opts.amqp, opts.namespace),
  ]);
  const deadlineCancellations = await pools.order.query<DeadlineCancellation>(
    // By the database's clock (each event's outbox row), not the events' own times: those are the
    // clocks of the processes that wrote them, which the clock-skew fault moves.
    `SELECT o.id AS "orderId",
            extract(epoch FROM (SELECT max(x.created_at) FROM outbox x WHERE x.order_id = o.id AND x.type = 'order.cancelled')
                             - (SELECT min(x.created_at) FROM outbox x WHERE x.order_id = o.id AND x.type = 'order.created'))::float8 AS seconds
       FROM orders o WHERE o.status = 'CANCELLED' AND o.failure_reason LIKE 'timed out%'`,
  );
  const version = parseBrokerVersion(String(opts.amqp.connection.serverProperties.version ?? ''));
  const wantedPolicies = brokerPolicies(resolveTopology(opts.namespace, deploymentLayout()), opts.namespace, version);
  const appliedPolicies = (await new ManagementApi(opts.managementUrl, '/').listPolicies()).filter((p) => p.name.startsWith(policyPrefix(opts.namespace)));
  const inFlight = payments.rows
    .filter((p) => p.status === 'CHARGING' || p.status === 'REFUNDING')
    .map((p) => ({ rule: 'every payment intent is settled', subject: p.orderId, detail: `still ${p.status}` }));
  // Every order's timeline, as GET /orders/{id}/events tells it, against its status.
  const timelines = await readTimelineViolations(pools.order, snapshot.orders);
  return [
    ...checkInvariants(snapshot, { acceptedOrderIds: opts.accepted, initialStock: opts.products.initialStock }),
    ...timelines,
    ...checkStatusHistory(history.rows),
    ...checkGatewayBooks(operations.rows, payments.rows, refundKeyOf),
    ...inFlight,
    ...checkReservationsOnce(reservations.rows),
    ...checkDeadlines(deadlineCancellations.rows, ORDER_DEADLINE_SECONDS),
    ...checkDeadLetters(parked, opts.malformed),
    ...checkPolicies(wantedPolicies, appliedPolicies),
  ];
}

export async function runChaos(opts: ChaosOptions, hooks: ChaosHooks): Promise<ChaosReport> {
  const { log } = hooks;
  const startedAt = new Date();
  const loadAtStart = os.loadavg()[0]!;
  const savedEnv = { ...process.env };
  const cleanups: (() => Promise<void>)[] = [];
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      for (const fn of cleanups.reverse()) await within(fn(), 90_000, 'a cleanup step').catch((err) => log(`  cleanup: ${String(err)}`));
      for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
      Object.assign(process.env, savedEnv);
    })());
  const unregister = hooks.registerCleanup?.(cleanup);
  try {
    log('starting a PostgreSQL, RabbitMQ and Redis of its own…');
    const stack: PrivateStack = await startPrivateStack();
    cleanups.push(() => stack.close());
    // The runtime inherits this environment; this process's own clients use it too.
    Object.assign(process.env, stack.env);
    log(`private stack in ${stack.dir}: ${Object.values(stack.env).join(', ')}`);

    const namespace = freshNamespace('chaos');
    // Fixed ports, so that the runtime restarted after the kill is where the load generator is, and its
    // issuer keeps the URL the tokens name (the signing key is kept in the local cache across restarts).
    const [httpPort, wsPort, oidcPort] = [await freePort(), await freePort(), await freePort()];
    const runtimeEnv: Record<string, string> = {
      HTTP_PORT: String(httpPort),
      WS_PORT: String(wsPort),
      OIDC_PORT: String(oidcPort),
      // One address and one operator offer every customer's orders: the per-principal limits would throttle them.
      ...UNTHROTTLED_ENV,
      SCHEDULE_SECONDS: '2',
      [LOCAL_ENV.orderDeadlineSeconds]: String(ORDER_DEADLINE_SECONDS),
      // An intent left CHARGING by the kill is settled 10 s after its last change rather than 30 s.
      PAYMENT_SETTLE_AFTER_SECONDS: '10',
      // The burst asks how the edge answers under overload: on AWS API Gateway refuses on capacity
      // of its own; here the gateway is given the CPU before the environments (local/lambda.ts).
      ...(opts.faults.includes('tenfold-burst') ? { LOCAL_ENVIRONMENT_NICE: '10' } : {}),
    };
    // The payment database on a small disk of its own, made before the runtime adopts it.
    const paymentDisk = opts.faults.includes('payment-disk-full')
      ? await placeDatabaseOnSmallDisk({ databaseUrl: stack.env.DATABASE_URL, database: databaseName('payment', namespace) })
      : null;
    if (paymentDisk) cleanups.push(() => paymentDisk.close());
    // The network faults cut the runtime's link to its services: the runtime runs in a network
    // namespace of the run's own for the whole run, and reaches its services through the link.
    const network = opts.faults.some((f) => NETWORK_FAULTS[f] !== undefined)
      ? await startRuntimeNetwork(stack, (serverUrl) => withDatabase(serverUrl, databaseName('payment', namespace)))
      : null;
    if (network) {
      cleanups.push(() => network.close());
      Object.assign(runtimeEnv, network.env, { HOST: network.runtimeHost });
      log(`the runtime's network: namespace ${network.netns}, the runtime at ${network.runtimeHost}, its services through the link's other end`);
    }
    log(`starting the runtime in namespace ${namespace}`);
    const startRuntime = (env: Record<string, string>) => startRuntimeProcess({ namespace, env, netns: network?.netns });
    let runtime = await startRuntime(runtimeEnv);
    cleanups.push(() => runtime.stop());
    const { httpUrl } = runtime.system;
    const access = await benchAccess(runtime.system);
    log(`runtime at ${httpUrl}; log in ${runtime.system.logFile}`);

    /** Ends the runtime (SIGKILL: a crash mid-batch; SIGTERM: a deploy) and starts it again in its namespace, with `env` added. */
    const restartRuntime = async (signal: 'SIGKILL' | 'SIGTERM', env: Record<string, string> = {}) => {
      await runtime.kill(signal);
      const extra = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ');
      log(`  runtime ${signal === 'SIGKILL' ? 'killed' : 'stopped'}; starting it again${extra ? ` with ${extra}` : ''}`);
      runtime = await startRuntime({ ...runtimeEnv, ...env });
    };

    const pools = servicePools(stack.env.DATABASE_URL, namespace);
    cleanups.push(async () => void (await Promise.all(Object.values(pools).map((p) => p.end()))));
    const products = await createProductSet(httpUrl, access.headers, pools.order, { plentiful: 20, plentifulStock: 1_000_000, scarce: 3, scarceStock: 20 });

    const accepted: string[] = [];
    const malformed: SentMalformed[] = [];
    const reported = new Set<string>();
    const phases: PhaseResult[] = [];

    /** What every load of the run shares: the API, the WebSocket watcher, the products and the mix. */
    const loadBase = { httpUrl, wsUrl: access.wsUrl, auth: access.headers, wsClients: 1, wsSubscribe: true, products, mix: opts.mix, warmupSeconds: 0, requestTimeoutMs: opts.requestTimeoutMs };

    for (const [index, fault] of opts.faults.entries()) {
      log(`\n[${index + 1}/${opts.faults.length}] ${FAULT_TITLES[fault]}: ${opts.rate} orders/s`);
      const health: HealthWatch = startHealthWatch(httpUrl);
      let load: Load | undefined;
      try {
        load = await retrying('connecting the load generator', () =>
          startLoad({
            ...loadBase,
            mode: { kind: 'open', ratePerSec: opts.rate },
            // Offered until stopped below.
            seconds: 24 * 3600,
            httpConnections: opts.httpConnections,
            settleWaitMs: 60_000,
            seed: opts.seed + index,
          }),
        );
        await sleep((opts.seconds * 1000) / 3);
        const outcome: FaultOutcome = await injectFault(fault, {
          stop: (s: ServiceId) => stack.stop(s, { immediate: s === 'postgres' }),
          start: (s: ServiceId) => stack.start(s),
          restartRuntime: (env) => restartRuntime('SIGTERM', env),
          async connectsWithTokenFor(seconds) {
            const token = await mintAccessToken({ sub: randomUUID(), role: 'operator', issuer: runtime.system.issuerUrl, expiresInSeconds: seconds });
            return webSocketOpens(`${runtime.system.wsUrl}/?token=${encodeURIComponent(token)}`);
          },
          killAndRestartRuntime: () => restartRuntime('SIGKILL'),
          async setReadOnly(service, readOnly) {
            const admin = new pg.Client({ connectionString: stack.env.DATABASE_URL });
            await admin.connect();
            try {
              const db = databaseName(service, namespace);
              await admin.query(readOnly ? `ALTER DATABASE "${db}" SET default_transaction_read_only = on` : `ALTER DATABASE "${db}" RESET default_transaction_read_only`);
              await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db]);
            } finally {
              await admin.end();
            }
          },
          fillPaymentDisk() {
            if (!paymentDisk) throw new Error('the payment database is not on a small disk');
            return paymentDisk.fill();
          },
          freePaymentDisk: () => paymentDisk?.free(),
          async readPayments() {
            const res = await apiFetch(`${httpUrl}/payments?limit=5`, { auth: access.headers, timeoutMs: 10_000 });
            await res.arrayBuffer();
            return res.status;
          },
          runtimeLog: logWatch(runtime.system.logFile),
          async overload() {
            const rate = opts.ceiling * 10;
            const seconds = opts.burstSeconds;
            // The steady pace: the orders of the 10 s before the burst (the phase's first seconds may meet cold environments).
            const burstFrom = performance.now(); // the load's clock (bench/load.ts)
            const steadyBefore = load!.records.filter((r) => r.postOutcome !== undefined && r.startedAt >= burstFrom - 10_000);
            const rssBeforeMiB = rssOfTreeMiB(runtime.pid);
            let rssPeakMiB = rssBeforeMiB;
            const sampling = setInterval(() => (rssPeakMiB = Math.max(rssPeakMiB, rssOfTreeMiB(runtime.pid))), 1_000);
            // Where the CPU goes while the burst lasts (the bench's sampler: per process, grouped).
            const samplerAmqp = await connectAmqp(stack.env.RABBITMQ_URL);
            samplerAmqp.on('error', () => undefined);
            const sampler = await startSampler({ namespace, amqp: samplerAmqp, databaseServerUrl: stack.env.DATABASE_URL, ownServerPids: () => stack.pids() });
            const burst = await startLoad({
              ...loadBase,
              mode: { kind: 'open', ratePerSec: rate },
              seconds,
              // A connection per request the burst may have in flight (the rate times the 10 s
              // bound would be 15,000): without enough, requests wait in the generator's own queue
              // and time out there, which says nothing about the system.
              httpConnections: Math.min(4_000, rate * 2),
              settleWaitMs: 90_000,
              seed: opts.seed + 1_000,
            });
            try {
              await burst.done;
              const cpuCores = cpuByPart(await sampler.stop());
              const deadline = Date.now() + 90_000;
              while (burst.unsettled() > 0 && Date.now() < deadline) await sleep(500);
              accepted.push(...burst.acceptedIds());
              const figures = overloadFigures({ burst: burst.records, steadyBefore, seconds, burstEndedAt: burst.measureTo, rssBeforeMiB, rssPeakMiB, cpuCores });
              return { figures, rate, seconds };
            } finally {
              clearInterval(sampling);
              await sampler.stop().catch(() => undefined);
              await samplerAmqp.close().catch(() => undefined);
              await burst.stop();
            }
          },
          rabbitmqctl: (args) => stack.rabbitmqctl(args),
          network,
          async burst() {
            const sent = await retrying('sending the burst', () =>
              sendBurst({ rabbitmqUrl: stack.env.RABBITMQ_URL, namespace, db: pools, perExchange: opts.malformedPerExchange, duplicates: opts.duplicatesPerService, firstMark: malformed.length }),
            );
            malformed.push(...sent.malformed);
            return { malformed: sent.malformed.length, duplicates: sent.duplicates };
          },
          health,
          downMs: opts.downSeconds * 1000,
          log,
        });
        log(`  ${outcome.note}`);
        const recovery = measureRecovery(health, pools.order, outcome.restoredAt);
        await sleep((opts.seconds * 2000) / 3);
        await load.stopOffering();
        const sent = load.records.length;
        const phaseAccepted = load.acceptedIds();
        accepted.push(...phaseAccepted);
        log(`  offered ${sent} orders, ${phaseAccepted.length} accepted; draining`);

        const amqp = await retrying('connecting to RabbitMQ', () => connectAmqp(stack.env.RABBITMQ_URL));
        amqp.on('error', () => undefined);
        try {
          const drained = await drain({ namespace, amqp, db: pools, timeoutMs: opts.drainTimeoutSeconds * 1000, stallMs: Math.min(opts.drainTimeoutSeconds, 120) * 1000 });
          if (!drained.quiet) log(`  drain gave up: ${drained.reason}`);
          const { healthOkMs, settledMs } = await recovery;
          const recoveryMs = healthOkMs === null || settledMs === null ? null : Math.max(healthOkMs, settledMs);
          // Compensations may still be on their way once the queues first look empty: look again a while.
          let violations: Violation[] = [];
          const deadline = Date.now() + (drained.quiet ? 60_000 : 0);
          for (;;) {
            violations = await retrying('reading the databases and the broker', () =>
              readViolations({ pools, amqp, namespace, httpUrl, accepted, products, malformed, managementUrl: stack.env.RABBITMQ_MANAGEMENT_URL }),
            );
            if (violations.length === 0 || Date.now() >= deadline) break;
            await sleep(2_000);
          }
          violations.push(...outcome.violations);
          const fresh = violations.filter((v) => !reported.has(`${v.rule}|${v.subject}`));
          for (const v of fresh) reported.add(`${v.rule}|${v.subject}`);
          const t = tally(fresh);
          const phase: PhaseResult = {
            fault,
            title: FAULT_TITLES[fault],
            accepted: phaseAccepted.length,
            postErrors: load.records.filter((r) => r.postOutcome !== 201).length,
            refused: load.records.filter((r) => r.postOutcome === 503).length,
            acceptedPostP99Ms: p99OrNull(load.records.filter((r) => r.postOutcome === 201 && r.postMs !== undefined).map((r) => r.postMs!)),
            postOutcomes: Object.fromEntries(Object.entries(load.counters.http).filter(([k]) => k.startsWith('POST ') && k !== 'POST 201')),
            lost: t.lost,
            duplicated: t.duplicated,
            violations: fresh.length,
            downSeconds: (outcome.restoredAt - outcome.startedAt) / 1000,
            detectSeconds: outcome.detectSeconds,
            recoverySeconds: recoveryMs === null ? null : recoveryMs / 1000,
            drainSeconds: drained.ms / 1000,
            drained: drained.quiet,
            note: outcome.note,
            health: healthTimeline(health.samples, outcome.startedAt),
            examples: fresh.slice(0, 20),
          };
          phases.push(phase);
          log(
            `  drained in ${phase.drainSeconds.toFixed(1)} s; after the fault, /health ok in ${healthOkMs === null ? '—' : (healthOkMs / 1000).toFixed(1)} s, ` +
              `the first new order settled in ${settledMs === null ? '—' : (settledMs / 1000).toFixed(1)} s; ` +
              `${phase.violations === 0 ? 'every check holds' : `${phase.violations} VIOLATIONS (${phase.lost} lost, ${phase.duplicated} duplicated)`}`,
          );
          log(`  /health from the fault on: ${phase.health}`);
          if (phase.acceptedPostP99Ms !== null) log(`  accepted POSTs answered within ${Math.round(phase.acceptedPostP99Ms)} ms (p99)`);
          if (phase.postErrors > 0) log(`  POSTs without a 201: ${Object.entries(phase.postOutcomes).map(([k, n]) => `${n} × ${k.slice(5)}`).join(', ')}`);
          for (const v of fresh.slice(0, 10)) log(`    ${v.rule}: ${v.subject} (${v.detail})`);
        } finally {
          await amqp.close().catch(() => undefined);
        }
      } finally {
        await health.stop();
        await load?.stop();
      }
    }
    const ok = phases.every((p) => p.violations === 0 && p.drained);
    const machine = { cores: os.availableParallelism(), loadAtStart, loadAtEnd: os.loadavg()[0]! };
    return { kind: 'eventflow-chaos', startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), options: opts, phases, machine, ok };
  } finally {
    await cleanup();
    unregister?.();
  }
}

/**
 * From the moment what a fault broke is back: until /health says ok and an order placed after
 * that moment has reached CONFIRMED, FAILED or CANCELLED (ms each), null for what did not happen within two minutes.
 */
async function measureRecovery(health: HealthWatch, orderDb: pg.Pool, since: number): Promise<{ healthOkMs: number | null; settledMs: number | null }> {
  const deadline = since + 120_000;
  const healthy = health.waitFor(isOk, since, 120_000);
  let settledAt: number | null = null;
  while (settledAt === null && Date.now() < deadline) {
    try {
      // Placed and settled by the database's clock (the outbox rows of order.created and of the
      // event that ended the order), which no function's clock moves.
      const { rows } = await orderDb.query<{ at: number | null }>(
        `SELECT (extract(epoch FROM min(s.created_at)) * 1000)::float8 AS at
           FROM outbox c JOIN outbox s ON s.order_id = c.order_id
          WHERE c.type = 'order.created' AND c.created_at >= to_timestamp($1::float8 / 1000)
            AND (s.type = 'order.cancelled' OR (s.type = 'order.updated' AND s.envelope->'data'->>'status' = ANY($2::text[])))`,
        [since, TERMINAL_STATUSES],
      );
      settledAt = rows[0]?.at ?? null;
    } catch {
      // the database may still be coming back
    }
    if (settledAt === null) await sleep(250);
  }
  const ok = await healthy;
  return { healthOkMs: ok === null ? null : ok - since, settledMs: settledAt === null ? null : settledAt - since };
}

/** A log file that grows: its end now, and when a line matching `re` first appears past an offset. */
function logWatch(file: string) {
  const end = () => statSync(file).size;
  return {
    end,
    async waitFor(re: RegExp, from: number, ms: number): Promise<number | null> {
      const deadline = Date.now() + ms;
      let offset = from;
      let tail = '';
      while (Date.now() < deadline) {
        const size = end();
        if (size > offset) {
          const buf = Buffer.alloc(size - offset);
          const fd = openSync(file, 'r');
          try {
            readSync(fd, buf, 0, buf.length, offset);
          } finally {
            closeSync(fd);
          }
          offset = size;
          tail = (tail + buf.toString('utf8')).slice(-1_000_000);
          if (re.test(tail)) return Date.now();
        }
        await sleep(200);
      }
      return null;
    },
  };
}

/**
 * Whether a WebSocket connection to `url` opens: 'open', 'refused <status>' when the handshake is
 * answered with an HTTP status (the authorizer's 401), else what went wrong (a timeout, an error).
 */
function webSocketOutcome(url: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const done = (outcome: string) => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      resolve(outcome);
    };
    const timer = setTimeout(() => done('no answer in 10 s'), 10_000);
    ws.once('open', () => done('open'));
    ws.once('unexpected-response', (_req, res) => done(`refused ${res.statusCode}`));
    ws.once('error', (err) => done(`error ${err.message}`));
  });
}

/**
 * Tries a connection until it opens or is refused (a verdict on the token), for up to 60 s: a
 * runtime just restarted may still be starting the functions' environments.
 */
async function webSocketOpens(url: string): Promise<{ open: boolean; outcome: string }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const outcome = await webSocketOutcome(url);
    if (outcome === 'open' || outcome.startsWith('refused 4') || Date.now() > deadline) return { open: outcome === 'open', outcome };
    await sleep(1_000);
  }
}
