/**
 * The faults, each injected once while orders flow. A fault resolves when what it broke is back
 * (the runtime restarted, the service started again, the burst confirmed by the broker); nothing
 * else is restarted for the runtime, which must find its connections again by itself.
 */
import type { ServiceId } from '../../scripts/private-stack';
import type { Violation } from '../invariants';
import { EXPECTED_WHILE_MISSING } from './health';
import type { HealthWatch } from './health';

export const FAULT_IDS = ['runtime-kill', 'rabbitmq-restart', 'postgres-restart', 'redis-stop', 'malformed-burst', 'payment-db-read-only'] as const;
export type FaultId = (typeof FAULT_IDS)[number];

export const FAULT_TITLES: Record<FaultId, string> = {
  'runtime-kill': 'runtime SIGKILL mid-batch, restarted',
  'rabbitmq-restart': 'RabbitMQ stopped and started',
  'postgres-restart': 'PostgreSQL crash (immediate stop), started',
  'redis-stop': 'Redis stopped and started',
  'malformed-burst': 'malformed and duplicated messages on every exchange',
  'payment-db-read-only': "payment's database read-only (a replica after a failover), then writable",
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
  note: string;
}

/** How long to wait for /health to report a stopped dependency (it probes with a 2 s timeout). */
const HEALTH_REPORT_WITHIN_MS = 30_000;

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
    note: `${service} away ${((restoredAt - startedAt) / 1000).toFixed(1)} s` + (reported ? `, /health said so after ${((reported - stoppedAt) / 1000).toFixed(1)} s` : ''),
  };
}

export async function injectFault(id: FaultId, ctx: FaultContext): Promise<FaultOutcome> {
  switch (id) {
    case 'runtime-kill': {
      const startedAt = Date.now();
      await ctx.killAndRestartRuntime();
      const restoredAt = Date.now();
      return { startedAt, restoredAt, violations: [], note: `runtime back after ${((restoredAt - startedAt) / 1000).toFixed(1)} s` };
    }
    case 'rabbitmq-restart':
      return stopAndStart(ctx, 'rabbitmq');
    case 'postgres-restart':
      return stopAndStart(ctx, 'postgres');
    case 'redis-stop':
      return stopAndStart(ctx, 'redis');
    case 'payment-db-read-only': {
      // The database answers, so /health stays ok: what shows is every write failing with 25006,
      // which the consumers ride out in place and then by redelivery (shared/messaging/errors.ts).
      const startedAt = Date.now();
      await ctx.setReadOnly('payment', true);
      await new Promise((r) => setTimeout(r, ctx.downMs));
      await ctx.setReadOnly('payment', false);
      const restoredAt = Date.now();
      return { startedAt, restoredAt, violations: [], note: `payment's database read-only for ${((restoredAt - startedAt) / 1000).toFixed(1)} s` };
    }
    case 'malformed-burst': {
      const startedAt = Date.now();
      const sent = await ctx.burst();
      const restoredAt = Date.now();
      return { startedAt, restoredAt, violations: [], note: `${sent.malformed} malformed, ${sent.duplicates} duplicated messages` };
    }
  }
}
