/**
 * The faults, each injected once while orders flow. A fault resolves when what it broke is back
 * (the runtime restarted, the service started again, the burst confirmed by the broker); nothing
 * else is restarted for the runtime, which must find its connections again by itself.
 */
import { LOCAL_ENV } from '../../shared/env';
import type { ServiceId } from '../../scripts/private-stack';
import type { Violation } from '../invariants';
import { EXPECTED_WHILE_BLOCKED, EXPECTED_WHILE_MISSING, EXPECTED_WHILE_READ_ONLY, EXPECTED_WHILE_UNREACHABLE } from './health';
import type { HealthExpectation, HealthWatch } from './health';
import { judgeOverload } from './overload';
import type { OverloadFigures } from './overload';
import type { NetworkTarget, RuntimeNetwork } from './network';

/** The faults that cut or slow the runtime's link to its services: the run puts the runtime in a network namespace for them. */
export const NETWORK_FAULTS: Partial<Record<FaultId, NetworkTarget | 'slow'>> = {
  'network-cut-broker': 'broker',
  'network-cut-payment-db': 'payment-db',
  'network-cut-redis': 'redis',
  'network-slow': 'slow',
};

/** The slow link: as `tc netem delay 200ms loss 5%` on the runtime's end would make it. */
export const SLOW_LINK = { delayMs: 200, lossPercent: 5 };

export const FAULT_IDS = [
  'runtime-kill',
  'rabbitmq-restart',
  'postgres-restart',
  'redis-stop',
  'malformed-burst',
  'payment-db-read-only',
  'payment-disk-full',
  'clock-skew',
  'network-cut-broker',
  'network-cut-payment-db',
  'network-cut-redis',
  'network-slow',
  'broker-alarm',
  'tenfold-burst',
] as const;
export type FaultId = (typeof FAULT_IDS)[number];

export const FAULT_TITLES: Record<FaultId, string> = {
  'runtime-kill': 'runtime SIGKILL mid-batch, restarted',
  'rabbitmq-restart': 'RabbitMQ stopped and started',
  'postgres-restart': 'PostgreSQL crash (immediate stop), started',
  'redis-stop': 'Redis stopped and started',
  'malformed-burst': 'malformed and duplicated messages on every exchange',
  'payment-db-read-only': "payment's database read-only (a replica after a failover), then writable",
  'payment-disk-full': "payment's database disk full (writes fail, reads go on), then space freed",
  'clock-skew': 'clocks of half the functions 5 minutes ahead or behind, then right again',
  'network-cut-broker': "every packet between the runtime and RabbitMQ dropped, then the link healed",
  'network-cut-payment-db': "every packet between the runtime and payment's database dropped (the other databases answer), then healed",
  'network-cut-redis': 'every packet between the runtime and Redis dropped, then the link healed',
  'network-slow': "200 ms added to everything the runtime sends its services and 5 % of its packets lost, then healed",
  'broker-alarm': 'RabbitMQ memory alarm (publishers blocked), then cleared',
  'tenfold-burst': 'ten times the ceiling offered on top of the steady load',
};

/**
 * The clocks moved in the clock-skew fault (local/clock-skew.ts), in seconds: the command APIs 5
 * minutes behind (the orders they place are stamped in the past, which a deadline read by their
 * stamps would cancel at once), a consumer on the payment side, the deadline and settlement sweeps,
 * the WebSocket authorizer and the notifier 5 minutes ahead, while their counterparts keep the
 * right time: every comparison of one process's time with another's meets a 5-minute difference.
 */
export const SKEWED_CLOCKS: Readonly<Record<string, number>> = {
  'order-api': -300,
  'inventory-api': -300,
  'payment-consumer': 300,
  'order-deadlines': 300,
  'payment-reconciler': 300,
  'notification-authorizer': 300,
  'notification-consumer': 300,
};

