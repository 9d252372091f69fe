/**
 * `npm run replay -- rebuild <projection> [--check]`
 *     builds the projection again from the event log beside the live copy, while traffic flows,
 *     compares (row counts, checksums, every difference listed) and makes the live copy equal to
 *     it, or with --check only reports. Projections: see `npm run replay -- projections`.
 * `npm run replay -- publish --service <s> --from <time> --to <time> --to-queue <queue>
 *                              [--type <type>]… [--order <id>] [--rate <events/s>]`
 *     re-publishes the service's events written in [from, to), in log order, with their original
 *     ids, to that queue alone (through its redrive exchange, each to its order's partition), at most --rate
 *     events a second (200).
 * `npm run replay -- status`   the latest runs.
 *
 * Each runs here, in this process, under the same run records the API and the workers use: a
 * second rebuild of one projection, or a second replay of one log, is refused while one is active.
 */
import { parseArgs } from 'node:util';
import { AUDIT_HOME, CLI_COMMANDS, PROJECTIONS, projectionByName } from '../functions/catalog';
import { cliActor } from '../shared/audit/actor';
import { requestOutsideRunAudited, requestRunAudited } from '../shared/history/audited-runs';
import { runOrderProjection } from '../functions/order/history';
import { progressOf } from '../functions/platform/history';
import { runServiceReplay } from '../functions/platform/replay';
import { replayableTypes } from '../functions/platform/replay-plan';
import { QUEUES, QUEUE_IDS } from '../functions/topology';
import { SERVICES, getConfig } from '../shared/config';
import type { ServiceName } from '../shared/config';
import { closePools, getPool } from '../shared/db/pool';
import type { EventType } from '../shared/events/types';
import { latestRedisRuns, requestRedisRun } from '../shared/history/redis-runs';
import { RunConflict, findRun, latestRuns, requestRun } from '../shared/history/runs';
import { closeRedis, getRedis } from '../shared/redis';
import { runRecentEvents } from '../functions/notification/history';
import { retentionSettings } from '../shared/messaging/retention';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    check: { type: 'boolean', default: false },
    service: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'to-queue': { type: 'string' },
    type: { type: 'string', multiple: true, default: [] },
    order: { type: 'string' },
    rate: { type: 'string', default: '200' },
  },
});
const [command, name] = positionals;
/** Who runs the tool, as the audit trail names them (EVENTFLOW_OPERATOR, else this machine's account). */
const actor = cliActor();

