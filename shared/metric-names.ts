/**
 * The custom metrics EventFlow publishes (CloudWatch namespace below, embedded metric format), by
 * name and dimensions: the functions that emit them and the CDK app's alarms and dashboard both
 * read this. Powertools adds the `service` dimension (the catalog service) to every metric.
 */
export const METRICS_NAMESPACE = 'EventFlow';

export const METRICS = {
  /** platform-watch, per queue: ready + unacknowledged messages. Dimensions: service=platform, queue. */
  queueDepth: 'QueueDepth',
  /** platform-watch, per queue: consumers attached (a work queue's event source mapping is one). */
  queueConsumers: 'QueueConsumers',
  /** platform-watch, per queue consumer: 1 when its event source mapping is enabled and well. Dimensions: service=platform, function. */
  eventSourceHealthy: 'EventSourceHealthy',
  /** order-metrics: orders that reached an outcome in a minute. Dimensions: service=order, outcome. */
  ordersSettled: 'OrdersSettled',
  /** order-metrics: milliseconds from creation to CONFIRMED or FAILED. Dimensions: service=order, outcome. */
  sagaLatency: 'SagaLatency',
} as const;

export const DIMENSIONS = { queue: 'queue', function: 'function', outcome: 'outcome' } as const;

/** Saga outcomes counted by order-metrics. */
export const OUTCOMES = ['CONFIRMED', 'FAILED', 'CANCELLED'] as const;
export type Outcome = (typeof OUTCOMES)[number];
