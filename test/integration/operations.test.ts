import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, brokerName } from '../../shared/config';
import { connectAmqp } from '../../shared/messaging/broker';
import { routingKeyFor } from '../../shared/messaging/routing';
import { EXCHANGES, dlqOf } from '../../shared/messaging/topology';
import { QUEUES, QUEUE_IDS } from '../../functions/topology';
import { startIsolatedSystem } from '../support/isolated-system';
import type { IsolatedSystem } from '../support/isolated-system';
import { OPERATOR } from '../support/auth';

let sys: IsolatedSystem;
let namespace: string;

beforeAll(async () => {
  sys = await startIsolatedSystem();
  namespace = sys.namespace;
});
afterAll(() => sys?.stop());

/** An order event whose data is invalid: the order consumer parks it in order_queue.dlq with its reason. */
async function publishInvalid(orderId: string) {
  const body = { id: randomUUID(), type: 'inventory.reserved', version: 1, occurredAt: new Date().toISOString(), source: 'inventory', correlationId: 'ops-test', causationId: null, data: { orderId } };
  await sys.publishAs('inventory', brokerName(EXCHANGES.inventory, namespace), routingKeyFor('inventory.reserved', orderId), JSON.stringify(body));
  return body.id;
}

/** The redrive entries of the order service's audit trail, oldest first. */
async function redrives() {
  const { rows } = await sys.db('order').query("SELECT * FROM audit_log WHERE 'order_queue' = ANY(targets) ORDER BY at, seq");
  return rows as { route: string; subject: string; role: string; targets: string[]; source: string; status: number | null; change: unknown; correlation_id: string }[];
}

async function purgeDlq(queue: 'order') {
  const connection = await connectAmqp(process.env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl);
  try {
    await (await connection.createChannel()).purgeQueue(dlqOf(brokerName(QUEUES[queue].name, namespace)));
  } finally {
    await connection.close();
  }
}

describe('operators\' queue routes', () => {
  it('lists every service queue of the topology with its depth, consumers, partitions and DLQ, without the namespace', async () => {
    const res = await sys.call('GET', '/queues');
    expect(res.status).toBe(200);
    expect(res.body.queues.map((q: { name: string }) => q.name)).toEqual(QUEUE_IDS.map((id) => QUEUES[id].name));
    for (const q of res.body.queues) {
      expect(q.consumers).toBeGreaterThan(0);
      expect(q.partitions.length).toBeGreaterThan(0);
      expect(q.deadLetter).toEqual({ name: `${q.name}.dlq`, depth: 0 });
      expect(JSON.stringify(q)).not.toContain(namespace);
    }
  });

  it('shows a parked message with its reason, leaves it in place, and redrives it (where it is parked again)', async () => {
    const orderId = randomUUID();
    const messageId = await publishInvalid(orderId);
    await sys.until(async () => (await sys.dlqDepth('order')) === 1, 'the invalid event to be parked');

    const listed = await sys.call('GET', '/queues');
    expect(listed.body.queues.find((q: { name: string }) => q.name === 'order_queue').deadLetter.depth).toBe(1);

    const letters = await sys.call('GET', '/queues/order_queue/dead-letters');
    expect(letters.status).toBe(200);
    expect(letters.body).toMatchObject({ queue: 'order_queue', deadLetterQueue: 'order_queue.dlq', depth: 1, truncated: false });
    expect(letters.body.messages).toEqual([
      { messageId, eventType: 'inventory.reserved', orderId, reason: expect.stringMatching(/invalid/i), parkedAt: expect.any(String) },
    ]);
    expect(Date.now() - Date.parse(letters.body.messages[0].parkedAt)).toBeLessThan(60_000);
    // Reading took nothing away.
    expect(await sys.dlqDepth('order')).toBe(1);

    const redriven = await sys.call('POST', '/queues/order_queue/redrive');
    expect(redriven.status).toBe(200);
    // Exactly what the DLQ held when it began: a copy parked again while it runs waits for the next one.
    expect(redriven.body).toEqual({ queue: 'order_queue', deadLetterQueue: 'order_queue.dlq', moved: 1 });
    // Still invalid: the consumer parks it again, with its reason.
    await sys.until(async () => (await sys.dlqDepth('order')) === 1, 'the redriven event to be parked again');
    const again = await sys.call('GET', '/queues/order_queue/dead-letters');
    expect(again.body.messages.map((m: { orderId: string }) => m.orderId)).toEqual([orderId]);

    // Audited in the order service's database: an entry before the first message moved, then the outcome.
    const entries = await redrives();
    expect(entries.map((e) => [e.route, e.status, e.change])).toEqual([
      ['POST /queues/{queue}/redrive', null, null],
      ['POST /queues/{queue}/redrive', 200, { moved: 1 }],
    ]);
    for (const e of entries) expect(e).toMatchObject({ subject: OPERATOR.sub, role: 'operator', targets: ['order_queue'], source: expect.stringMatching(/127\.0\.0\.1|::1/) });
    expect(entries[0]!.correlation_id).toBe(entries[1]!.correlation_id);
    const trail = await sys.call('GET', '/audit?target=order_queue');
    expect(trail.body.items.map((e: { status: number | null; service: string }) => [e.status, e.service])).toEqual([
      [200, 'order'],
      [null, 'order'],
    ]);
  });

  it('npm run dlq -- redrive is audited as the person EVENTFLOW_OPERATOR names, from this machine; an empty DLQ moves and records nothing', async () => {
    await sys.until(async () => (await sys.dlqDepth('order')) === 1, 'the message parked by the test before');
    const before = (await redrives()).length;
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'local/dlq.ts', ...args], {
        cwd: path.resolve(import.meta.dirname, '../..'),
        env: { ...process.env, EVENTFLOW_NAMESPACE: namespace, EVENTFLOW_OPERATOR: 'night-shift@example.com' },
      });
    const { stdout } = await cli('redrive', 'order_queue');
    expect(stdout).toMatch(/moved 1 message\(s\)/);
    const entries = (await redrives()).slice(before);
    expect(entries.map((e) => [e.route, e.subject, e.role, e.status, e.change])).toEqual([
      ['CLI dlq redrive', 'night-shift@example.com', 'operator', null, null],
      ['CLI dlq redrive', 'night-shift@example.com', 'operator', 200, { moved: 1 }],
    ]);
    expect(entries[0]!.source).toBe(`cli@${hostname()}`);

    // Parked again; take it away for good, then redrive the empty DLQ: nothing moved, nothing recorded.
    await sys.until(async () => (await sys.dlqDepth('order')) === 1, 'the redriven event to be parked again');
    await purgeDlq('order');
    const empty = await sys.call('POST', '/queues/order_queue/redrive');
    expect(empty.body.moved).toBe(0);
    expect(await cli('redrive', 'order_queue')).toMatchObject({ stdout: expect.stringMatching(/moved 0 message/) });
    expect((await redrives()).length).toBe(before + 2);
  });

  it('answers an unknown queue or a bad limit with a problem naming what is wrong', async () => {
    const unknown = await sys.call('POST', '/queues/no_such_queue/redrive');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toMatch(/no queue no_such_queue; the queues are order_queue, /);
    const dlqName = await sys.call('GET', '/queues/order_queue.dlq/dead-letters');
    expect(dlqName.status).toBe(404);
    const limit = await sys.call('GET', '/queues/order_queue/dead-letters?limit=0');
    expect(limit.status).toBe(400);
    expect(limit.body.errors[0].pointer).toBe('/limit');
  });
});

