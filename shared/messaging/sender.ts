/**
 * Who may send an event: only the service that owns its type (the part before the dot). Every
 * publisher sets the AMQP `user-id` property to the user it is connected as, and RabbitMQ refuses
 * a publish whose `user-id` is not the connection's own (validated user-id,
 * https://www.rabbitmq.com/docs/validated-user-id), so `user-id` names the real sender. A
 * consumer checks it against the event's type before anything else: a `payment.processed` from
 * the inventory service's user never confirms an order. Pure.
 */
import type { AnyEnvelope } from '../events/envelope';
import { publisherOf } from '../events/types';
import { brokerUserName } from './identity';

/** Why this event may not be taken from this sender, or null when its sender owns its type. */
export function senderProblem(event: Pick<AnyEnvelope, 'type'>, userId: string | undefined, namespace: string): string | null {
  const owner = brokerUserName(publisherOf(event.type), namespace);
  if (!userId) return `${event.type} carries no user-id, so nothing vouches for its sender; only ${owner} may publish it`;
  if (userId !== owner) return `${event.type} was sent by ${userId}; only ${owner} may publish it`;
  return null;
}
