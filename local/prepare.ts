import { connectAmqp } from '../shared/messaging/broker';
import { SERVICES, brokerAccess } from '../shared/config';
import type { Config } from '../shared/config';
import { migrateService } from '../shared/db/migrate';
import { isTransient } from '../shared/messaging/errors';
import { declareTopology, deploymentLayout } from '../functions/topology';
import { IdentityError, provisionBrokerUsers, provisionDatabases, provisionRedisUsers } from './identities/provision';
import { databaseUrlOf } from './identities/urls';

/**
 * The identities of every function (local/identities/), the databases and schemas of every
 * service (each migrated as the role that owns it), then the broker topology (as the broker's
 * administrator, the only user that may declare it). Idempotent; run on every start. A dependency
 * still starting up ("the database system is starting up", a broker not accepting connections
 * yet) is waited for, with backoff, saying so; an identity that cannot do its work is not.
 */
export async function prepare(config: Config, log: (line: string) => void): Promise<void> {
  for (let attempt = 1, pause = 500; ; attempt++, pause = Math.min(pause * 2, 5_000)) {
    try {
      return await prepareOnce(config, log);
    } catch (err) {
      if (err instanceof IdentityError || (!isTransient(err) && !isStartingUp(err))) throw err;
      log(`preparing databases and broker: ${(err as Error).message}; retrying in ${pause / 1000} s`);
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

/** Errors while connecting that mean "not yet" rather than "never". */
function isStartingUp(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === 'ECONNREFUSED' || /starting up|ECONNREFUSED|ECONNRESET|socket hang up|Socket closed/i.test(e.message ?? '');
}

async function prepareOnce(config: Config, log: (line: string) => void): Promise<void> {
  const roles = await provisionDatabases(config);
  for (const service of SERVICES) {
    const applied = await migrateService(service, databaseUrlOf(config, service), { tls: config.databaseTls });
    if (applied.length) log(`${service}: applied migrations ${applied.join(', ')}`);
  }
  const brokerUsers = await provisionBrokerUsers(config);
  const redisUsers = await provisionRedisUsers(config);
  log(`identities: broker users ${brokerUsers.join(', ')}; Redis users ${redisUsers.join(', ')}; database roles ${roles.join(', ')}`);
  const connection = await connectAmqp(config.rabbitmqUrl);
  try {
    const topology = await declareTopology(connection, config.namespace, deploymentLayout(), brokerAccess(config));
    log(`broker topology: ${topology.exchanges.length} exchanges, ${topology.queues.length} queues, ${topology.bindings.length} bindings`);
    if (topology.retired.length) log(`retired the partitions of an earlier layout: ${topology.retired.join(', ')}`);
    for (const { queue, messages } of topology.stranded) {
      log(`WARNING: ${queue} belongs to an earlier partition layout and still holds ${messages} message(s); move them with: npm run dlq -- drain ${queue}`);
    }
  } finally {
    await connection.close();
  }
}
