import type { Context, ScheduledEvent } from 'aws-lambda';
import { SERVICES, getConfig } from '../../shared/config';
import type { ServiceName } from '../../shared/config';
import { getPool } from '../../shared/db/pool';
import { runReplay } from '../../shared/history/replay';
import type { ReplayParams, ReplayProgress } from '../../shared/history/replay';
import { finishRun, takeRun } from '../../shared/history/runs';
import type { Run } from '../../shared/history/runs';
import { createLogger } from '../../shared/logger';
import { connectAmqp } from '../../shared/messaging/broker';
import { instrument } from '../../shared/observability';
import type { QueueId } from '../topology';
import { replayRoute, replayableTypes } from './replay-plan';

const logger = createLogger('platform');
const MARGIN_MS = 15_000;

/** Runs one replay of `service`'s log (requested by the API or npm run replay). */
export async function runServiceReplay(service: ServiceName, run: Run, deadline: number, onProgress?: (p: ReplayProgress) => void): Promise<boolean> {
  const config = await getConfig();
  const db = await getPool(service);
  const params = run.params as unknown as ReplayParams & { queueId: QueueId; types?: string[] };
  const types = replayableTypes(service, params.queueId, params.types as never);
  if (types.length === 0) {
    await finishRun(db, run.id, { error: `${params.queueId} receives none of the events asked for` });
    return true;
  }
  // A connection of its own: a channel error here must not close the publishers' channel.
  const connection = await connectAmqp(config.rabbitmqUrl);
  try {
    const channel = await connection.createConfirmChannel();
    return await runReplay(
      run,
      { ...params, types },
      { db, channel, route: replayRoute(service, params.queueId, config.namespace), namespace: config.namespace },
      { deadline, onProgress },
    );
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/**
 * The replay worker, on a schedule: takes requested replays of each service's log (and replays whose
 * worker died, from their checkpoint) until its time is nearly up.
 */
export const handler = instrument(async (_event?: ScheduledEvent, context?: Context) => {
  const deadline = Date.now() + (context?.getRemainingTimeInMillis?.() ?? 120_000) - MARGIN_MS;
  let finished = 0;
  for (const service of SERVICES) {
    while (Date.now() < deadline) {
      const run = await takeRun(await getPool(service), ['replay']);
      if (!run) break;
      logger.info('replay started', { runId: run.id, service, params: run.params });
      const done = await runServiceReplay(service, run, deadline).catch((err) => {
        logger.error('replay failed', { runId: run.id, error: err as Error });
        return true;
      });
      if (!done) return { finished };
      finished++;
    }
  }
  return { finished };
});
