/**
 * Draws a run over time, one column per load level: throughput (offered, accepted, settled per
 * second), latency (settle p50/p99, POST p99), queue depths and CPU per process group. A
 * Vega-Lite spec compiled and rendered to SVG with vega in Node, then to PNG with resvg.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { SamplePoint, SeriesPoint } from './analyze';

export interface ChartColumn {
  /** Column title, e.g. "500 orders/s offered (run 2)". */
  label: string;
  warmupSeconds: number;
  seconds: number;
  series: SeriesPoint[];
  samples: SamplePoint[];
}

type Row = { column: string; t: number; series: string; value: number };

function rows(columns: ChartColumn[]) {
  const throughput: Row[] = [];
  const latency: Row[] = [];
  const queues: Row[] = [];
  const cpu: Row[] = [];
  for (const c of columns) {
    for (const p of c.series) {
      throughput.push({ column: c.label, t: p.t, series: 'offered', value: p.offered });
      throughput.push({ column: c.label, t: p.t, series: 'accepted (201)', value: p.accepted });
      throughput.push({ column: c.label, t: p.t, series: 'settled (on WebSocket)', value: p.settled });
      if (p.settleP50 !== null) latency.push({ column: c.label, t: p.t, series: 'settle p50', value: Math.max(0.1, p.settleP50) });
      if (p.settleP99 !== null) latency.push({ column: c.label, t: p.t, series: 'settle p99', value: Math.max(0.1, p.settleP99) });
      if (p.postP99 !== null) latency.push({ column: c.label, t: p.t, series: 'POST p99', value: Math.max(0.1, p.postP99) });
    }
    // Every service queue (partition), and a DLQ only if something reached it.
    const used = new Set(c.samples.flatMap((s) => Object.entries(s.queues).filter(([q, n]) => !q.endsWith('.dlq') || (n ?? 0) > 0).map(([q]) => q)));
    const groups = new Set(c.samples.flatMap((s) => Object.keys(s.cpu)));
    for (const s of c.samples) {
      for (const [q, n] of Object.entries(s.queues)) {
        if (n !== null && used.has(q)) queues.push({ column: c.label, t: s.t, series: q, value: n });
      }
      // Every group at every second (0 when idle), so the stack has no holes.
      for (const g of groups) cpu.push({ column: c.label, t: s.t, series: g, value: s.cpu[g] ?? 0 });
    }
  }
  return { throughput, latency, queues, cpu };
}

export function chartSpec(title: string, columns: ChartColumn[]): vl.TopLevelSpec {
  const data = rows(columns);
  const order = columns.map((c) => c.label);
  const x = { field: 't', type: 'quantitative', title: 's (0 = end of warm-up)' } as const;
  const marks = (columns[0] ? [0, columns[0].seconds] : [0]).map((at) => ({ mark: { type: 'rule', strokeDash: [4, 3], color: '#999' }, encoding: { x: { datum: at } } }));
  const panel = (values: Row[], yTitle: string, mark: object, y: object = {}) => ({
    data: { values },
    facet: { column: { field: 'column', type: 'nominal', sort: order, title: null } },
    spec: {
      width: 300,
      height: 150,
      layer: [
        {
          mark,
          encoding: {
            x,
            y: { field: 'value', type: 'quantitative', title: yTitle, ...y },
            color: { field: 'series', type: 'nominal', title: null, scale: { scheme: 'tableau20' }, legend: { orient: 'right', labelLimit: 260 } },
          },
        },
        ...marks,
      ],
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    background: 'white',
    resolve: { scale: { color: 'independent' } },
    config: { font: 'DejaVu Sans', legend: { labelFontSize: 10 } },
    vconcat: [
      panel(data.throughput, 'orders per second', { type: 'line', interpolate: 'step-after' }),
      panel(data.latency, 'ms (log)', { type: 'line', point: { size: 8 } }, { scale: { type: 'log' } }),
      panel(data.queues.length ? data.queues : [{ column: order[0] ?? '', t: 0, series: 'no queue ever held a message', value: 0 }], 'ready messages', { type: 'line' }),
      panel(data.cpu, 'busy cores', { type: 'area' }, { stack: 'zero' }),
    ],
  } as unknown as vl.TopLevelSpec;
}

/** Renders the chart and returns the SVG, and a PNG when the renderer works on this machine. */
export async function renderChart(spec: vl.TopLevelSpec): Promise<{ svg: string; png: Buffer | null }> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  let png: Buffer | null = null;
  try {
    png = new Resvg(svg, { background: 'white', font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
  } catch {
    png = null; // SVG stays the picture of record
  }
  return { svg, png };
}
