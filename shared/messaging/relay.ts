import type { ScheduledEvent } from 'aws-lambda';
import type { ServiceName } from '../config';
import { getPool } from '../db/pool';
import { createLogger } from '../logger';
import { relayOutbox } from './outbox';
import { isRefusal, noteRefusal } from './refusals';

/**
 * The scheduled outbox relay of a service: publishes whatever a crash or a broker outage left
 * unpublished. Normally there is nothing to do: handlers publish right after committing.
 */
export function createOutboxRelay(service: ServiceName) {
  const logger = createLogger(service);
  return async (_event?: ScheduledEvent): Promise<{ published: number; refused?: string }> => {
    let published: number;
    try {
      published = await relayOutbox(await getPool(service));
    } catch (err) {
      // A refusal holds until someone fixes the user: said once, not every run (the events wait in the outbox).
      if (!isRefusal(err)) throw err;
      noteRefusal(logger, err, 0);
      return { published: 0, refused: err.message };
    }
    if (published > 0) logger.info('outbox relay published events', { published });
    return { published };
  };
}
