/**
 * Custom resource (CDK Provider framework): as the broker's administrator, the deploy-time user,
 * creates the broker's users with their permissions (functions/identities.ts; passwords from their
 * secrets) and declares the topology (exchanges, quorum queues, DLQs, bindings, and the policies
 * for delivery limit and dead-lettering), both through the broker's management API, with the same
 * functions the local runtime uses, before any event source mapping points at a queue or logs in.
 * Delete leaves the broker alone: it goes with the stack.
 */
import { connectAmqp } from '../../shared/messaging/broker';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { brokerAccess, resolveConfig } from '../../shared/config';
import type { Config } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { brokerAdmin } from '../../shared/messaging/broker-admin';
import type { BrokerUser } from '../../shared/messaging/broker-admin';
import { brokerUsers } from '../identities';
import { declareTopology } from '../topology';
import { instrument } from '../../shared/observability';

const logger = createLogger('platform');
const PHYSICAL_ID = 'eventflow-topology';

/** Every broker user with the password its secret holds; a secret that names another user fails the deploy. */
export function usersToCreate(config: Pick<Config, 'namespace' | 'brokerUsers'>): BrokerUser[] {
  return brokerUsers(config.namespace).map((u) => {
    const credentials = config.brokerUsers?.[u.role];
    if (!credentials) throw new Error(`no secret for the broker user ${u.name} (${u.role})`);
    if (credentials.username !== u.name) throw new Error(`the secret of ${u.role} names ${credentials.username}, not ${u.name}`);
    return { name: u.name, password: credentials.password, tags: u.tags, permissions: u.permissions };
  });
}

export const handler = instrument(async (event: CloudFormationCustomResourceEvent) => {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const config = await resolveConfig();
  const users = usersToCreate(config);
  await brokerAdmin(brokerAccess(config)).putUsers(users);
  logger.info('broker users set', { users: users.map((u) => u.name) });
  const connection = await connectAmqp(config.rabbitmqUrl, 10_000);
  try {
    const topology = await declareTopology(connection, config.namespace, undefined, brokerAccess(config));
    logger.info('topology declared', { queues: topology.queues.map((q) => q.name), retired: topology.retired });
    // A partition of an earlier layout still holding events must not be lost silently: fail the deploy.
    if (topology.stranded.length) {
      throw new Error(`queues of an earlier partition layout still hold messages: ${topology.stranded.map((s) => `${s.queue} (${s.messages})`).join(', ')}; drain them, then deploy again`);
    }
    return { PhysicalResourceId: PHYSICAL_ID, Data: { queues: topology.queues.length } };
  } finally {
    await connection.close();
  }
});
