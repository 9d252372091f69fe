/**
 * How many queue deliveries an order costs: every event the three services published (their
 * outboxes), routed through the topology the runtime declared, counted per queue it reaches.
 */
import type pg from 'pg';
import type { AnyEnvelope } from '../shared/events/envelope';
import { routingKeyOf } from '../shared/messaging/routing';
import { EXCHANGES, queuesReached } from '../shared/messaging/topology';
import { resolveTopology } from '../functions/topology';
import type { PartitionLayout } from '../functions/topology';
import { brokerName } from '../shared/config';

export interface DeliveryCount {
  orders: number;
  perOrder: number;
  /** Per order, by service queue (partitions added up) and by event type. */
  byQueue: Record<string, number>;
  byType: Record<string, number>;
}

export async function countDeliveries(
  db: { order: pg.Pool; payment: pg.Pool; inventory: pg.Pool },
  namespace: string,
  layout: PartitionLayout,
): Promise<DeliveryCount> {
  const topology = resolveTopology(namespace, layout);
  const byQueue = new Map<string, number>();
  const byType = new Map<string, number>();
  let total = 0;
  for (const service of ['order', 'payment', 'inventory'] as const) {
    const { rows } = await db[service].query<{ envelope: AnyEnvelope }>('SELECT envelope FROM outbox');
    for (const { envelope } of rows) {
      const queues = queuesReached(topology, brokerName(EXCHANGES[envelope.source], namespace), routingKeyOf(envelope));
      total += queues.length;
      byType.set(envelope.type, (byType.get(envelope.type) ?? 0) + queues.length);
      for (const q of queues) {
        const name = q.slice(namespace ? namespace.length + 1 : 0).replace(/\.p\d+$/, '');
        byQueue.set(name, (byQueue.get(name) ?? 0) + 1);
      }
    }
  }
  const { rows } = await db.order.query<{ n: number }>('SELECT count(*)::int AS n FROM orders');
  const orders = rows[0]!.n;
  const per = (m: Map<string, number>) => Object.fromEntries([...m].sort().map(([k, v]) => [k, orders ? Math.round((v / orders) * 100) / 100 : 0]));
  return { orders, perOrder: orders ? total / orders : 0, byQueue: per(byQueue), byType: per(byType) };
}