describe('GET /stats/orders', () => {
  it('counts the last hour of orders by outcome, with revenue and settle times, up to its cut', async () => {
    const before = await sys.call('GET', '/stats/orders');
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ inFlight: { total: 0, orders: [] }, perSecond: [], perMinute: [] });

    const product = await sys.call('POST', '/products', { sku: `S-${randomUUID().slice(0, 8)}`, name: 'Stats lamp', priceCents: 2500, stock: 10 });
    await sys.until(async () => (await sys.db('order').query('SELECT 1 FROM catalog_products WHERE id = $1', [product.body.id])).rowCount, 'the catalog copy');
    const order = (token: string) => sys.call('POST', '/orders', { customerId: randomUUID(), items: [{ productId: product.body.id, quantity: 2 }], paymentToken: token });
    const ok = await order('tok_visa');
    const declined = await order('tok_chargeDeclined');
    for (const o of [ok, declined]) {
      await sys.until(async () => ['CONFIRMED', 'FAILED'].includes((await sys.call('GET', `/orders/${o.body.id}`)).body.status), 'the order to settle');
    }
    // Events younger than the cut (5 s) are left to the client; wait until these are older.
    await new Promise((r) => setTimeout(r, 5_500));
    const after = await sys.call('GET', '/stats/orders');
    const sum = (rows: Record<string, any>[], key: string) => rows.reduce((n, r) => n + r[key], 0);
    for (const series of [after.body.perMinute, after.body.perSecond]) {
      expect(sum(series, 'placed')).toBe(2);
      expect(sum(series, 'confirmed')).toBe(1);
      expect(sum(series, 'failed')).toBe(1);
      expect(sum(series, 'revenueCents')).toBe(5000);
      const settled = series.flatMap((r: { settle: Record<string, number> }) => Object.values(r.settle)).reduce((a: number, b: number) => a + b, 0);
      expect(settled).toBe(2);
    }
    expect(after.body.inFlight.total).toBe(0);
    expect(Date.parse(after.body.asOf)).toBeLessThan(Date.now() - 4_000);
  });
});
