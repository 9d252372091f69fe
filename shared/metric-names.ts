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
  /** platform-watch, per event source mapping: 1 when it is enabled and well. Dimensions: service=platform, mapping (the consumer's catalog id, -p<i> per partition). */
  eventSourceHealthy: 'EventSourceHealthy',
  /** platform-watch: the highest memory use of a broker node as a fraction of its high watermark. Dimensions: service=platform. */
  brokerMemoryUsage: 'BrokerMemoryUsage',
  /** platform-watch: broker nodes in a memory or disk alarm (publishers blocked). Dimensions: service=platform. */
  brokerResourceAlarms: 'BrokerResourceAlarms',
  /** order-metrics: orders that reached an outcome in a minute. Dimensions: service=order, outcome. */
  ordersSettled: 'OrdersSettled',
  /** order-metrics: milliseconds from creation to CONFIRMED or FAILED. Dimensions: service=order, outcome. */
  sagaLatency: 'SagaLatency',
} as const;

export const DIMENSIONS = { queue: 'queue', mapping: 'mapping', outcome: 'outcome' } as const;

/** Saga outcomes counted by order-metrics. */
export const OUTCOMES = ['CONFIRMED', 'FAILED', 'CANCELLED'] as const;
export type Outcome = (typeof OUTCOMES)[number];
