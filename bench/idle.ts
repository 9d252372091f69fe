/**
 * `npm run bench:idle [-- --settle 90 --seconds 120]`: what the local runtime costs while nobody uses
 * it. Starts a runtime of its own (its own namespace, on the shared PostgreSQL, RabbitMQ and Redis,
 * the catalog's schedules at the bench's 60 s), lets it settle (every schedule's environment has
 * had its cold start), then reads the CPU and resident memory of each of its processes over a
 * window, grouped by function as the bench groups them. Prints busy cores and MiB per group and in
 * all; not a test.
 */
import { parseArgs } from 'node:util';
import { FUNCTIONS } from '../functions/catalog';
import { startRuntimeProcess } from '../test/support/runtime-process';
import { descendantsOf, getconf, groupOf, readProcesses } from './sampler';

const { values } = parseArgs({ options: { settle: { type: 'string', default: '90' }, seconds: { type: 'string', default: '120' } } });
const settleSeconds = Number(values.settle);
const windowSeconds = Number(values.seconds);
const HZ = getconf('CLK_TCK', 100);
const PAGE_MIB = getconf('PAGESIZE', 4096) / 2 ** 20;

function runtimeSnapshot(root: number) {
  const all = readProcesses(new Map());
  const tree = descendantsOf(root, new Map(all.map((p) => [p.stat.pid, p.stat.ppid])));
  const ctx = { benchPids: new Set<number>(), runtimePids: tree, runtimeRoot: root, postgresPids: new Map(), functionIds: FUNCTIONS.map((f) => f.id) };
  return all
    .filter((p) => tree.has(p.stat.pid))
    .map((p) => ({ pid: p.stat.pid, start: p.stat.start, ticks: p.stat.ticks, mib: p.stat.rssPages * PAGE_MIB, group: groupOf({ pid: p.stat.pid, ppid: p.stat.ppid, comm: p.stat.comm, cmdline: p.cmdline }, ctx) }));
}

const runtime = await startRuntimeProcess({ env: { SCHEDULE_SECONDS: '60', LOG_LEVEL: 'WARN' } });
try {
  console.log(`runtime up (pid ${runtime.pid}); settling for ${settleSeconds} s, then measuring ${windowSeconds} s`);
  await new Promise((r) => setTimeout(r, settleSeconds * 1000));
  const before = new Map(runtimeSnapshot(runtime.pid).map((p) => [`${p.pid}:${p.start}`, p.ticks]));
  await new Promise((r) => setTimeout(r, windowSeconds * 1000));
  const after = runtimeSnapshot(runtime.pid);
  const groups = new Map<string, { cores: number; mib: number; processes: number }>();
  for (const p of after) {
    const g = groups.get(p.group) ?? { cores: 0, mib: 0, processes: 0 };
    g.cores += (p.ticks - (before.get(`${p.pid}:${p.start}`) ?? 0)) / HZ / windowSeconds;
    g.mib += p.mib;
    g.processes++;
    groups.set(p.group, g);
  }
  const total = [...groups.values()].reduce((a, g) => ({ cores: a.cores + g.cores, mib: a.mib + g.mib, processes: a.processes + g.processes }), { cores: 0, mib: 0, processes: 0 });
  console.log(`\nidle runtime over ${windowSeconds} s: ${(total.cores * 100).toFixed(2)} % of a core, ${total.mib.toFixed(0)} MiB resident in ${total.processes} processes\n`);
  console.log('| group | % of a core | MiB | processes |\n| --- | ---: | ---: | ---: |');
  for (const [name, g] of [...groups].sort((a, b) => b[1].cores - a[1].cores)) console.log(`| ${name} | ${(g.cores * 100).toFixed(2)} | ${g.mib.toFixed(0)} | ${g.processes} |`);
} finally {
  await runtime.stop();
}
