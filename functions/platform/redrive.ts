/**
 * A DLQ redrive, audited: the HTTP route (functions/platform/queues.ts) and `npm run dlq -- redrive`
 * both come here. Moving messages is a change on the broker, outside any database transaction, so
 * it is recorded as an audited operation (shared/audit/operation.ts): a started entry before the
 * first message moves, then the outcome (`{ moved }`, or how many had moved and why it stopped), in
 * the audit trail of the service that consumes the queue (AUDIT_HOME).
 */
import type { ConfirmChannel } from 'amqplib';
import type { AuditActor } from '../../shared/audit/entry';
import { auditedOperation } from '../../shared/audit/operation';
import type { Logger } from '@aws-lambda-powertools/logger';
import { redriveDlq } from '../../shared/messaging/dlq';
import { dlqOf } from '../../shared/messaging/topology';
import { AUDIT_HOME } from '../catalog';
import { QUEUES } from '../topology';
import type { QueueId } from '../topology';

export async function auditedRedrive(
  channel: ConfirmChannel,
  queue: { id: QueueId; partitions: string[] },
  actor: AuditActor,
  route: string,
  /** The broker user of the queue's consumer: what it parked carries the original sender apart (redriveDlq). */
  parker: string,
  log?: Pick<Logger, 'error'>,
): Promise<number> {
  // Nothing parked, nothing moves: like a refused request, a redrive that changes nothing is not a
  // change to record (messages parked from here on are the next redrive's).
  const { messageCount } = await channel.checkQueue(dlqOf(queue.partitions[0]!));
  if (messageCount === 0) return 0;
  return auditedOperation(
    { service: AUDIT_HOME[queue.id], actor, route, targets: [QUEUES[queue.id].name] },
    async (progress) => {
      const moved = await redriveDlq(channel, queue.partitions, parker, (n) => (progress.moved = n));
      return { result: moved, change: { moved } };
    },
    log,
  );
}
