'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { AuditEntry, AuditFilter } from '../../lib/api';
import { api, errorText } from '../../lib/api';
import { COMMANDS, changeLines, fromLocalInput, mayFollowACommand, outcomeOf, toLocalInput } from '../../lib/audit';
import { useLiveEvents, useQueryFilters } from '../../lib/hooks';
import { DataTable, useCursorPages } from '../DataTable';
import type { TableSpec } from '../DataTable';
import { Badge, OrderLink, PageHeader, Time } from '../ui';

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

type Narrow = (filter: Partial<Record<(typeof FILTERS)[number], string>>) => void;

/** The trail's table; a row's person and targets narrow the list to them. */
function auditTable(narrow: Narrow, fresh: ReadonlySet<string>): TableSpec<AuditEntry> {
  return {
    label: 'Audit trail',
    loading: 'the audit trail',
    // data-fresh: not on the page before the last read, so marked until the next one.
    row: (e) => ({ key: e.id, 'data-audit-id': e.id, 'data-audit-route': e.route, 'data-fresh': fresh.has(e.id) ? 'true' : undefined }),
    columns: [
      { key: 'when', header: 'When', cell: (e) => <Time iso={e.at} withDate /> },
      {
        key: 'who',
        header: 'Who',
        cell: (e) => (
          <>
            <button type="button" className="link font-mono text-xs" title={`Only ${e.subject}'s entries`} onClick={() => narrow({ subject: e.subject })}>
              {UUID.test(e.subject) ? e.subject.slice(0, 8) : e.subject}
            </button>{' '}
            <Badge tone={e.role === 'operator' ? 'neutral' : 'muted'}>{e.role}</Badge>
          </>
        ),
      },
      { key: 'what', header: 'What', className: 'font-mono text-xs', cell: (e) => e.route },
      {
        key: 'target',
        header: 'Target',
        className: 'text-xs',
        cell: (e) =>
          e.targets.map((t) => (
            <span key={t} className="mr-2 inline-flex items-center gap-1">
              {e.route.includes('/orders') && UUID.test(t) ? <OrderLink id={t} /> : <span className="font-mono">{UUID.test(t) ? t.slice(0, 8) : t}</span>}
              <button type="button" className="link" aria-label={`Only entries about ${t}`} title={`Only entries about ${t}`} onClick={() => narrow({ target: t })}>
                <span aria-hidden="true">⌕</span>
              </button>
            </span>
          )),
      },
      { key: 'change', header: 'Change', className: 'text-xs', cell: (e) => <Change entry={e} /> },
      {
        key: 'outcome',
        header: 'Outcome',
        cell: (e) => {
          const outcome = outcomeOf(e.status);
          return <Badge tone={outcome.tone}>{outcome.label}</Badge>;
        },
      },
      { key: 'from', header: 'From', className: 'font-mono text-xs text-slate-700', cell: (e) => e.source ?? '—' },
      {
        key: 'correlation',
        header: 'Correlation id',
        className: 'font-mono text-xs text-slate-700',
        cell: (e) => <span title={`${e.service} database, chain ${e.chain}, entry ${e.seq}`}>{e.correlationId.length > 14 ? `${e.correlationId.slice(0, 14)}…` : e.correlationId}</span>,
      },
    ],
  };
}

export function AuditView() {
  const { params, setQuery } = useQueryFilters();
  const filter: AuditFilter = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) ?? ''])) as AuditFilter;
  const filterKey = FILTERS.map((k) => filter[k]).join('\u0001');
  const [inputs, setInputs] = useState({ subject: filter.subject ?? '', route: filter.route ?? '', target: filter.target ?? '', from: toLocalInput(filter.from ?? ''), to: toLocalInput(filter.to ?? '') });
  const pages = useCursorPages();
  const { cursor } = pages;
  const [page, setPage] = useState<{ items: AuditEntry[]; nextCursor: string | null } | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [checkedAt, setCheckedAt] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
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
  const firstPage = pages.onFirstPage;
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

  const apply: Narrow = (next) => {
    pages.reset();
    setPage(null);
    setQuery(next);
  };
  const table = auditTable(apply, fresh);
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
      <DataTable
        table={table}
        rows={page?.items ?? null}
        error={error}
        onRetry={reload}
        empty={{
          title: filtered ? 'No entry matches these filters' : 'No entries yet',
          children: 'An entry appears here as soon as someone places, cancels or moves an order, edits a product or redrives a queue.',
        }}
        paging={page ? { pages, nextCursor: page.nextCursor } : undefined}
      />
    </>
  );
}
