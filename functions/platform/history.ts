/**
 * Operators' HTTP routes for the event logs' history (the dashboard's History page). The contract:
 *
 * - `GET /history/projections` → `{ projections: [{ name, title, owner, sources, modes, active, last }] }`:
 *   every projection of the catalog (functions/catalog.ts, PROJECTIONS) with its active run (requested
 *   or running, with `progress`) and its last finished one (`result`: equal, differences, per table
 *   the row counts, checksums and the differences listed).
 * - `POST /history/projections/{projection}/rebuild` `{ mode?: "rebuild" | "check" }` → 202 `{ run }`:
 *   the projection's worker starts it at its next tick (functions/order/history.ts); 409 while
 *   another run of the projection is active, 404 for an unknown projection, 422 for a mode it does
 *   not offer.
 * - `GET /history/replays` → `{ replays: [run…] }`: the latest replays of every service's log.
 * - `POST /history/replays` `{ service, from, to, queue, types?, orderId?, ratePerSecond? }` → 202
 *   `{ run }`: re-publishes the service's events written in [from, to) to that one queue
 *   (functions/platform/replay.ts); 409 while another replay of that service's log is active.
 *
 * A run is `{ id, kind, subject, params, status, requestedBy, checkpoint, doneEvents, totalEvents,
 * result, error, createdAt, startedAt, updatedAt, finishedAt, progress }`, `progress` being `{ done,
 * total, percent, ratePerSecond, secondsLeft }`.
 */
import { z } from 'zod';
import { AUDIT_HOME, PROJECTIONS, ROUTES, projectionByName } from '../catalog';
import { SERVICES, getConfig } from '../../shared/config';
import type { ServiceName } from '../../shared/config';
import { getPool } from '../../shared/db/pool';
import { requestActor } from '../../shared/audit/actor';
import { requestOutsideRunAudited, requestRunAudited } from '../../shared/history/audited-runs';
import { EVENT_TYPES, publisherOf } from '../../shared/events/types';
import type { EventType } from '../../shared/events/types';
import type { HttpRequest, HttpResult } from '../../shared/http/api';
import { ok } from '../../shared/http/api';
import { conflict, notFound, parseInput, unprocessable } from '../../shared/http/problem';
import { latestRedisRuns, requestRedisRun } from '../../shared/history/redis-runs';
import { RunConflict, latestRuns, requestRun } from '../../shared/history/runs';
import type { Run } from '../../shared/history/runs';
import { createLogger } from '../../shared/logger';
import { getRedis } from '../../shared/redis';
import { QUEUES, QUEUE_IDS } from '../topology';
import { replayableTypes } from './replay-plan';

const logger = createLogger('platform');

/** How far a run has come, and at what pace. */
export function progressOf(run: Run, now = Date.now()) {
  if (run.status !== 'running' || run.totalEvents === null) return null;
  const seconds = run.startedAt ? (now - Date.parse(run.startedAt)) / 1000 : 0;
  const rate = seconds > 0 ? run.doneEvents / seconds : 0;
  const left = Math.max(0, run.totalEvents - run.doneEvents);
  return {
    done: run.doneEvents,
    total: run.totalEvents,
    percent: run.totalEvents > 0 ? Math.min(100, Math.round((run.doneEvents / run.totalEvents) * 1000) / 10) : 100,
    ratePerSecond: Math.round(rate),
    secondsLeft: rate > 0 ? Math.ceil(left / rate) : null,
  };
}

const shown = (run: Run | undefined | null) => (run ? { ...run, progress: progressOf(run) } : null);

/** An operator's request for work on the logs, as its audit entry names it (shared/history/audited-runs.ts). */
const asked = (req: HttpRequest, target: string, params: Record<string, unknown>) => {
  logger.info('operator action', { route: req.routeKey, target, params, subject: req.principal?.sub });
  return { actor: requestActor(req), route: req.routeKey, target, params };
};

/** The latest runs of every projection, from where each keeps them (its database, or Redis). */
async function projectionRuns(): Promise<Run[]> {
  const { namespace } = await getConfig();
  const runs: Run[] = [];
  for (const owner of new Set(PROJECTIONS.map((p) => p.owner))) {
    const subjects = PROJECTIONS.filter((p) => p.owner === owner).map((p) => p.name);
    if (owner === 'notification') for (const s of subjects) runs.push(...(await latestRedisRuns(await getRedis(), namespace, s)));
    else runs.push(...(await latestRuns(await getPool(owner), subjects, 5)));
  }
  return runs;
}

