import type { ScheduledEvent } from 'aws-lambda';
import { createLogger } from '../../shared/logger';
import { instrument } from '../../shared/observability';
import { settleIntents } from './settlement';
import { simulatedGateway } from './simulated-gateway';

const logger = createLogger('payment');
const gateway = simulatedGateway();

/** Intents left alone this long are presumed interrupted (their consumer settles within seconds). */
const STALE_SECONDS = Number(process.env.PAYMENT_SETTLE_AFTER_SECONDS ?? 30);

/**
 * On a schedule: settles payment intents whose consumer died between recording them and recording
 * the gateway's answer, by asking the gateway (idempotent by key) what it did. A charge is thereby
 * never left unrecorded, and a charge for an order that has since ended is refunded.
 */
export const handler = instrument(async (_event?: ScheduledEvent): Promise<{ settled: number }> => {
  const settled = await settleIntents(gateway, { staleSeconds: STALE_SECONDS, limit: 500 }, logger);
  if (settled) logger.warn('settled interrupted payment intents', { settled });
  return { settled };
});
