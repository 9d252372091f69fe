import { Logger } from '@aws-lambda-powertools/logger';
import { LAMBDA_ENV } from './env';

/** One JSON-lines logger per service; handlers add correlationId per request or event. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logLevel: (process.env[LAMBDA_ENV.logLevel] ?? 'INFO').toUpperCase() as 'INFO' });
}

/** What a handler logs through: the levels, each taking a message and extra keys. */
export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/**
 * A Log whose every line also carries the given keys (an event's correlation id and ids).
 * Cheaper than Logger.createChild, which builds a new Console and rereads the environment, and
 * safe with messages handled concurrently, unlike appendKeys on a shared logger.
 */
export function withKeys(logger: Logger, keys: Record<string, unknown>): Log {
  return {
    debug: (message, extra) => logger.debug(message, { ...keys, ...extra }),
    info: (message, extra) => logger.info(message, { ...keys, ...extra }),
    warn: (message, extra) => logger.warn(message, { ...keys, ...extra }),
    error: (message, extra) => logger.error(message, { ...keys, ...extra }),
  };
}
