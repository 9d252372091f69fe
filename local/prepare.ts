import { connectAmqp } from '../shared/messaging/broker';
import { SERVICES, brokerAccess } from '../shared/config';
import type { Config } from '../shared/config';
import { migrateService } from '../shared/db/migrate';
import { declareTopology } from '../shared/messaging/topology';

/** Databases and schemas of every service, then the broker topology. Idempotent; run on every start. */
export async function prepare(config: Config, log: (line: string) => void): Promise<void> {
  for (const service of SERVICES) {
    const applied = await migrateService(service, config.databaseUrls[service], { tls: config.databaseTls });
    if (applied.length) log(`${service}: applied migrations ${applied.join(', ')}`);
  }
  const connection = await connectAmqp(config.rabbitmqUrl);
  try {
    const channel = await connection.createChannel();
    const topology = await declareTopology(channel, config.namespace, brokerAccess(config));
    log(`broker topology: ${topology.exchanges.length} exchanges, ${topology.queues.length} queues, ${topology.bindings.length} bindings`);
  } finally {
    await connection.close();
  }
}
