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
import { brokerUserOf, brokerUsers } from '../identities';
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
    // The DLQ tools' user moves what waits in an earlier topology's queues (declareTopology says why it).
    const mover = await connectAmqp(brokerUrlAs(config.rabbitmqUrl, users.find((u) => u.name === brokerUserOf('operator', config.namespace))!), 10_000);
    try {
      const topology = await declareTopology(connection, config.namespace, undefined, brokerAccess(config), mover);
      logger.info('topology declared', { queues: topology.queues.map((q) => q.name), retired: topology.retired, moved: topology.moved });
      // A queue of an earlier topology is kept while an earlier release's event source mapping still
      // consumes it (mappings go in the stack's clean-up, after this): the deploy goes on, since
      // nothing routes to it any more and that mapping still works off anything it hands back. The
      // hook's next run (a deploy that changes the topology) deletes it; `npm run dlq -- drain`
      // moves what it holds meanwhile. Said here, at warning level, for the deploy's log.
      if (topology.stranded.length) logger.warn('queues of an earlier topology kept for the next deploy', { stranded: topology.stranded });
      return { PhysicalResourceId: PHYSICAL_ID, Data: { queues: topology.queues.length } };
    } finally {
      await mover.close().catch(() => undefined);
    }
  } finally {
    await connection.close();
  }
});

/** The broker's AMQP URL with another user's credentials. */
export function brokerUrlAs(url: string, user: Pick<BrokerUser, 'name' | 'password'>): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user.name);
  u.password = encodeURIComponent(user.password);
  return u.toString();
}
