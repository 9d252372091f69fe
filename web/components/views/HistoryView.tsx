'use client';
import { useCallback, useEffect, useState } from 'react';
import type { TableComparison } from '../../../shared/history/table-rebuild';
import type { HistoryRun, ProjectionInfo, ReplayRequest } from '../../lib/api';
import { api, errorText } from '../../lib/api';
import { DataTable } from '../DataTable';
import { SelectField } from '../Fields';
import type { TableSpec } from '../DataTable';
import { Badge, ErrorNotice, Loading, PageHeader, SuccessNotice, Time } from '../ui';

/** While a run is active the page reads its progress every second; otherwise every five. */
const ACTIVE_EVERY_MS = 1_000;
const IDLE_EVERY_MS = 5_000;

const SERVICE_OPTIONS = ['order', 'payment', 'inventory'].map((s) => ({ value: s, label: s }));
const QUEUE_OPTIONS = ['order_queue', 'payment_queue', 'inventory_queue', 'notification_queue'].map((q) => ({ value: q, label: q }));

const fmt = (n: number) => n.toLocaleString('en-US');

function ProgressBar({ run, label }: { run: HistoryRun; label: string }) {
  const p = run.progress;
  const percent = p?.percent ?? 0;
  return (
    <div data-progress={run.id}>
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={run.status === 'requested' ? undefined : percent}
        aria-valuetext={run.status === 'requested' ? 'waiting for its worker' : `${percent} %`}
        className="h-2.5 w-full overflow-hidden rounded-full bg-slate-200"
      >
        <div className="h-full rounded-full bg-sky-700 transition-[width] duration-500" style={{ width: `${run.status === 'requested' ? 0 : percent}%` }} />
      </div>
      <p className="mt-1 text-xs text-slate-700" aria-live="polite">
        {run.status === 'requested'
          ? 'Requested: its worker starts it within its next tick.'
          : p
            ? `${fmt(p.done)} of ${fmt(p.total)} (${percent} %), ${fmt(p.ratePerSecond)}/s${p.secondsLeft !== null ? `, about ${p.secondsLeft} s left` : ''}`
            : 'Starting…'}
      </p>
    </div>
  );
}

