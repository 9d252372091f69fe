/**
 * Every minute: how many orders reached an outcome in the minute that just ended, and how long
 * their saga took (creation to CONFIRMED or FAILED), as CloudWatch metrics. Read from the order
 * database, the system of record, so every order counts once whatever the queues did.
 *
 * An outcome is counted when it happened within the saga's horizon (the deadline plus a margin
 * after creation): a confirmed order a customer cancels days later is not a saga outcome.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { getConfig } from '../../shared/config';
import { getPool, type Queryable } from '../../shared/db/pool';
import { DIMENSIONS, METRICS, METRICS_NAMESPACE, OUTCOMES, type Outcome } from '../../shared/metric-names';
import { instrument, MetricUnit } from '../../shared/observability';

const HORIZON_MARGIN_SECONDS = 600;

export interface SettledOrders {
  counts: Record<Outcome, number>;
  /** Milliseconds from creation to the outcome; CANCELLED has none (the deadline sets it). */
  latencies: { CONFIRMED: number[]; FAILED: number[] };
}

/** Orders whose status became an outcome in [from, to). */
export async function settledOrders(db: Queryable, from: Date, to: Date, deadlineSeconds: number): Promise<SettledOrders> {
  const { rows } = await db.query<{ status: Outcome; ms: number }>(
    `SELECT status, (extract(epoch FROM updated_at - created_at) * 1000)::float8 AS ms
       FROM orders
      WHERE status = ANY($1::text[])
        AND created_at >= $2::timestamptz - make_interval(secs => $4::int)
        AND updated_at >= $2 AND updated_at < $3`,
    [OUTCOMES, from, to, deadlineSeconds + HORIZON_MARGIN_SECONDS],
  );
  const result: SettledOrders = { counts: { CONFIRMED: 0, FAILED: 0, CANCELLED: 0 }, latencies: { CONFIRMED: [], FAILED: [] } };
  for (const r of rows) {
    result.counts[r.status]++;
    if (r.status !== 'CANCELLED') result.latencies[r.status].push(Math.round(r.ms));
  }
  return result;
}

/** The whole minute before `now`. */
export function previousMinute(now: Date): { from: Date; to: Date } {
  const to = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
  return { from: new Date(to.getTime() - 60_000), to };
}

export const handler = instrument(async () => {
  const { orderDeadlineSeconds } = await getConfig();
  const { from, to } = previousMinute(new Date());
  const settled = await settledOrders(await getPool('order'), from, to, orderDeadlineSeconds);
  for (const outcome of OUTCOMES) {
    // One metrics object per outcome: its dimension holds for every value it publishes.
    const m = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'order', defaultDimensions: { [DIMENSIONS.outcome]: outcome } });
    m.setTimestamp(from);
    m.addMetric(METRICS.ordersSettled, MetricUnit.Count, settled.counts[outcome]);
    // Individual values, so CloudWatch can give percentiles; Powertools flushes every 100.
    if (outcome !== 'CANCELLED') for (const ms of settled.latencies[outcome]) m.addMetric(METRICS.sagaLatency, MetricUnit.Milliseconds, ms);
    m.publishStoredMetrics();
  }
  return { from: from.toISOString(), ...settled.counts };
});