export interface FaultContext {
  stop(service: ServiceId): Promise<void>;
  start(service: ServiceId): Promise<void>;
  /** SIGKILLs the runtime and starts it again in the same namespace, on the same ports. */
  killAndRestartRuntime(): Promise<void>;
  /** Sends the malformed and duplicated messages; returns how many of each. */
  burst(): Promise<{ malformed: number; duplicates: number }>;
  /**
   * Makes a service's database refuse writes (every transaction read-only) or take them again,
   * ending its sessions so that every connection opened from then on is so, as a failover does.
   */
  setReadOnly(service: 'payment', readOnly: boolean): Promise<void>;
  /** Fills, or frees, the small filesystem that holds the payment database (bench/chaos/disk.ts). */
  fillPaymentDisk(): number;
  freePaymentDisk(): void;
  /** Reads through the payment API; returns the HTTP status. */
  readPayments(): Promise<number>;
  /** The runtime's log: where it ends now, and when a line matching `re` appeared after that. */
  runtimeLog: { end(): number; waitFor(re: RegExp, from: number, ms: number): Promise<number | null> };
  /** Stops the runtime (SIGTERM, as a deploy does) and starts it again with these variables added. */
  restartRuntime(env: Record<string, string>): Promise<void>;
  /** Whether the WebSocket API takes a connection whose token expires in `seconds`, and what it answered. */
  connectsWithTokenFor(seconds: number): Promise<{ open: boolean; outcome: string }>;
  /** Offers ten times the ceiling for a while on top of the steady load, and measures (bench/chaos/overload.ts). */
  overload(): Promise<{ figures: OverloadFigures; rate: number; seconds: number }>;
  /** Runs rabbitmqctl against the private node (its memory high watermark set at run time). */
  rabbitmqctl(args: string[]): Promise<string>;
  /** The runtime's link to its services (bench/chaos/network.ts), when the run has network faults. */
  network: Pick<RuntimeNetwork, 'cut' | 'degrade' | 'heal'> | null;
  health: HealthWatch;
  /** At least this long a stopped service stays stopped. */
  downMs: number;
  log: (line: string) => void;
}

export interface FaultOutcome {
  /** When the fault began and when what it broke was back. */
  startedAt: number;
  restoredAt: number;
  /** Health answers that did not say what they should have while a dependency was missing. */
  violations: Violation[];
  /** How long after the fault took hold /health named it (null: it was not to, or never did). */
  detectSeconds: number | null;
  note: string;
}

/** How long to wait for /health to report a stopped dependency (it probes with a 2 s timeout). */
const HEALTH_REPORT_WITHIN_MS = 30_000;

/** The default memory high watermark, which the private node runs with (scripts/private-stack.ts). */
const DEFAULT_MEMORY_WATERMARK = '0.4';
/** A watermark far below what any node uses: the memory alarm goes off at once, and every publisher is blocked. */
const ALARM_WATERMARK = '0.0001';

/** Waits until /health says what `expected` wants from `since`; a violation when it never does. */
async function healthSays(ctx: FaultContext, expected: HealthExpectation, since: number, subject: string, what: string): Promise<{ at: number | null; violations: Violation[] }> {
  const at = await ctx.health.waitFor(expected, since, Math.max(ctx.downMs, HEALTH_REPORT_WITHIN_MS));
  if (at !== null) return { at, violations: [] };
  const last = ctx.health.samples.at(-1);
  return {
    at,
    violations: [{ rule: 'health reports a missing dependency', subject, detail: `while ${what}, /health never said so; last answer: ${last ? JSON.stringify(last.body) : 'none'}` }],
  };
}

/**
 * Holds a fault for ctx.downMs after it began, while checking that /health names it, then undoes it.
 * Returns when it began, when it was undone, what /health failed to say, and how soon it said it.
 */
async function holdFault(ctx: FaultContext, f: { begin(): Promise<void>; end(): Promise<void>; expected: HealthExpectation; subject: string; what: string }) {
  const startedAt = Date.now();
  await f.begin();
  const begun = Date.now();
  const said = await healthSays(ctx, f.expected, begun, f.subject, f.what);
  await new Promise((r) => setTimeout(r, begun + ctx.downMs - Date.now()));
  await f.end();
  const restoredAt = Date.now();
  const detected = said.at === null ? '' : `, /health said so after ${((said.at - begun) / 1000).toFixed(1)} s`;
  return { startedAt, restoredAt, violations: said.violations, detected, detectSeconds: said.at === null ? null : (said.at - begun) / 1000 };
}

async function stopAndStart(ctx: FaultContext, service: ServiceId): Promise<FaultOutcome> {
  const startedAt = Date.now();
  await ctx.stop(service);
  const stoppedAt = Date.now();
  const reported = await ctx.health.waitFor(EXPECTED_WHILE_MISSING[service], stoppedAt, Math.max(ctx.downMs, HEALTH_REPORT_WITHIN_MS));
  const violations: Violation[] = [];
  if (reported === null) {
    const last = ctx.health.samples.at(-1);
    violations.push({
      rule: 'health reports a missing dependency',
      subject: service,
      detail: `while ${service} was stopped, /health never said so; last answer: ${last ? JSON.stringify(last.body) : 'none'}`,
    });
  }
  const remaining = stoppedAt + ctx.downMs - Date.now();
  if (remaining > 0) await new Promise((r) => setTimeout(r, remaining));
  await ctx.start(service);
  const restoredAt = Date.now();
  return {
    startedAt,
    restoredAt,
    violations,
    detectSeconds: reported === null ? null : (reported - stoppedAt) / 1000,
    note: `${service} away ${((restoredAt - startedAt) / 1000).toFixed(1)} s` + (reported ? `, /health said so after ${((reported - stoppedAt) / 1000).toFixed(1)} s` : ''),
  };
}

