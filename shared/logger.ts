import { Logger } from '@aws-lambda-powertools/logger';

/** One JSON-lines logger per service; handlers add correlationId per request or event. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logLevel: (process.env.LOG_LEVEL ?? 'INFO').toUpperCase() as 'INFO' });
}
