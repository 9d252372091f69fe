'use client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, errorText } from '../../lib/api';
import { formatCents } from '../../lib/events';
import { useLiveEvents, useSampled } from '../../lib/hooks';
import { OverviewModel } from '../../lib/overview';
import type { Figures, OverviewSnapshot } from '../../lib/overview';
import { Chart } from '../Chart';
import { DataTable } from '../DataTable';
import type { TableSpec } from '../DataTable';
import { ErrorNotice, PageHeader, formatMs } from '../ui';

const percent = (r: number | null) => (r === null ? '—' : `${(r * 100).toFixed(r === 1 ? 0 : 1)} %`);

function FigureGrid({ id, title, figures, inFlight }: { id: string; title: string; figures: Figures; inFlight?: number }) {
  const items: [string, string, string][] = [
    ['placed', 'Placed', String(figures.placed)],
    ['confirmed', 'Confirmed', String(figures.confirmed)],
    ['failed', 'Failed', String(figures.failed)],
    ['cancelled', 'Cancelled', String(figures.cancelled)],
    ['revenue', 'Revenue', formatCents(figures.revenueCents)],
    ['successRate', 'Success rate', percent(figures.successRate)],
    ['p50', 'Settle time p50', formatMs(figures.p50Ms)],
    ['p95', 'Settle time p95', formatMs(figures.p95Ms)],
  ];
  return (
    <section aria-labelledby={`${id}-title`} className="card p-4">
      <h2 id={`${id}-title`} className="mb-3 text-sm font-semibold tracking-wide text-slate-700 uppercase">
        {title}
      </h2>
      <dl className="grid grid-cols-2 gap-x-4 gap-y-3 sm:grid-cols-4">
        {items.map(([key, label, value]) => (
          <div key={key}>
            <dt className="text-xs text-slate-600">{label}</dt>
            <dd className="text-xl font-semibold tabular-nums" data-figure={`${id}.${key}`}>
              {value}
            </dd>
          </div>
        ))}
        {inFlight !== undefined && (
          <div>
            <dt className="text-xs text-slate-600">In flight now</dt>
            <dd className="text-xl font-semibold tabular-nums" data-figure="inFlight">
              {inFlight}
            </dd>
          </div>
        )}
      </dl>
    </section>
  );
}

const clock = (t: number) => new Date(t * 1000).toLocaleTimeString('en-GB', { hour12: false });

interface ThroughputRow {
  t: number;
  placed: number;
  confirmed: number;
  failed: number;
  cancelled: number;
}

const THROUGHPUT_TABLE: TableSpec<ThroughputRow> = {
  label: 'Orders per 10 seconds, last 5 minutes',
  row: (r) => ({ key: String(r.t) }),
  columns: [
    { key: 'from', header: 'From', cell: (r) => clock(r.t) },
    { key: 'placed', header: 'Placed', cell: (r) => r.placed },
    { key: 'confirmed', header: 'Confirmed', cell: (r) => r.confirmed },
    { key: 'failed', header: 'Failed', cell: (r) => r.failed },
    { key: 'cancelled', header: 'Cancelled', cell: (r) => r.cancelled },
  ],
};

const SETTLE_TABLE: TableSpec<{ t: number; p50: number | null; p95: number | null; n: number }> = {
  label: 'Placed to final status, per 10 seconds, last 5 minutes',
  row: (r) => ({ key: String(r.t) }),
  columns: [
    { key: 'from', header: 'From', cell: (r) => clock(r.t) },
    { key: 'settled', header: 'Settled', cell: (r) => r.n },
    { key: 'p50', header: 'p50', cell: (r) => formatMs(r.p50) },
    { key: 'p95', header: 'p95', cell: (r) => formatMs(r.p95) },
  ],
};

function ThroughputTable({ s }: { s: OverviewSnapshot['throughput'] }) {
  const rows: ThroughputRow[] = [];
  for (let i = 0; i < s.t.length; i += 10) {
    const sum = (a: number[]) => a.slice(i, i + 10).reduce((x, y) => x + y, 0);
    rows.push({ t: s.t[i]!, placed: sum(s.placed), confirmed: sum(s.confirmed), failed: sum(s.failed), cancelled: sum(s.cancelled) });
  }
  const total = (k: 'placed' | 'confirmed' | 'failed' | 'cancelled') => rows.reduce((a, r) => a + r[k], 0);
  return (
    <details>
      <summary className="cursor-pointer text-slate-700">
        Last 5 minutes: {total('placed')} placed, {total('confirmed')} confirmed, {total('failed')} failed, {total('cancelled')} cancelled. Show as a table
      </summary>
      <DataTable
        table={THROUGHPUT_TABLE}
        frame="none"
        className="mt-2"
        rows={rows.filter((r) => r.placed + r.confirmed + r.failed + r.cancelled > 0)}
        empty={{ title: 'No order in the last 5 minutes' }}
      />
    </details>
  );
}

