'use client';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { AuditEntry, AuditFilter } from '../../lib/api';
import { api, errorText } from '../../lib/api';
import { COMMANDS, changeLines, fromLocalInput, mayFollowACommand, outcomeOf, toLocalInput } from '../../lib/audit';
import { useLiveEvents } from '../../lib/hooks';
import { Badge, Empty, ErrorNotice, Loading, OrderLink, PageHeader, Time } from '../ui';

const PAGE_SIZE = 25;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Re-read at most this often while events caused by commands arrive. */
const LIVE_MIN_MS = 1_000;
/** Re-read this often anyway: operator tools (a redrive) publish no event to say they ran. */
const POLL_MS = 10_000;
const FILTERS = ['subject', 'route', 'target', 'from', 'to'] as const;

function Change({ entry }: { entry: AuditEntry }) {
  const { lines, error, started } = changeLines(entry.change);
  if (started && entry.status === null) return <span className="text-slate-600">began; its outcome follows</span>;
  return (
    <ul className="space-y-0.5">
      {lines.map((l) => (
        <li key={l.field}>
          <span className="text-slate-600">{l.field}:</span>{' '}
          {l.before !== undefined ? (
            <>
              <span className="tabular-nums">{l.before}</span> <span aria-label="became">→</span> <span className="font-semibold tabular-nums">{l.after}</span>
            </>
          ) : (
            <span className="tabular-nums">{l.after}</span>
          )}
        </li>
      ))}
      {error && <li className="text-red-800">stopped: {error}</li>}
    </ul>
  );
}

