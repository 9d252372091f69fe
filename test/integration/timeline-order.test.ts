import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIsolatedSystem } from '../support/isolated-system';
import type { IsolatedSystem } from '../support/isolated-system';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { instantOf } from '../../shared/events/history';
import { FUNCTIONS } from '../../functions/catalog';
import { resolveConfig } from '../../shared/config';
import { functionEnvironment } from '../../local/identities/environment';

/**
 * An order's timeline agrees with its status when a process emits a large batch and another acts
 * on one of its orders a moment later (the fault run's finding: CANCELLED, but the timeline told
 * the cancellation before the confirmation it cancelled). On a runtime of its own: the batch
 * confirms many orders at once, which the suite's other files should not see.
 */
const ORDERS = 500;
/** Events the batch's process emits just before it: 20 s of lead when times were pushed 1 ms per event. */
const LEAD_EVENTS = 20_000;
const ROOT = path.resolve(import.meta.dirname, '../..');

let sys: IsolatedSystem;
beforeAll(async () => {
  sys = await startIsolatedSystem();
}, 120_000);
afterAll(() => sys?.stop());

/** Runs the batch in a process of its own (test/fixtures/order-consumer-batch.ts), as the order consumer's environment. */
async function runBatch(orderIds: string[]): Promise<{ processed: number; finishedAt: number }> {
  // As the order consumer's own environment: its broker user, which the events it publishes name as their sender.
  const env = functionEnvironment(FUNCTIONS.find((f) => f.id === 'order-consumer')!, await resolveConfig({ ...process.env, EVENTFLOW_NAMESPACE: sys.namespace }));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/order-consumer-batch.ts', '--lead', String(LEAD_EVENTS)], {
      cwd: ROOT,
      env: { ...process.env, ...env, EVENTFLOW_NAMESPACE: sys.namespace, LOG_LEVEL: 'WARN' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`the batch process failed (${code}): ${err}${out}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!));
    });
    child.stdin.end(orderIds.join('\n'));
  });
}

/** Returns as soon as the batch has confirmed the order (polled every few milliseconds, not waitFor's 50). */
async function committed(orderId: string) {
  const deadline = Date.now() + 120_000;
  while (!(await sys.db('order').query(`SELECT 1 FROM orders WHERE id = $1 AND status = 'CONFIRMED'`, [orderId])).rowCount) {
    if (Date.now() > deadline) throw new Error('the batch never committed');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The order's own events in a timeline, each with the status it leaves the order in. */
function statusesTold(timeline: AnyEnvelope[]) {
  let status: string | null = null;
  const told: { type: string; previousStatus: string | null; status: string }[] = [];
  for (const e of timeline) {
    if (e.source !== 'order') continue;
    const d = e.data as { previousStatus?: string; status?: string };
    const next = e.type === 'order.created' ? 'PENDING' : e.type === 'order.cancelled' ? 'CANCELLED' : d.status!;
    told.push({ type: e.type, previousStatus: d.previousStatus ?? status, status: next });
    status = next;
  }
  return told;
}

describe("an order's timeline", () => {
  it('agrees with its status when a command follows a large batch in another process at once', async () => {
    const ids = Array.from({ length: ORDERS }, () => randomUUID());
    await sys.db('order').query(
      `INSERT INTO orders (id, customer_id, status, total_cents, currency, payment_token, correlation_id)
       SELECT id, gen_random_uuid(), 'PENDING', 100, 'USD', 'tok_visa', 'large-batch' FROM unnest($1::uuid[]) AS id`,
      [ids],
    );
    const last = ids.at(-1)!;

    const running = runBatch(ids);
    // Cancelled over HTTP, by the order-api's own process, the moment the batch has committed
    // (while it is still publishing what it emitted): within any lead its times might have taken.
    await committed(last);
    const cancelled = await sys.call('DELETE', `/orders/${last}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', version: 3 });
    const batch = await running;
    expect(batch.processed).toBe(ORDERS * 2);

    const timeline = (await sys.call('GET', `/orders/${last}/events`)).body.items as AnyEnvelope[];
    expect(statusesTold(timeline)).toEqual([
      { type: 'order.updated', previousStatus: 'PENDING', status: 'CONFIRMED' },
      { type: 'order.cancelled', previousStatus: 'CONFIRMED', status: 'CANCELLED' },
    ]);
    expect(timeline.map((e) => (e.data as { orderVersion: number }).orderVersion).filter((_, i) => timeline[i]!.source === 'order')).toEqual([2, 3]);
    // The confirmation comes after the payment that caused it.
    const confirmed = timeline.findIndex((e) => e.type === 'order.updated');
    expect(timeline.findIndex((e) => e.id === timeline[confirmed]!.causationId)).toBeLessThan(confirmed);
    expect((await sys.call('GET', `/orders/${last}`)).body.status).toBe('CANCELLED');

    // The batch's events are stamped with the clock, never ahead of it, however many it emitted.
    const { rows } = await sys.db('order').query<{ latest: string; n: number }>(
      `SELECT max(envelope->>'occurredAt') AS latest, count(*)::int AS n FROM outbox WHERE type = 'order.updated' AND order_id = ANY($1::uuid[])`,
      [ids],
    );
    expect(rows[0]!.n).toBe(ORDERS);
    expect(instantOf(rows[0]!.latest)).toBeLessThan((batch.finishedAt + 1) * 1000);

    // The others were confirmed by the batch, and their timelines say so.
    for (const id of ids.slice(-4, -1)) {
      const events = (await sys.call('GET', `/orders/${id}/events`)).body.items as AnyEnvelope[];
      expect(statusesTold(events).at(-1)).toEqual({ type: 'order.updated', previousStatus: 'PENDING', status: 'CONFIRMED' });
      expect((await sys.call('GET', `/orders/${id}`)).body.status).toBe('CONFIRMED');
    }
  });
});