function SettleTable({ s }: { s: OverviewSnapshot['settle'] }) {
  const rows = s.t.map((t, i) => ({ t, p50: s.p50[i] ?? null, p95: s.p95[i] ?? null, n: s.count[i] ?? 0 })).filter((r) => r.n > 0);
  return (
    <details>
      <summary className="cursor-pointer text-slate-700">
        {rows.length ? `Latest: p50 ${formatMs(rows.at(-1)!.p50)}, p95 ${formatMs(rows.at(-1)!.p95)} over ${rows.at(-1)!.n} order(s).` : 'No order settled in the last 5 minutes.'}{' '}
        Show as a table
      </summary>
      <DataTable table={SETTLE_TABLE} frame="none" className="mt-2" rows={rows} empty={{ title: 'No order settled in the last 5 minutes' }} />
    </details>
  );
}

const THROUGHPUT = [
  { label: 'Placed', color: '#0369a1' },
  { label: 'Confirmed', color: '#059669' },
  { label: 'Failed', color: '#dc2626' },
  { label: 'Cancelled', color: '#64748b', dash: [4, 3] },
];
// p95 first, p50 drawn over it: p50 ≤ p95, so both bars show.
const SETTLE = [
  { label: 'p95', color: '#7dd3fc', bars: true },
  { label: 'p50', color: '#075985', bars: true },
];

export function OverviewView() {
  const model = useRef<OverviewModel>(null as unknown as OverviewModel);
  model.current ??= new OverviewModel();
  // Events move the model in place; the page reads it at most twice a second, and every second
  // anyway (the last minute moves on), however many events arrive.
  const listeners = useRef(new Set<() => void>());
  const changed = useCallback(() => listeners.current.forEach((l) => l()), []);
  const subscribe = useCallback((onChange: () => void) => {
    listeners.current.add(onChange);
    const tick = setInterval(onChange, 1000);
    return () => {
      listeners.current.delete(onChange);
      clearInterval(tick);
    };
  }, []);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    const ctl = new AbortController();
    setError(null);
    api.orderStats(ctl.signal).then(
      (stats) => {
        // Events received before the answer are kept in the model and counted if they are past its cut.
        model.current.seed(stats);
        changed();
      },
      (err: unknown) => {
        if ((err as Error).name !== 'AbortError') setError(errorText(err));
      },
    );
    return () => ctl.abort();
  }, [changed]);

  useEffect(() => load(), [load]);
  useLiveEvents(
    null,
    (events) => {
      model.current.add(events);
      changed();
    },
    load,
  );
  const snap = useSampled(subscribe, () => model.current.snapshot(), 500, () => model.current.snapshot());
  const throughputData = useMemo(
    () => [snap.throughput.t, snap.throughput.placed, snap.throughput.confirmed, snap.throughput.failed, snap.throughput.cancelled],
    [snap],
  );
  const settleData = useMemo(() => [snap.settle.t, snap.settle.p95, snap.settle.p50], [snap]);

  return (
    <>
      <PageHeader
        title="Overview"
        description="Orders across the saga, as they happen: what was placed, how it settled, how long it took. Figures move with every event."
      />
      {error && <ErrorNotice title="The figures could not be loaded" message={error} onRetry={load} />}
      <div aria-busy={!snap.seeded} className="grid gap-4 lg:grid-cols-2">
        <FigureGrid id="lastMinute" title="Last minute" figures={snap.lastMinute} inFlight={snap.inFlight} />
        <FigureGrid id="lastHour" title="Last hour" figures={snap.lastHour} />
      </div>
      <div className="mt-4 grid gap-4 lg:grid-cols-2">
        <section aria-labelledby="throughput-title" className="card p-4">
          <h2 id="throughput-title" className="text-base font-semibold">Throughput</h2>
          <p className="mb-2 text-xs text-slate-600">Orders per second by outcome, last 5 minutes</p>
          <Chart label="Orders per second by outcome over the last 5 minutes; the table below has the figures" series={THROUGHPUT} data={throughputData}>
            <ThroughputTable s={snap.throughput} />
          </Chart>
        </section>
        <section aria-labelledby="settle-title" className="card p-4">
          <h2 id="settle-title" className="text-base font-semibold">Settle time</h2>
          <p className="mb-2 text-xs text-slate-600">Placed → confirmed or failed, p50 and p95 per 10 seconds</p>
          <Chart label="Settle time p50 and p95 per 10 seconds over the last 5 minutes; the table below has the figures" series={SETTLE} data={settleData} yUnit={(v) => formatMs(v)}>
            <SettleTable s={snap.settle} />
          </Chart>
        </section>
      </div>
    </>
  );
}
