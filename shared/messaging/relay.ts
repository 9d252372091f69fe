import type { ScheduledEvent } from 'aws-lambda';
import type { ServiceName } from '../config';
import { getPool } from '../db/pool';
import { createLogger } from '../logger';
import { relayOutbox } from './outbox';

/**
 * The scheduled outbox relay of a service: publishes whatever a crash or a broker outage left
 * unpublished. Normally there is nothing to do: handlers publish right after committing.
 */
export function createOutboxRelay(service: ServiceName) {
  const logger = createLogger(service);
  return async (_event?: ScheduledEvent): Promise<{ published: number }> => {
    const published = await relayOutbox(await getPool(service));
    if (published > 0) logger.info('outbox relay published events', { published });
    return { published };
  };
}
