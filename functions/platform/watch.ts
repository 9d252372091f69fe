/**
 * Every minute: each queue's depth and consumers (Amazon MQ for RabbitMQ 4 publishes no per-queue
 * metrics to CloudWatch, so they are read from the broker's management API) and the health of
 * each queue consumer's event source mapping, as CloudWatch metrics. The alarms on DLQ depth, on
 * a queue without its consumer and on an unhealthy mapping read these.
 */
import { getConfig } from '../../shared/config';
import { LAMBDA_ENV } from '../../shared/env';
import { createLogger } from '../../shared/logger';
import { getBroker } from '../../shared/messaging/broker';
import { DIMENSIONS, METRICS } from '../../shared/metric-names';
import { ManagementApi } from '../../shared/messaging/broker-admin';
import { queueStats } from '../../shared/messaging/queue-stats';
import { resolveTopology } from '../topology';
import { instrument, metrics, MetricUnit } from '../../shared/observability';
import { mappingsHealth, parseMappings } from './event-sources';

const logger = createLogger('platform');

function emit(dimension: string | undefined, value: string, name: string, amount: number, unit: (typeof MetricUnit)[keyof typeof MetricUnit] = MetricUnit.Count) {
  const m = metrics.singleMetric();
  if (dimension) m.addDimension(dimension, value);
  m.addMetric(name, unit, amount);
}

export const handler = instrument(async () => {
  const config = await getConfig();
  const names = resolveTopology(config.namespace).queues.map((q) => q.name);
  const stats = await queueStats(names, {
    managementUrl: config.rabbitmqManagementUrl,
    connection: async () => (await getBroker()).connection,
  });
  for (const q of stats) {
    emit(DIMENSIONS.queue, q.name, METRICS.queueDepth, q.messages);
    emit(DIMENSIONS.queue, q.name, METRICS.queueConsumers, q.consumers);
  }
  const missing = names.filter((n) => !stats.some((s) => s.name === n));
  if (missing.length > 0) logger.error('queues missing on the broker', { missing });

  // Node memory and resource alarms: only the management API has them (AWS, or a broker with the plugin).
  if (config.rabbitmqManagementUrl) {
    const nodes = await new ManagementApi(config.rabbitmqManagementUrl, '/').listNodes();
    emit(undefined, '', METRICS.brokerMemoryUsage, Math.max(0, ...nodes.map((n) => n.memoryUsage)), MetricUnit.NoUnit);
    emit(undefined, '', METRICS.brokerResourceAlarms, nodes.filter((n) => n.inAlarm).length);
    for (const n of nodes.filter((x) => x.inAlarm)) logger.error('broker node in a resource alarm', { node: n.name });
  }

  const mappings = await mappingsHealth(parseMappings(process.env[LAMBDA_ENV.eventSourceMappings]));
  for (const m of mappings) {
    emit(DIMENSIONS.mapping, m.functionId, METRICS.eventSourceHealthy, m.healthy ? 1 : 0);
    if (!m.healthy) logger.error('event source mapping unhealthy', { function: m.functionId, state: m.state, error: m.error });
  }
  const dlqs = stats.filter((s) => s.name.endsWith('.dlq') && s.messages > 0);
  if (dlqs.length > 0) logger.warn('dead-letter queues hold messages', { dlqs: dlqs.map((d) => `${d.name}=${d.messages}`) });
  return { queues: stats.length, mappings: mappings.length, unhealthy: mappings.filter((m) => !m.healthy).length };
});
