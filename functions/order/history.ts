import type { Context, ScheduledEvent } from 'aws-lambda';
import { getPool } from '../../shared/db/pool';
import { finishRun, takeRun } from '../../shared/history/runs';
import type { Run } from '../../shared/history/runs';
import { runTableRebuild } from '../../shared/history/table-rebuild';
import type { RebuildProgress } from '../../shared/history/table-rebuild';
import { createLogger } from '../../shared/logger';
import { instrument } from '../../shared/observability';
import { PROJECTIONS } from '../catalog';
import { ORDER_PROJECTIONS } from './projections';
import { checkOverview } from './stats';

const logger = createLogger('order');
/** Left of an invocation's time when a run is given back for the next (its last batch and commit). */
const MARGIN_MS = 15_000;
const SUBJECTS = PROJECTIONS.filter((p) => p.owner === 'order').map((p) => p.name);

/**
 * Runs one rebuild or check of an order projection: a table projection (projections.ts) or the
 * overview's figures (stats.ts). Returns whether it finished (false: given back at the deadline).
 */
export async function runOrderProjection(run: Run, deadline: number, onProgress?: (p: RebuildProgress) => void): Promise<boolean> {
  const owner = await getPool('order');
  if (run.subject === 'overview') {
    try {
      await finishRun(owner, run.id, { result: { projection: 'overview', mode: 'check', ...(await checkOverview(owner)) } });
    } catch (err) {
      await finishRun(owner, run.id, { error: (err as Error).message });
      throw err;
    }
    return true;
  }
  const projection = ORDER_PROJECTIONS[run.subject];
  if (!projection) {
    await finishRun(owner, run.id, { error: `no projection ${run.subject} in the order service` });
    return true;
  }
  return runTableRebuild(run, projection, { owner, source: await getPool(projection.source) }, { deadline, onProgress });
}

/**
 * The order service's history worker, on a schedule: takes requested rebuilds and checks (and runs
 * whose worker died, from their checkpoint) one after another until its time is nearly up.
 */
export const handler = instrument(async (_event?: ScheduledEvent, context?: Context) => {
  const deadline = Date.now() + (context?.getRemainingTimeInMillis?.() ?? 120_000) - MARGIN_MS;
  let finished = 0;
  while (Date.now() < deadline) {
    const run = await takeRun(await getPool('order'), SUBJECTS);
    if (!run) break;
    logger.info('history run started', { runId: run.id, kind: run.kind, projection: run.subject, checkpoint: run.checkpoint });
    const done = await runOrderProjection(run, deadline).catch((err) => {
      logger.error('history run failed', { runId: run.id, error: err as Error });
      return true;
    });
    if (!done) break;
    finished++;
  }
  return { finished };
});