async function listProjections() {
  const runs = await projectionRuns();
  return ok({
    projections: PROJECTIONS.map((p) => {
      const mine = runs.filter((r) => r.subject === p.name);
      return {
        ...p,
        active: shown(mine.find((r) => r.status === 'requested' || r.status === 'running')),
        last: shown(mine.find((r) => r.status === 'done' || r.status === 'failed')),
      };
    }),
  });
}

const ProjectionParams = z.object({ projection: z.string().min(1).max(100) });
const RebuildBody = z.strictObject({ mode: z.enum(['rebuild', 'check']).default('rebuild') }).default({ mode: 'rebuild' });

async function rebuild(req: HttpRequest): Promise<HttpResult> {
  const { projection: name } = parseInput(ProjectionParams, req.params, 'the path');
  const { mode } = parseInput(RebuildBody, req.body, 'the request');
  const projection = projectionByName(name);
  if (!projection) throw notFound(`no projection ${name}; projections: ${PROJECTIONS.map((p) => p.name).join(', ')}`);
  if (!projection.modes.includes(mode)) {
    throw unprocessable(`${name} offers ${projection.modes.join(' and ')} only`, [{ pointer: '/mode', detail: `not offered by ${name}` }]);
  }
  try {
    const request = { kind: mode, subject: name, requestedBy: req.principal?.sub };
    const run =
      projection.owner === 'notification'
        ? await requestOutsideRunAudited(AUDIT_HOME.notification, asked(req, name, { mode }), async () => requestRedisRun(await getRedis(), (await getConfig()).namespace, request))
        : await requestRunAudited(await getPool(projection.owner), asked(req, name, { mode }), (db) => requestRun(db, request));
    return { status: 202, body: { run: shown(run) } };
  } catch (err) {
    if (err instanceof RunConflict) throw conflict(`another run of ${name} is ${err.active.status} (a ${err.active.kind} requested at ${err.active.createdAt}); wait for it to finish`);
    throw err;
  }
}

async function listReplays() {
  const all = (await Promise.all(SERVICES.map(async (s) => latestRuns(await getPool(s), ['replay'], 10)))).flat();
  all.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return ok({ replays: all.map(shown) });
}

const ReplayBody = z
  .strictObject({
    service: z.enum(SERVICES),
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    queue: z.enum(QUEUE_IDS.map((id) => QUEUES[id].name) as [string, ...string[]]),
    types: z.array(z.enum(EVENT_TYPES as [EventType, ...EventType[]])).max(EVENT_TYPES.length).optional(),
    orderId: z.uuid().optional(),
    ratePerSecond: z.int().min(1).max(1_000).default(200),
  })
  .refine((b) => Date.parse(b.from) < Date.parse(b.to), { message: 'from must be before to', path: ['to'] });

async function startReplay(req: HttpRequest): Promise<HttpResult> {
  const body = parseInput(ReplayBody, req.body, 'the replay');
  const service = body.service as ServiceName;
  const foreign = (body.types ?? []).filter((t) => publisherOf(t) !== service);
  if (foreign.length) throw unprocessable(`the ${service} log holds no ${foreign.join(', ')}`, [{ pointer: '/types', detail: `not ${service} events` }]);
  const queueId = QUEUE_IDS.find((id) => QUEUES[id].name === body.queue)!;
  const receivable = replayableTypes(service, queueId, body.types);
  if (receivable.length === 0) throw unprocessable(`${body.queue} receives none of these ${service} events`, [{ pointer: '/queue', detail: 'receives none of them' }]);
  const params = { ...body, queueId };
  try {
    const run = await requestRunAudited(await getPool(service), asked(req, body.queue, params), (db) => requestRun(db, { kind: 'replay', subject: 'replay', params, requestedBy: req.principal?.sub }));
    return { status: 202, body: { run: shown(run) } };
  } catch (err) {
    if (err instanceof RunConflict) throw conflict(`a replay of the ${service} log is already ${err.active.status} (requested at ${err.active.createdAt}); wait for it to finish`);
    throw err;
  }
}

/** The history routes of operations-api (functions/platform/operations.ts). */
export const historyRoutes = {
  [ROUTES.listProjections]: listProjections,
  [ROUTES.rebuildProjection]: rebuild,
  [ROUTES.listReplays]: listReplays,
  [ROUTES.startReplay]: startReplay,
};
