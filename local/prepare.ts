import { connectAmqp } from '../shared/messaging/broker';
import { SERVICES, brokerAccess } from '../shared/config';
import type { Config } from '../shared/config';
import { migrateService } from '../shared/db/migrate';
import { declareTopology } from '../shared/messaging/topology';
import { localLayout } from './layout';

/** Databases and schemas of every service, then the broker topology. Idempotent; run on every start. */
export async function prepare(config: Config, log: (line: string) => void): Promise<void> {
  for (const service of SERVICES) {
    const applied = await migrateService(service, config.databaseUrls[service], { tls: config.databaseTls });
    if (applied.length) log(`${service}: applied migrations ${applied.join(', ')}`);
  }
  const connection = await connectAmqp(config.rabbitmqUrl);
  try {
    const topology = await declareTopology(connection, config.namespace, localLayout(), brokerAccess(config));
    log(`broker topology: ${topology.exchanges.length} exchanges, ${topology.queues.length} queues, ${topology.bindings.length} bindings`);
    if (topology.retired.length) log(`retired the partitions of an earlier layout: ${topology.retired.join(', ')}`);
    for (const { queue, messages } of topology.stranded) {
      log(`WARNING: ${queue} belongs to an earlier partition layout and still holds ${messages} message(s); move them with: npm run dlq -- drain ${queue}`);
    }
  } finally {
    await connection.close();
  }
}
