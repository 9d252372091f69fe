'use client';
/**
 * The dashboard's one table: columns, sorting where a column offers it, cursor pages, and the
 * loading, empty and error states of what it lists. Named by its caption; sorting is a button in
 * the column's header (Tab, then Enter or Space), and the sorted column's header alone carries
 * `aria-sort`, as in the WAI-ARIA practices' sortable table; paging is a pair of buttons in a
 * navigation region. Every view that lists rows draws them through here.
 */
import { useCallback, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import type { CursorTrail, SortState } from '../lib/table';
import { FIRST_PAGE, currentCursor, newerPage, nextSort, olderPage, sortRows } from '../lib/table';
import { Empty, ErrorNotice, Loading } from './ui';

export interface Column<Row> {
  key: string;
  /** The header's text, which is also the column's accessible name. */
  header: string;
  /** Kept for screen readers only (a column of buttons). */
  hideHeader?: boolean;
  /** Right-aligned figures. */
  numeric?: boolean;
  cell: (row: Row) => ReactNode;
  /** Offered sorting: what rows are compared by. */
  sortValue?: (row: Row) => string | number;
  /** The cell's `data-field`, for whoever reads the table (tests, tools). */
  field?: string;
  className?: string;
  headerClassName?: string;
}

/** What to show instead of rows: an error, loading, or nothing to list. */
export interface ListStates {
  /** The error in words, when reading failed. */
  error?: { title: string; message: string; onRetry?: () => void } | null;
  /** What is being read, for "Loading …". */
  loading: string;
  empty: { title: string; children?: ReactNode };
}

/**
 * Loading, error or empty, else what the rows make: for a table, or for a view whose whole form
 * stands on a list.
 */
export function WithRows<Row>({ rows, states, children }: { rows: readonly Row[] | null; states: ListStates; children: (rows: readonly Row[]) => ReactNode }) {
  if (states.error) return <ErrorNotice title={states.error.title} message={states.error.message} onRetry={states.error.onRetry} />;
  if (rows === null) return <Loading what={states.loading} />;
  if (rows.length === 0) return <Empty title={states.empty.title}>{states.empty.children}</Empty>;
  return <>{children(rows)}</>;
}

/** Cursor pages of a list the API pages: the trail of cursors opened so far. */
export function useCursorPages() {
  const [trail, setTrail] = useState<CursorTrail>(FIRST_PAGE);
  return {
    cursor: currentCursor(trail),
    page: trail.length,
    onFirstPage: trail.length === 1,
    newer: useCallback(() => setTrail(newerPage), []),
    older: useCallback((next: string) => setTrail((t) => olderPage(t, next)), []),
    reset: useCallback(() => setTrail(FIRST_PAGE), []),
  };
}

export type CursorPages = ReturnType<typeof useCursorPages>;

function Pager({ pages, nextCursor, label }: { pages: CursorPages; nextCursor: string | null; label: string }) {
  if (pages.onFirstPage && !nextCursor) return null;
  return (
    <nav aria-label={`Pages of ${label.toLowerCase()}`} className="mt-3 flex items-center gap-2">
      <button type="button" className="btn" disabled={pages.onFirstPage} onClick={pages.newer}>
        ← Newer
      </button>
      <span className="text-sm text-slate-600">Page {pages.page}</span>
      <button type="button" className="btn" disabled={!nextCursor} onClick={() => nextCursor && pages.older(nextCursor)}>
        Older →
      </button>
    </nav>
  );
}

function SortableHeader({ header, active, onSort }: { header: string; active: SortState | null; onSort: () => void }) {
  const arrow = active ? (active.direction === 'ascending' ? '▲' : '▼') : '↕';
  return (
    <button type="button" className="inline-flex items-center gap-1 uppercase hover:text-sky-900" onClick={onSort}>
      {header}
      <span aria-hidden="true" className={active ? 'text-sky-800' : 'text-slate-400'}>
        {arrow}
      </span>
    </button>
  );
}

/** What a row is to whoever reads the page: its key, and the `data-*` attributes of its `<tr>`. */
export type RowIdentity = { key: string } & { [attribute: `data-${string}`]: string | undefined };

/** A table as a view declares it: what it is called, its columns, what identifies a row. */
export interface TableSpec<Row> {
  /** The table's name (its caption, read by screen readers); "Loading …" and the error title say it too. */
  label: string;
  columns: Column<Row>[];
  row: (row: Row) => RowIdentity;
  /** What "Loading …" names, if not the label. */
  loading?: string;
  /** The error's title, if not "The <label> could not be loaded". */
  errorTitle?: string;
}

export interface DataTableProps<Row> {
  table: TableSpec<Row>;
  /** null while they are read. */
  rows: readonly Row[] | null;
  /** Why they could not be read, in words; with a way to try again. */
  error?: string | null;
  onRetry?: () => void;
  empty: ListStates['empty'];
  /** A row drawn instead of its cells (an editor in place), or null for the cells. */
  rowOverride?: (row: Row, columns: number) => ReactNode | null;
  /** A line above the table, inside its frame (what the rows add up to). */
  summary?: ReactNode;
  /** Rows of a `<tfoot>` (totals). */
  footer?: ReactNode;
  /** The card a listing stands in, or none inside another panel. */
  frame?: 'card' | 'none';
  /** Cursor pages, when the API pages the list. */
  paging?: { pages: CursorPages; nextCursor: string | null };
  className?: string;
}

export function DataTable<Row>(props: DataTableProps<Row>) {
  const { table: spec, rows, error, onRetry, empty, rowOverride, summary, footer, frame = 'card', paging, className = '' } = props;
  const { label, columns } = spec;
  const states: ListStates = {
    error: error ? { title: spec.errorTitle ?? `The ${label.toLowerCase()} could not be loaded`, message: error, onRetry } : null,
    loading: spec.loading ?? label.toLowerCase(),
    empty,
  };
  const [sort, setSort] = useState<SortState | null>(null);
  const sortBy = columns.find((c) => c.key === sort?.column)?.sortValue;
  const shown = useMemo(() => (rows ? sortRows(rows, sort, sortBy) : null), [rows, sort, sortBy]);

  const table = (list: readonly Row[]) => (
    <table className={`table ${className}`}>
      <caption className="sr-only">{label}</caption>
      <thead>
        <tr>
          {columns.map((c) => {
            const active = sort?.column === c.key ? sort : null;
            return (
              <th
                key={c.key}
                scope="col"
                className={`${c.numeric ? 'text-right' : ''} ${c.headerClassName ?? ''}`}
                aria-sort={active?.direction}
              >
                {c.hideHeader ? (
                  <span className="sr-only">{c.header}</span>
                ) : c.sortValue ? (
                  <SortableHeader header={c.header} active={active} onSort={() => setSort((s) => nextSort(s, c.key))} />
                ) : (
                  c.header
                )}
              </th>
            );
          })}
        </tr>
      </thead>
      <tbody>
        {list.map((row) => {
          const override = rowOverride?.(row, columns.length);
          if (override) return override;
          const { key, ...attributes } = spec.row(row);
          return (
            <tr key={key} {...attributes}>
              {columns.map((c) => (
                <td key={c.key} data-field={c.field} className={`${c.numeric ? 'text-right tabular-nums' : ''} ${c.className ?? ''}`}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
      {footer && <tfoot>{footer}</tfoot>}
    </table>
  );

  return (
    <>
      <WithRows rows={shown} states={states}>
        {(list) =>
          frame === 'card' ? (
            <div className="card overflow-x-auto">
              {summary && <p className="border-b border-slate-100 px-3 py-2 text-sm text-slate-700">{summary}</p>}
              {table(list)}
            </div>
          ) : (
            <>
              {summary && <p className="mb-2 text-sm text-slate-700">{summary}</p>}
              {table(list)}
            </>
          )
        }
      </WithRows>
      {/* Also under an empty page: the way back stays. */}
      {paging && shown && <Pager pages={paging.pages} nextCursor={paging.nextCursor} label={label} />}
    </>
  );
}