function RunResult({ run }: { run: HistoryRun }) {
  if (run.status === 'failed') return <Badge tone="bad">failed: {run.error}</Badge>;
  const r = run.result as { equal?: boolean; differences?: number; swapped?: boolean; tables?: TableComparison[]; listed?: { figure: string }[]; writesHeldMs?: number } | null;
  if (!r) return null;
  return (
    <div>
      <p className="flex flex-wrap items-center gap-2">
        {r.equal ? <Badge tone="good">equal to the log</Badge> : <Badge tone="warn">{fmt(r.differences ?? 0)} difference(s)</Badge>}
        {r.swapped && <Badge tone="progress">live copy replaced</Badge>}
        <span className="text-xs text-slate-700">
          {run.kind} <Time iso={run.finishedAt ?? run.updatedAt} withDate />
          {r.writesHeldMs !== undefined && `, writers held ${r.writesHeldMs} ms`}
        </span>
      </p>
      {(r.tables?.length || r.listed?.length) && (
        <details className="mt-1 text-xs">
          <summary className="cursor-pointer text-slate-700">Details</summary>
          {r.tables?.map((t) => (
            <div key={t.table} className="mt-2">
              <p className="font-mono">
                {t.table}: live {fmt(t.liveRows)} rows ({t.liveChecksum.slice(0, 10)}), rebuilt {fmt(t.rebuiltRows)} rows ({t.rebuiltChecksum.slice(0, 10)})
              </p>
              {t.listed.length > 0 && (
                <ul className="mt-1 space-y-0.5">
                  {t.listed.map((d) => (
                    <li key={`${d.kind}-${d.key}`} className="font-mono break-all">
                      <span className="font-sans font-semibold">{d.kind}</span> {d.key}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          ))}
          {r.listed?.map((d) => (
            <p key={d.figure} className="mt-1 font-mono">
              {d.figure}
            </p>
          ))}
        </details>
      )}
    </div>
  );
}

function Projections({ projections, onChanged }: { projections: ProjectionInfo[]; onChanged: () => void }) {
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  async function start(p: ProjectionInfo, mode: 'rebuild' | 'check') {
    setBusy(`${p.name}-${mode}`);
    setMessage(null);
    try {
      await api.rebuildProjection(p.name, mode);
      setMessage({ ok: true, text: `${mode === 'rebuild' ? 'Rebuild' : 'Check'} of ${p.name} requested.` });
      onChanged();
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setBusy(null);
    }
  }

  const table: TableSpec<ProjectionInfo> = {
    label: 'Projections',
    row: (p) => ({ key: p.name, 'data-projection': p.name }),
    columns: [
      {
        key: 'projection',
        header: 'Projection',
        cell: (p) => (
          <>
            <span className="font-mono text-sm">{p.name}</span>
            <p className="text-xs text-slate-600">{p.title}</p>
          </>
        ),
      },
      { key: 'sources', header: 'From the log of', className: 'text-sm', cell: (p) => p.sources.join(', ') },
      {
        key: 'last',
        header: 'Last run',
        field: 'last',
        className: 'max-w-md',
        cell: (p) => (p.last ? <RunResult run={p.last} /> : <span className="text-sm text-slate-600">never</span>),
      },
      {
        key: 'active',
        header: 'Now',
        field: 'active',
        className: 'min-w-48',
        cell: (p) => (p.active ? <ProgressBar run={p.active} label={`${p.active.kind} of ${p.name}`} /> : <span className="text-sm text-slate-600">idle</span>),
      },
      {
        key: 'actions',
        header: 'Actions',
        hideHeader: true,
        cell: (p) => (
          <div className="flex gap-2">
            {p.modes.includes('rebuild') && (
              <button type="button" className="btn btn-primary" onClick={() => void start(p, 'rebuild')} disabled={busy !== null} aria-label={`Rebuild ${p.name}`}>
                Rebuild
              </button>
            )}
            <button type="button" className="btn" onClick={() => void start(p, 'check')} disabled={busy !== null} aria-label={`Check ${p.name}`}>
              Check
            </button>
          </div>
        ),
      },
    ],
  };

  return (
    <section aria-labelledby="projections-h" className="card p-4">
      <h2 id="projections-h" className="text-base font-semibold">
        Projections
      </h2>
      <p className="mt-1 text-sm text-slate-600">
        State derived from events, rebuilt from the event logs beside the live copy while orders flow: the live copy is compared (row counts, a
        checksum, every difference) and replaced by the rebuilt one, or a check only reports.
      </p>
      {message && (
        <div className="mt-3" data-history-message>
          {message.ok ? <SuccessNotice>{message.text}</SuccessNotice> : <ErrorNotice title="Not started" message={message.text} />}
        </div>
      )}
      <div className="mt-3 overflow-x-auto">
        <DataTable table={table} frame="none" rows={projections} empty={{ title: 'No projections' }} />
      </div>
    </section>
  );
}

/** A datetime-local value for a time, in the reader's zone. */
function localInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function ReplayForm({ onStarted }: { onStarted: () => void }) {
  const [form, setForm] = useState(() => ({
    service: 'order' as ReplayRequest['service'],
    from: localInput(new Date(Date.now() - 3_600_000)),
    to: localInput(new Date(Date.now() + 60_000)),
    queue: 'payment_queue',
    orderId: '',
    ratePerSecond: '200',
  }));
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [k]: e.target.value });

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      await api.startReplay({
        service: form.service,
        from: new Date(form.from).toISOString(),
        to: new Date(form.to).toISOString(),
        queue: form.queue,
        orderId: form.orderId.trim() || undefined,
        ratePerSecond: Number(form.ratePerSecond),
      });
      setMessage({ ok: true, text: `Replay of the ${form.service} log to ${form.queue} requested.` });
      onStarted();
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={(e) => void submit(e)} aria-labelledby="replay-h" className="card mt-6 p-4" data-replay-form>
      <h2 id="replay-h" className="text-base font-semibold">
        Replay to a queue
      </h2>
      <p className="mt-1 text-sm text-slate-600">
        Re-publishes a service&apos;s events, in log order and with their original ids, to one queue only. Its consumer skips what it already took,
        so a replay into a running consumer changes nothing; one restored from an older backup catches up.
      </p>
      <div className="mt-3 grid gap-3 sm:grid-cols-3">
        <SelectField id="replay-service" label="Log of" value={form.service} onChange={(service) => setForm({ ...form, service: service as ReplayRequest['service'] })} options={SERVICE_OPTIONS} />
        <div>
          <label className="label" htmlFor="replay-from">
            Written from
          </label>
          <input id="replay-from" type="datetime-local" className="input" value={form.from} onChange={set('from')} required />
        </div>
        <div>
          <label className="label" htmlFor="replay-to">
            Until
          </label>
          <input id="replay-to" type="datetime-local" className="input" value={form.to} onChange={set('to')} required />
        </div>
        <SelectField id="replay-queue" label="To the queue" value={form.queue} onChange={(queue) => setForm({ ...form, queue })} options={QUEUE_OPTIONS} />
        <div>
          <label className="label" htmlFor="replay-order">
            Order id (optional)
          </label>
          <input id="replay-order" className="input font-mono" value={form.orderId} onChange={set('orderId')} placeholder="every order" />
        </div>
        <div>
          <label className="label" htmlFor="replay-rate">
            Events per second
          </label>
          <input id="replay-rate" type="number" min={1} max={1000} className="input" value={form.ratePerSecond} onChange={set('ratePerSecond')} required />
        </div>
      </div>
      {message && (
        <div className="mt-3" data-replay-message>
          {message.ok ? <SuccessNotice>{message.text}</SuccessNotice> : <ErrorNotice title="Not started" message={message.text} />}
        </div>
      )}
      <button type="submit" className="btn btn-primary mt-3" disabled={busy}>
        {busy ? 'Requesting…' : 'Replay'}
      </button>
    </form>
  );
}

/** A replay as the API describes it: the run's parameters are what the replay form asked for. */
type Replay = HistoryRun & {
  params: { service?: string; queue?: string; from?: string; to?: string; orderId?: string };
  result: { published?: number; selected?: number } | null;
};

const REPLAY_TABLE: TableSpec<Replay> = {
  label: 'Replays',
  row: (r) => ({ key: r.id, 'data-replay': r.id, 'data-status': r.status }),
  columns: [
    { key: 'requested', header: 'Requested', cell: (r) => <Time iso={r.createdAt} withDate /> },
    {
      key: 'route',
      header: 'Log → queue',
      className: 'font-mono text-sm',
      cell: ({ params: p }) => (
        <>
          {p.service} → {p.queue}
          {p.orderId && <p className="text-xs">order {p.orderId.slice(0, 8)}</p>}
        </>
      ),
    },
    {
      key: 'window',
      header: 'Window',
      className: 'text-xs',
      cell: ({ params: p }) => (
        <>
          {p.from && <Time iso={p.from} withDate />} – {p.to && <Time iso={p.to} withDate />}
        </>
      ),
    },
    {
      key: 'progress',
      header: 'Progress',
      className: 'min-w-48',
      cell: (r) =>
        r.status === 'done' && r.result ? (
          <Badge tone="good">
            {fmt(r.result.published ?? 0)} published of {fmt(r.result.selected ?? 0)}
          </Badge>
        ) : r.status === 'failed' ? (
          <Badge tone="bad">failed: {r.error}</Badge>
        ) : (
          <ProgressBar run={r} label={`replay of the ${r.params.service} log to ${r.params.queue}`} />
        ),
    },
  ],
};

export function HistoryView() {
  const [projections, setProjections] = useState<ProjectionInfo[] | null>(null);
  const [replays, setReplays] = useState<HistoryRun[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((t) => t + 1), []);

  const active = (projections ?? []).some((p) => p.active) || (replays ?? []).some((r) => r.status === 'requested' || r.status === 'running');
  useEffect(() => {
    const ctl = new AbortController();
    Promise.all([api.listProjections(ctl.signal), api.listReplays(ctl.signal)]).then(
      ([p, r]) => {
        setProjections(p.projections);
        setReplays(r.replays);
        setError(null);
      },
      (err: unknown) => {
        if ((err as Error).name !== 'AbortError') setError(errorText(err));
      },
    );
    const timer = setTimeout(refresh, active ? ACTIVE_EVERY_MS : IDLE_EVERY_MS);
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
    // `active` only sets the pace of the next read.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tick, refresh]);

  return (
    <>
      <PageHeader
        title="History"
        description="Every service keeps every event it emitted, in order: its event log. From it, projections are rebuilt and consumers are sent events again."
      />
      {error && <ErrorNotice title="The history could not be read" message={error} onRetry={refresh} />}
      {!projections && !error && <Loading what="projections" />}
      {projections && <Projections projections={projections} onChanged={refresh} />}
      <ReplayForm onStarted={refresh} />
      <section aria-labelledby="replays-h" className="mt-6">
        <h2 id="replays-h" className="text-base font-semibold">
          Replays
        </h2>
        {replays && (
          <div className="mt-3">
            <DataTable table={REPLAY_TABLE} rows={replays as Replay[]} empty={{ title: 'No replay yet', children: 'A replay requested above appears here with its progress.' }} />
          </div>
        )}
      </section>
    </>
  );
}
