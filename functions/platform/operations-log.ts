import { createLogger } from '../../shared/logger';

/** The log of operations-api (functions/platform/operations.ts), shared by its routes so that every line carries the request's keys. */
export const logger = createLogger('platform');
