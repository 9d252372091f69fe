import type { ScheduledEvent } from 'aws-lambda';
import type { ServiceName } from '../config';
import { getPool } from '../db/pool';
import { createLogger } from '../logger';
import { sequenceLog } from './event-log';
import { relayOutbox } from './outbox';

/**
 * The scheduled outbox relay of a service: publishes whatever a crash or a broker outage left
 * unpublished (normally nothing: handlers publish right after committing), then gives positions
 * to the events committed since its last run (the event log's sequencer; readers of the log run
 * it too before they read).
 */
export function createOutboxRelay(service: ServiceName) {
  const logger = createLogger(service);
  return async (_event?: ScheduledEvent): Promise<{ published: number; position: number }> => {
    const pool = await getPool(service);
    const published = await relayOutbox(pool);
    if (published > 0) logger.info('outbox relay published events', { published });
    const position = await sequenceLog(pool);
    return { published, position };
  };
}