export function AuditView() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const filter: AuditFilter = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) ?? ''])) as AuditFilter;
  const filterKey = FILTERS.map((k) => filter[k]).join('\u0001');
  const [inputs, setInputs] = useState({ subject: filter.subject ?? '', route: filter.route ?? '', target: filter.target ?? '', from: toLocalInput(filter.from ?? ''), to: toLocalInput(filter.to ?? '') });
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<{ items: AuditEntry[]; nextCursor: string | null } | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [checkedAt, setCheckedAt] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const cursor = cursors.at(-1) ?? null;
  const shown = useRef<Set<string> | null>(null);

  useEffect(() => {
    setInputs({ subject: filter.subject ?? '', route: filter.route ?? '', target: filter.target ?? '', from: toLocalInput(filter.from ?? ''), to: toLocalInput(filter.to ?? '') });
    shown.current = null;
  }, [filterKey]);

  useEffect(() => {
    const ctl = new AbortController();
    api.listAudit({ ...filter, cursor, limit: PAGE_SIZE }, ctl.signal).then(
      (p) => {
        setError(null);
        // Entries not on the page before this read are marked new (not on the first read).
        const before = shown.current;
        setFresh(before && cursor === null ? new Set(p.items.filter((e) => !before.has(e.id)).map((e) => e.id)) : new Set());
        shown.current = new Set(p.items.map((e) => e.id));
        setPage(p);
        setCheckedAt(new Date().toISOString());
      },
      (err: unknown) => {
        if ((err as Error).name !== 'AbortError') setError(errorText(err));
      },
    );
    return () => ctl.abort();
  }, [filterKey, cursor, reloads]);

  const reload = useCallback(() => setReloads((n) => n + 1), []);

  // Live: on the first page, read again soon after an event a command published, and every POLL_MS.
  const firstPage = cursors.length === 1;
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const soon = useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      last.current = Date.now();
      reload();
    }, Math.max(0, last.current + LIVE_MIN_MS - Date.now()));
  }, [reload]);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);
  useEffect(() => {
    if (!firstPage) return;
    const t = setInterval(reload, POLL_MS);
    return () => clearInterval(t);
  }, [firstPage, reload]);
  useLiveEvents(
    null,
    (events) => {
      if (firstPage && mayFollowACommand(events)) soon();
    },
    reload,
  );

  function apply(next: Partial<Record<(typeof FILTERS)[number], string>>) {
    const q = new URLSearchParams(params.toString());
    for (const [k, v] of Object.entries(next)) {
      if (v) q.set(k, v);
      else q.delete(k);
    }
    setCursors([null]);
    setPage(null);
    router.replace(`${pathname}${q.size ? `?${q}` : ''}`);
  }
  const filtered = FILTERS.some((k) => filter[k]);
  const rangeInvalid = inputs.from !== '' && inputs.to !== '' && fromLocalInput(inputs.from) >= fromLocalInput(inputs.to);

  return (
    <>
      <PageHeader
        title="Audit trail"
        description="Every change a person made, newest first: who, what, when, from where, and the outcome. Each entry is written with its change and chained to the one before it; new entries appear as they are made."
      >
        {checkedAt && firstPage && (
          <span className="text-xs text-slate-600">
            Checked <Time iso={checkedAt} />
          </span>
        )}
      </PageHeader>
      <form
        className="card mb-4 grid grid-cols-1 gap-4 p-4 sm:grid-cols-2 lg:grid-cols-6"
        onSubmit={(e) => {
          e.preventDefault();
          if (rangeInvalid) return;
          apply({ subject: inputs.subject.trim(), route: inputs.route.trim(), target: inputs.target.trim(), from: fromLocalInput(inputs.from), to: fromLocalInput(inputs.to) });
        }}
      >
        <div className="lg:col-span-2">
          <label htmlFor="audit-subject" className="label">
            Who (subject)
          </label>
          <input id="audit-subject" className="input font-mono" value={inputs.subject} placeholder="a subject, e.g. a customer's id" onChange={(e) => setInputs({ ...inputs, subject: e.target.value })} />
        </div>
        <div className="lg:col-span-2">
          <label htmlFor="audit-route" className="label">
            What (route)
          </label>
          <input id="audit-route" className="input font-mono" list="audit-routes" value={inputs.route} placeholder="e.g. PATCH /products/{id}" onChange={(e) => setInputs({ ...inputs, route: e.target.value })} />
          <datalist id="audit-routes">
            {COMMANDS.map((r) => (
              <option key={r} value={r} />
            ))}
          </datalist>
        </div>
        <div className="lg:col-span-2">
          <label htmlFor="audit-target" className="label">
            Target id
          </label>
          <input id="audit-target" className="input font-mono" value={inputs.target} placeholder="an order, a product, a queue" onChange={(e) => setInputs({ ...inputs, target: e.target.value })} />
        </div>
        <div className="lg:col-span-2">
          <label htmlFor="audit-from" className="label">
            From
          </label>
          <input id="audit-from" type="datetime-local" className="input" value={inputs.from} onChange={(e) => setInputs({ ...inputs, from: e.target.value })} />
        </div>
        <div className="lg:col-span-2">
          <label htmlFor="audit-to" className="label">
            Until
          </label>
          <input
            id="audit-to"
            type="datetime-local"
            className="input"
            value={inputs.to}
            aria-invalid={rangeInvalid}
            aria-describedby={rangeInvalid ? 'audit-to-error' : undefined}
            onChange={(e) => setInputs({ ...inputs, to: e.target.value })}
          />
          {rangeInvalid && (
            <p id="audit-to-error" className="mt-1 text-xs text-red-800">
              Until must be later than From.
            </p>
          )}
        </div>
        <div className="flex items-end gap-2 lg:col-span-2">
          <button type="submit" className="btn" disabled={rangeInvalid}>
            Apply
          </button>
          {filtered && (
            <button type="button" className="btn" onClick={() => apply(Object.fromEntries(FILTERS.map((k) => [k, ''])))}>
              Clear filters
            </button>
          )}
        </div>
      </form>
      <p className="sr-only" role="status" aria-live="polite">
        {fresh.size > 0 ? `${fresh.size} new audit entr${fresh.size === 1 ? 'y' : 'ies'}` : ''}
      </p>
      {error && <ErrorNotice title="The audit trail could not be loaded" message={error} onRetry={reload} />}
      {!page && !error && <Loading what="the audit trail" />}
      {page && page.items.length === 0 && (
        <Empty title={filtered ? 'No entry matches these filters' : 'No entries yet'}>An entry appears here as soon as someone places, cancels or moves an order, edits a product or redrives a queue.</Empty>
      )}
      {page && page.items.length > 0 && (
        <div className="card overflow-x-auto">
          <table className="table" aria-label="Audit trail">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">Target</th>
                <th scope="col">Change</th>
                <th scope="col">Outcome</th>
                <th scope="col">From</th>
                <th scope="col">Correlation id</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((e) => {
                const outcome = outcomeOf(e.status);
                const isOrder = e.route.includes('/orders');
                return (
                  <tr key={e.id} data-audit-id={e.id} data-audit-route={e.route} className={fresh.has(e.id) ? 'bg-sky-50' : undefined}>
                    <td>
                      <Time iso={e.at} withDate />
                    </td>
                    <td>
                      <button type="button" className="link font-mono text-xs" title={`Only ${e.subject}'s entries`} onClick={() => apply({ subject: e.subject })}>
                        {UUID.test(e.subject) ? e.subject.slice(0, 8) : e.subject}
                      </button>{' '}
                      <Badge tone={e.role === 'operator' ? 'neutral' : 'muted'}>{e.role}</Badge>
                    </td>
                    <td className="font-mono text-xs">{e.route}</td>
                    <td className="text-xs">
                      {e.targets.map((t) => (
                        <span key={t} className="mr-2 inline-flex items-center gap-1">
                          {isOrder && UUID.test(t) ? <OrderLink id={t} /> : <span className="font-mono">{UUID.test(t) ? t.slice(0, 8) : t}</span>}
                          <button type="button" className="link" aria-label={`Only entries about ${t}`} title={`Only entries about ${t}`} onClick={() => apply({ target: t })}>
                            <span aria-hidden="true">⌕</span>
                          </button>
                        </span>
                      ))}
                    </td>
                    <td className="text-xs">
                      <Change entry={e} />
                    </td>
                    <td>
                      <Badge tone={outcome.tone}>{outcome.label}</Badge>
                    </td>
                    <td className="font-mono text-xs text-slate-700">{e.source ?? '—'}</td>
                    <td className="font-mono text-xs text-slate-700" title={`${e.service} database, chain ${e.chain}, entry ${e.seq}`}>
                      {e.correlationId.length > 14 ? `${e.correlationId.slice(0, 14)}…` : e.correlationId}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {page && (cursors.length > 1 || page.nextCursor) && (
        <nav aria-label="Pages" className="mt-3 flex items-center gap-2">
          <button type="button" className="btn" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
            ← Newer
          </button>
          <span className="text-sm text-slate-600">Page {cursors.length}</span>
          <button type="button" className="btn" disabled={!page.nextCursor} onClick={() => setCursors((c) => [...c, page.nextCursor])}>
            Older →
          </button>
        </nav>
      )}
    </>
  );
}
