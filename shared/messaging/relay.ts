import type { ScheduledEvent } from 'aws-lambda';
import type { ServiceName } from '../config';
import { getPool } from '../db/pool';
import { createLogger } from '../logger';
import { sequenceLog } from './event-log';
import { relayOutbox } from './outbox';
import { isRefusal, noteRefusal } from './refusals';

/**
 * The scheduled outbox relay of a service: publishes whatever a crash or a broker outage left
 * unpublished (normally nothing: handlers publish right after committing), then gives positions
 * to the events committed since its last run (the event log's sequencer; readers of the log run
 * it too before they read).
 */
export function createOutboxRelay(service: ServiceName) {
  const logger = createLogger(service);
  return async (_event?: ScheduledEvent): Promise<{ published: number; position: number; refused?: string }> => {
    const pool = await getPool(service);
    let published = 0;
    let refused: string | undefined;
    try {
      published = await relayOutbox(pool);
    } catch (err) {
      // A refusal holds until someone fixes the user: said once, not every run (the events wait in the outbox).
      if (!isRefusal(err)) throw err;
      noteRefusal(logger, err, 0);
      refused = err.message;
    }
    if (published > 0) logger.info('outbox relay published events', { published });
    // The log's positions follow its commits, whether or not the broker took the events.
    const position = await sequenceLog(pool);
    return { published, position, ...(refused ? { refused } : {}) };
  };
}
