/** The soak's picture: one panel per kind of series, over the run's minutes (Vega-Lite, rendered by bench/chart.ts). */
import type * as vl from 'vega-lite';
import type { SoakPoint } from './growth';

type Row = { minute: number; series: string; value: number };

function panel(title: string, unit: string, rows: Row[]) {
  return {
    title,
    width: 720,
    height: 160,
    data: { values: rows },
    mark: { type: 'line', point: false },
    encoding: {
      x: { field: 'minute', type: 'quantitative', title: 'minutes' },
      y: { field: 'value', type: 'quantitative', title: unit },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'right', labelLimit: 260 } },
    },
  };
}

export function soakChartSpec(title: string, points: readonly SoakPoint[]): vl.TopLevelSpec {
  const m = (p: SoakPoint) => p.t / 60;
  const pace: Row[] = points.flatMap((p) => [
    { minute: m(p), series: 'offered /s', value: p.offeredPerSec },
    { minute: m(p), series: 'settled /s', value: p.settledPerSec },
  ]);
  const latency: Row[] = points.flatMap((p) => (p.settleP99Ms === null ? [] : [{ minute: m(p), series: 'p99 POST→final', value: p.settleP99Ms }]));
  // The runtime, each function's environments, the servers: the largest groups by their last reading, the rest together.
  const last = points.at(-1)?.rssMiB ?? {};
  const named = new Set(Object.entries(last).sort((a, b) => b[1] - a[1]).slice(0, 9).map(([g]) => g));
  const memory: Row[] = points.flatMap((p) => {
    const rows = Object.entries(p.rssMiB).filter(([g]) => named.has(g)).map(([g, v]) => ({ minute: m(p), series: g, value: v }));
    const rest = Object.entries(p.rssMiB).filter(([g]) => !named.has(g)).reduce((a, [, v]) => a + v, 0);
    return [...rows, { minute: m(p), series: 'other groups', value: rest }, { minute: m(p), series: 'Redis used memory', value: p.redisMiB }];
  });
  const heap: Row[] = points.flatMap((p) => Object.entries(p.heapMiB ?? {}).map(([fn, v]) => ({ minute: m(p), series: fn, value: v })));
  const storage: Row[] = points.flatMap((p) => [
    ...Object.entries(p.databaseMiB).map(([db, v]) => ({ minute: m(p), series: `database ${db}`, value: v })),
    { minute: m(p), series: 'messages queued', value: Object.values(p.queues).reduce((a, b) => a + b, 0) },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    vconcat: [panel('Orders', 'orders/s', pace), panel('Latency', 'ms', latency), panel('Memory (proportional set size; Redis: used memory)', 'MiB', memory),
      ...(heap.length ? [panel("V8 heap in use, each function's largest environment", 'MiB', heap)] : []),
      panel('Databases (MiB) and queues (messages)', '', storage)],
    resolve: { scale: { color: 'independent' } },
  } as unknown as vl.TopLevelSpec;
}
