/**
 * Custom resource (CDK Provider framework): declares the broker topology (exchanges, quorum queues,
 * DLQs, bindings, and the policies for delivery limit and dead-lettering, through the broker's
 * management API) at deploy time with the same function the local runtime uses, before any event
 * source mapping points at a queue. Delete leaves the broker alone: it goes with the stack.
 */
import { connectAmqp } from '../../shared/messaging/broker';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { brokerAccess, resolveConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { declareTopology } from '../topology';
import { instrument } from '../../shared/observability';

const logger = createLogger('platform');
const PHYSICAL_ID = 'eventflow-topology';

export const handler = instrument(async (event: CloudFormationCustomResourceEvent) => {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const config = await resolveConfig();
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