const fmt = (n: number) => n.toLocaleString('en-US');
function progressLine(text: string) {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${text}`);
  else console.error(text);
}

async function rebuild() {
  const projection = projectionByName(name ?? '');
  if (!projection) throw new Error(`name a projection: ${PROJECTIONS.map((p) => p.name).join(', ')}`);
  const mode = values.check ? 'check' : 'rebuild';
  if (!projection.modes.includes(mode)) throw new Error(`${projection.name} offers ${projection.modes.join(' and ')} only`);
  if (projection.owner === 'notification') {
    const run = await requestOutsideRunAudited(AUDIT_HOME.notification, { actor, route: CLI_COMMANDS.replayRebuild, target: projection.name, params: { mode } }, async () =>
      requestRedisRun(await getRedis(), (await getConfig()).namespace, { kind: mode, subject: projection.name, requestedBy: actor.subject, take: true }),
    );
    progressLine(`${mode} of ${projection.name}: reading the three logs…`);
    await runRecentEvents(run);
    process.stderr.write('\n');
    const done = (await latestRedisRuns(await getRedis(), (await getConfig()).namespace, projection.name, 1))[0]!;
    if (done.status === 'failed') throw new Error(`${mode} of ${projection.name} failed: ${done.error}`);
    const r = done.result as { equal: boolean; differences: number; swapped: boolean; liveEntries: number; rebuiltEntries: number; listed: { figure: string }[]; mergedMeanwhile: number };
    console.log(`${projection.name}: ${r.equal ? 'equal to the logs' : `${fmt(r.differences)} difference(s)`}${r.swapped ? `, live log replaced (${r.mergedMeanwhile} event(s) published meanwhile kept)` : mode === 'check' ? ' (check only: nothing changed)' : ''}`);
    console.log(`  live ${fmt(r.liveEntries)} entries, rebuilt ${fmt(r.rebuiltEntries)} entries`);
    for (const d of r.listed) console.log(`    ${d.figure}`);
    return;
  }
  const db = await getPool(projection.owner);
  const run = await requestRunAudited(db, { actor, route: CLI_COMMANDS.replayRebuild, target: projection.name, params: { mode } }, (tx) =>
    requestRun(tx, { kind: mode, subject: projection.name, requestedBy: actor.subject, take: true }),
  );
  const started = Date.now();
  await runOrderProjection(run, Infinity, (p) => {
    const seconds = (Date.now() - started) / 1000;
    const rate = p.done / Math.max(seconds, 0.001);
    const left = rate > 0 ? Math.ceil((p.total - p.done) / rate) : 0;
    progressLine(`${p.phase}: ${fmt(p.done)} of ${fmt(p.total)} log positions (${p.total ? Math.round((p.done / p.total) * 100) : 100} %), ${fmt(Math.round(rate))}/s, ${left} s left`);
  });
  process.stderr.write('\n');
  const done = await findRun(db, run.id);
  if (done?.status === 'failed') throw new Error(`${mode} of ${projection.name} failed: ${done.error}`);
  const result = done!.result as { equal: boolean; differences: number; swapped?: boolean; writesHeldMs?: number; tables?: { table: string; liveRows: number; rebuiltRows: number; liveChecksum: string; rebuiltChecksum: string; differences: number; listed: { key: string; kind: string; live: string | null; rebuilt: string | null }[] }[]; listed?: unknown[] };
  console.log(`${projection.name}: ${result.equal ? 'equal to the log' : `${fmt(result.differences)} difference(s)`}${result.swapped ? ', live copy replaced' : mode === 'check' ? ' (check only: nothing changed)' : ''}`);
  for (const t of result.tables ?? []) {
    console.log(`  ${t.table}: live ${fmt(t.liveRows)} rows (${t.liveChecksum.slice(0, 12)}), rebuilt ${fmt(t.rebuiltRows)} rows (${t.rebuiltChecksum.slice(0, 12)}), ${fmt(t.differences)} difference(s)`);
    for (const d of t.listed) console.log(`    ${d.kind.padEnd(9)} ${d.key}${d.kind === 'different' ? `\n      live:    ${d.live}\n      rebuilt: ${d.rebuilt}` : ''}`);
  }
  for (const d of result.listed ?? []) console.log(`  ${JSON.stringify(d)}`);
  if (result.writesHeldMs !== undefined) console.log(`  writers held ${result.writesHeldMs} ms for the final comparison${result.swapped ? ' and swap' : ''}`);
}

async function publish() {
  const service = values.service as ServiceName;
  if (!SERVICES.includes(service)) throw new Error(`--service is one of ${SERVICES.join(', ')}`);
  const queueId = QUEUE_IDS.find((id) => QUEUES[id].name === values['to-queue']);
  if (!queueId) throw new Error(`--to-queue is one of ${QUEUE_IDS.map((id) => QUEUES[id].name).join(', ')}`);
  const from = new Date(values.from ?? '');
  const to = new Date(values.to ?? '');
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) throw new Error('--from and --to are times, from before to');
  const types = replayableTypes(service, queueId, values.type as EventType[]);
  if (types.length === 0) throw new Error(`${values['to-queue']} receives none of these ${service} events`);
  const ratePerSecond = Number(values.rate);
  if (!Number.isInteger(ratePerSecond) || ratePerSecond < 1) throw new Error('--rate is a whole number of events per second');
  const { inboxDays } = retentionSettings();
  if (from.getTime() < Date.now() - inboxDays * 86_400_000) {
    console.error(`note: the consumers' inboxes keep event ids ${inboxDays} days (INBOX_RETENTION_DAYS); older events are told apart from new work by the consumer's own state (a payment, a reservation per order) alone`);
  }
  const db = await getPool(service);
  const params = { service, from: from.toISOString(), to: to.toISOString(), queue: QUEUES[queueId].name, queueId, types, orderId: values.order, ratePerSecond };
  const run = await requestRunAudited(db, { actor, route: CLI_COMMANDS.replayPublish, target: params.queue, params }, (tx) =>
    requestRun(tx, { kind: 'replay', subject: 'replay', params, requestedBy: actor.subject, take: true }),
  );
  await runServiceReplay(service, run, Infinity, (p) => progressLine(`published ${fmt(p.published)} of ${fmt(p.total)} selected events (${p.total ? Math.round((p.processed / p.total) * 100) : 100} %)`));
  process.stderr.write('\n');
  const done = await findRun(db, run.id);
  if (done?.status === 'failed') throw new Error(`replay failed: ${done.error}`);
  console.log(JSON.stringify(done!.result));
}

async function status() {
  const order = await getPool('order');
  for (const r of await latestRuns(order, PROJECTIONS.map((p) => p.name), 3)) {
    const p = progressOf(r);
    console.log(`${r.createdAt} ${r.kind.padEnd(7)} ${r.subject.padEnd(10)} ${r.status}${p ? ` ${p.percent} %` : ''}${r.error ? ` ${r.error}` : ''}`);
  }
  for (const s of SERVICES) {
    for (const r of await latestRuns(await getPool(s), ['replay'], 3)) {
      console.log(`${r.createdAt} replay  ${s.padEnd(10)} ${r.status} → ${String(r.params.queue)} ${r.doneEvents}/${r.totalEvents ?? '?'}${r.error ? ` ${r.error}` : ''}`);
    }
  }
}

try {
  if (command === 'rebuild') await rebuild();
  else if (command === 'publish') await publish();
  else if (command === 'status') await status();
  else if (command === 'projections') for (const p of PROJECTIONS) console.log(`${p.name.padEnd(10)} ${p.modes.join('/').padEnd(14)} ${p.title}`);
  else throw new Error('usage: npm run replay -- rebuild <projection> [--check] | publish --service … --from … --to … --to-queue … | status | projections');
} catch (err) {
  console.error(err instanceof RunConflict ? `refused: ${err.message}` : (err as Error).message);
  process.exitCode = 1;
} finally {
  await closePools();
  await closeRedis();
}
