import { describe, expect, it } from 'vitest';
import { QUEUES } from '../../functions/subscriptions';
import { resolveTopology, partitionQueues } from '../../functions/topology';
import type { PartitionLayout } from '../../functions/topology';
import { MAX_PARTITIONS } from '../../shared/messaging/routing';
import { partitionNames } from '../../shared/messaging/topology';
import { planUpgrade } from '../../shared/messaging/upgrade';
import type { QueueBinding } from '../../shared/messaging/broker-admin';

const ns = 'ns';
const layoutOf = (n: number): PartitionLayout => ({ order: n, payment: n, inventory: n, notification: 1 });
const servicesOf = (layout: PartitionLayout) =>
  (Object.keys(QUEUES) as (keyof typeof QUEUES)[]).map((id) => {
    const everyLayout: string[] = [];
    for (let n = 1; n <= MAX_PARTITIONS; n *= 2) everyLayout.push(...partitionNames(QUEUES[id].name, n, ns));
    return { partitions: partitionQueues(id, ns, layout), everyLayout };
  });
const bindingsOf = (layout: PartitionLayout): QueueBinding[] => resolveTopology(ns, layout).bindings;

describe('planUpgrade', () => {
  it('has nothing to do when the broker already holds the topology', () => {
    const layout = layoutOf(2);
    expect(planUpgrade(resolveTopology(ns, layout), servicesOf(layout), new Set(), bindingsOf(layout))).toEqual({ unbind: [], moves: [] });
  });

  it("retires the earlier release's unpartitioned queues: their bindings go and their messages move to the new partitions", () => {
    const now = layoutOf(2);
    const existing = new Set(['ns.order_queue', 'ns.payment_queue', 'ns.inventory_queue']);
    // The earlier release bound the bare event type.
    const legacy: QueueBinding = { exchange: 'ns.order_exchange', queue: 'ns.payment_queue', routingKey: 'order.created' };
    const plan = planUpgrade(resolveTopology(ns, now), servicesOf(now), existing, [...bindingsOf(now), ...bindingsOf(layoutOf(1)), legacy]);
    expect(plan.moves).toEqual([
      { from: 'ns.order_queue', partitions: ['ns.order_queue.p0', 'ns.order_queue.p1'], retire: true },
      { from: 'ns.payment_queue', partitions: ['ns.payment_queue.p0', 'ns.payment_queue.p1'], retire: true },
      { from: 'ns.inventory_queue', partitions: ['ns.inventory_queue.p0', 'ns.inventory_queue.p1'], retire: true },
    ]);
    expect(plan.unbind).toContainEqual(legacy);
    expect(new Set(plan.unbind.map((b) => b.queue))).toEqual(existing);
    // notification_queue keeps its one partition and its bindings.
    expect(plan.unbind.some((b) => b.queue === 'ns.notification_queue')).toBe(false);
  });

  it('sorts again the partitions that stay when their count grows, and unbinds their old share', () => {
    const now = layoutOf(4);
    const plan = planUpgrade(resolveTopology(ns, now), servicesOf(now), new Set(), [...bindingsOf(layoutOf(2)), ...bindingsOf(now)]);
    expect(plan.moves.filter((m) => m.from.startsWith('ns.payment_queue'))).toEqual([
      { from: 'ns.payment_queue.p0', partitions: partitionQueues('payment', ns, now), retire: false },
      { from: 'ns.payment_queue.p1', partitions: partitionQueues('payment', ns, now), retire: false },
    ]);
    const wanted = new Set(bindingsOf(now).map((b) => JSON.stringify(b)));
    expect(plan.unbind.length).toBeGreaterThan(0);
    for (const b of plan.unbind) expect(wanted.has(JSON.stringify(b))).toBe(false);
  });

  it('retires the partitions beyond a smaller count and sorts the ones that stay', () => {
    const now = layoutOf(2);
    const existing = new Set(['ns.order_queue.p2', 'ns.order_queue.p3']);
    const plan = planUpgrade(resolveTopology(ns, now), servicesOf(now), existing, [...bindingsOf(layoutOf(4)), ...bindingsOf(now)]);
    const order = plan.moves.filter((m) => m.from.startsWith('ns.order_queue'));
    expect(order.map((m) => [m.from, m.retire])).toEqual([
      ['ns.order_queue.p0', false],
      ['ns.order_queue.p1', false],
      ['ns.order_queue.p2', true],
      ['ns.order_queue.p3', true],
    ]);
  });

  it("leaves other namespaces' queues and the default exchange alone", () => {
    const now = layoutOf(2);
    const other: QueueBinding[] = [
      { exchange: 'other.order_exchange', queue: 'other.payment_queue', routingKey: 'order.created' },
      { exchange: '', queue: 'ns.payment_queue.p0', routingKey: 'ns.payment_queue.p0' },
    ];
    expect(planUpgrade(resolveTopology(ns, now), servicesOf(now), new Set(), [...bindingsOf(now), ...other])).toEqual({ unbind: [], moves: [] });
  });
});
