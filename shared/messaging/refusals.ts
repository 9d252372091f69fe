/**
 * A publish the broker refuses (a permission taken away, a user revoked: shared/messaging/identity.ts)
 * fails the same way every time until someone fixes the user, so it is logged once per environment
 * and reason, at error level, rather than with every request. The events stay in the outbox
 * meanwhile (outbox_pending.last_error holds the reason) and go out with the relay once the
 * broker lets them.
 */
import type { Logger } from '@aws-lambda-powertools/logger';

const seen = new Map<string, number>();

/** Whether an error is the broker refusing a user something, for good. */
export const isRefusal = (err: unknown): err is Error => err instanceof Error && (err.name === 'BrokerRefusal' || err.name === 'BrokerLoginRefused');

/** Logs a refusal the first time its reason is seen in this environment; counts the rest. */
export function noteRefusal(logger: Pick<Logger, 'error'>, err: Error, events: number): void {
  const count = seen.get(err.message) ?? 0;
  seen.set(err.message, count + 1);
  if (count === 0) logger.error('the broker refused to publish; the events stay in the outbox until it accepts them (logged once)', { reason: err.message, events });
}