export async function injectFault(id: FaultId, ctx: FaultContext): Promise<FaultOutcome> {
  switch (id) {
    case 'runtime-kill': {
      const startedAt = Date.now();
      await ctx.killAndRestartRuntime();
      const restoredAt = Date.now();
      return { startedAt, restoredAt, violations: [], detectSeconds: null, note: `runtime back after ${((restoredAt - startedAt) / 1000).toFixed(1)} s` };
    }
    case 'rabbitmq-restart':
      return stopAndStart(ctx, 'rabbitmq');
    case 'postgres-restart':
      return stopAndStart(ctx, 'postgres');
    case 'redis-stop':
      return stopAndStart(ctx, 'redis');
    case 'payment-db-read-only': {
      // The database answers but takes no writes: /health names it; every write fails with 25006,
      // which the consumers ride out in place and then by redelivery (shared/messaging/errors.ts).
      const f = await holdFault(ctx, {
        begin: () => ctx.setReadOnly('payment', true),
        end: () => ctx.setReadOnly('payment', false),
        expected: EXPECTED_WHILE_READ_ONLY('payment'),
        subject: 'postgres payment',
        what: "payment's database was read-only",
      });
      return { startedAt: f.startedAt, restoredAt: f.restoredAt, violations: f.violations, detectSeconds: f.detectSeconds, note: `payment's database read-only for ${((f.restoredAt - f.startedAt) / 1000).toFixed(1)} s${f.detected}` };
    }
    case 'broker-alarm': {
      // The node blocks every connection that publishes (https://www.rabbitmq.com/docs/memory):
      // commands get 503 with Retry-After, what committed waits in the outboxes, /health names it.
      const f = await holdFault(ctx, {
        begin: async () => void (await ctx.rabbitmqctl(['set_vm_memory_high_watermark', ALARM_WATERMARK])),
        end: async () => void (await ctx.rabbitmqctl(['set_vm_memory_high_watermark', DEFAULT_MEMORY_WATERMARK])),
        expected: EXPECTED_WHILE_BLOCKED,
        subject: 'rabbitmq',
        what: 'the broker was in a memory alarm',
      });
      return { startedAt: f.startedAt, restoredAt: f.restoredAt, violations: f.violations, detectSeconds: f.detectSeconds, note: `memory alarm for ${((f.restoredAt - f.startedAt) / 1000).toFixed(1)} s${f.detected}` };
    }
    case 'payment-disk-full': {
      // The database answers and reads, but no write that needs a new page succeeds (53100): the
      // consumers wait in place with the batch (an infrastructure error, not a poison message), so
      // nothing reaches a DLQ, and apply it once space is back. /health cannot see a full disk
      // without writing to it; the consumers' own warning is the detection (on AWS, the
      // FreeStorageSpace alarm, lib/monitoring.ts).
      const startedAt = Date.now();
      const from = ctx.runtimeLog.end();
      const bytes = ctx.fillPaymentDisk();
      const begun = Date.now();
      const noticed = ctx.runtimeLog.waitFor(/No space left on device/, from, Math.max(ctx.downMs, HEALTH_REPORT_WITHIN_MS));
      const violations: Violation[] = [];
      await new Promise((r) => setTimeout(r, ctx.downMs / 2));
      const read = await ctx.readPayments();
      if (read !== 200) violations.push({ rule: 'reads go on while writes fail', subject: 'payment', detail: `GET /payments answered ${read} while its disk was full` });
      const at = await noticed;
      if (at === null) violations.push({ rule: 'a full disk is noticed', subject: 'payment', detail: 'no write failed with "No space left on device" while the disk was full' });
      await new Promise((r) => setTimeout(r, begun + ctx.downMs - Date.now()));
      ctx.freePaymentDisk();
      const restoredAt = Date.now();
      const detected = at === null ? '' : `, the first write refused after ${((at - begun) / 1000).toFixed(1)} s`;
      return {
        startedAt,
        restoredAt,
        violations,
        detectSeconds: at === null ? null : (at - begun) / 1000,
        note: `payment's disk full (${(bytes / 2 ** 20).toFixed(0)} MiB of filler) for ${((restoredAt - startedAt) / 1000).toFixed(1)} s${detected}; GET /payments answered ${read}`,
      };
    }
    case 'clock-skew': {
      // Deadlines and settlement sweeps compare database times with the database's clock, an
      // order's history is ordered by its versions and causes, not by clocks (docs/decisions.md,
      // "Time"): none of it may notice. The checks after the drain include the timelines, and that
      // no order was cancelled before its deadline.
      const startedAt = Date.now();
      await ctx.restartRuntime({ [LOCAL_ENV.clockSkew]: Object.entries(SKEWED_CLOCKS).map(([f, seconds]) => `${f}=${seconds}`).join(',') });
      const begun = Date.now();
      const violations: Violation[] = [];
      // A token with 10 minutes left is good to an authorizer 5 minutes ahead (60 s leeway).
      const ws = await ctx.connectsWithTokenFor(600);
      if (!ws.open) {
        violations.push({ rule: 'token expiry holds with a skewed clock', subject: 'notification-authorizer', detail: `a token with 10 minutes left, to an authorizer 5 minutes ahead: ${ws.outcome}` });
      }
      await new Promise((r) => setTimeout(r, begun + ctx.downMs - Date.now()));
      await ctx.restartRuntime({});
      const restoredAt = Date.now();
      return {
        startedAt,
        restoredAt,
        violations,
        detectSeconds: null,
        note: `${Object.keys(SKEWED_CLOCKS).length} functions' clocks 5 minutes off for ${((restoredAt - startedAt) / 1000).toFixed(1)} s (two graceful restarts of the runtime)`,
      };
    }
    case 'network-cut-broker':
    case 'network-cut-payment-db':
    case 'network-cut-redis': {
      // Dropped, not refused: nothing tells the runtime, which must notice by its own timeouts and
      // heartbeats that its connections are dead, answer meanwhile without hanging, and find its
      // way back once the link heals.
      const network = ctx.network;
      if (!network) throw new Error('the network faults need the runtime in a network namespace');
      const target = NETWORK_FAULTS[id] as NetworkTarget;
      const what = { broker: ['rabbitmq', EXPECTED_WHILE_MISSING.rabbitmq], 'payment-db': ['postgres payment', EXPECTED_WHILE_UNREACHABLE('payment')], redis: ['redis', EXPECTED_WHILE_MISSING.redis] } as const;
      const [subject, expected] = what[target];
      const f = await holdFault(ctx, {
        begin: async () => network.cut(target),
        end: async () => network.heal(),
        expected,
        subject,
        what: `the link to ${subject} was cut`,
      });
      return { startedAt: f.startedAt, restoredAt: f.restoredAt, violations: f.violations, detectSeconds: f.detectSeconds, note: `link to ${subject} cut for ${((f.restoredAt - f.startedAt) / 1000).toFixed(1)} s${f.detected}` };
    }
    case 'network-slow': {
      // Slow is not down: /health is not to name anything, and orders go on settling, later.
      const network = ctx.network;
      if (!network) throw new Error('the network faults need the runtime in a network namespace');
      const startedAt = Date.now();
      network.degrade(SLOW_LINK);
      await new Promise((r) => setTimeout(r, ctx.downMs));
      network.heal();
      const restoredAt = Date.now();
      return { startedAt, restoredAt, violations: [], detectSeconds: null, note: `${SLOW_LINK.delayMs} ms added and ${SLOW_LINK.lossPercent} % lost for ${((restoredAt - startedAt) / 1000).toFixed(1)} s` };
    }
    case 'tenfold-burst': {
      const startedAt = Date.now();
      const { figures: f, rate, seconds } = await ctx.overload();
      const restoredAt = Date.now();
      const ms = (x: number | null) => (x === null ? '—' : `${Math.round(x)} ms`);
      return {
        startedAt,
        restoredAt,
        violations: judgeOverload(f),
        detectSeconds: null,
        note:
          `${rate}/s offered for ${seconds} s: ${f.accepted} accepted (${f.acceptedPerSec.toFixed(0)}/s), ${f.refused} refused with 503 (p99 ${ms(f.refusedP99Ms)}), ` +
          `${f.otherErrors} other errors; accepted p99 POST→final ${ms(f.acceptedSettleP99Ms)} against ${ms(f.steadySettleP99Ms)} steady; ` +
          `backlog gone ${f.backlogGoneSeconds === null ? 'never' : `${f.backlogGoneSeconds.toFixed(1)} s`} after; runtime RSS ${f.rssBeforeMiB.toFixed(0)} → peak ${f.rssPeakMiB.toFixed(0)} MiB` +
          (f.cpuCores ? `; busy cores during it: ${Object.entries(f.cpuCores).filter(([, c]) => c >= 0.01).map(([part, c]) => `${part} ${c.toFixed(2)}`).join(', ')}` : ''),
      };
    }
    case 'malformed-burst': {
      const startedAt = Date.now();
      const sent = await ctx.burst();
      const restoredAt = Date.now();
      return { startedAt, restoredAt, violations: [], detectSeconds: null, note: `${sent.malformed} malformed, ${sent.duplicates} duplicated messages` };
    }
  }
}
