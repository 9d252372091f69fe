/**
 * `npm run soak -- --minutes 60 --rate 60`: a steady load for a long while on a private stack,
 * recording every interval what could leak (bench/soak/run.ts); fails on a broken invariant or a
 * series that does not level off, and draws the run. Exits 0 when all held, 1 when not, 2 on a bad
 * command line. RELIABILITY.md shows a run.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { renderChart } from '../chart';
import { soakChartSpec } from './chart';
import { runSoak } from './run';

const HELP = `npm run soak -- [--minutes 60] [--rate 60] [--interval 30] [--seed 1] [--out FILE.json]

A steady open-loop load (orders/s, the bench's mix) for --minutes on a PostgreSQL, RabbitMQ and
Redis of its own; every --interval seconds it records settled orders/s and their p99, the
resident memory of every process group, each database's size, Redis's memory and the queues.
At the end it drains and checks every invariant, and fails when memory does not level off or a
database grows dearer per order (bench/soak/growth.ts). Writes FILE.json and, beside it, the chart
(.png and .svg). Half the machine's ceiling (BENCHMARKS.md) is the rate to soak at.`;

const log = (line: string) => process.stderr.write(`${line}\n`);
let values;
try {
  ({ values } = parseArgs({
    options: { minutes: { type: 'string' }, rate: { type: 'string' }, interval: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  log(`${(err as Error).message}\n\n${HELP}`);
  process.exit(2);
}
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const num = (v: string | undefined, fallback: number, what: string) => {
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    log(`${what}: expected a positive number, got "${v}"\n\n${HELP}`);
    process.exit(2);
  }
  return n;
};
const options = { minutes: num(values.minutes, 60, '--minutes'), rate: num(values.rate, 60, '--rate'), intervalSeconds: num(values.interval, 30, '--interval'), seed: num(values.seed, 1, '--seed') };
const out = values.out ?? `bench/results/soak-${new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-')}.json`;

try {
  const report = await runSoak(options, log);
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  const { svg, png } = await renderChart(soakChartSpec(`Soak: ${options.rate} orders/s for ${options.minutes} min (${report.startedAt.slice(0, 16)} UTC)`, report.points));
  await writeFile(out.replace(/\.json$/, '.svg'), svg);
  if (png) await writeFile(out.replace(/\.json$/, '.png'), png);
  console.log(`\n${report.accepted} orders accepted; ${report.drained ? 'drained' : 'DID NOT DRAIN'}; ${report.violations.length} invariant violations; ${report.growth.length} series that did not level off`);
  for (const v of report.violations.slice(0, 20)) console.log(`  ${v.rule}: ${v.subject} (${v.detail})`);
  for (const g of report.growth) console.log(`  growth: ${g.series}: ${g.detail}`);
  log(`wrote ${out} and its chart`);
  process.exit(report.ok ? 0 : 1);
} catch (err) {
  log(`\nSOAK FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
}
