/**
 * What the dashboard's one table (components/DataTable.tsx) decides without drawing: the order of
 * its rows under a sort a person chose, the next sort when a column's header is pressed, and the
 * cursor pages of a list the API pages. Pure.
 */

export type SortDirection = 'ascending' | 'descending';

export interface SortState {
  column: string;
  direction: SortDirection;
}

/** A column's sort after its header is pressed: ascending first, then the other way round. */
export function nextSort(current: SortState | null, column: string): SortState {
  if (current?.column !== column) return { column, direction: 'ascending' };
  return { column, direction: current.direction === 'ascending' ? 'descending' : 'ascending' };
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

function compareValues(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return collator.compare(String(a), String(b));
}

/**
 * The rows in the chosen order, stable (rows that compare equal keep the order they came in, which
 * is the API's); without a sort, as they came.
 */
export function sortRows<Row>(rows: readonly Row[], sort: SortState | null, valueOf: ((row: Row) => string | number) | undefined): Row[] {
  if (!sort || !valueOf) return [...rows];
  const sign = sort.direction === 'ascending' ? 1 : -1;
  return rows
    .map((row, i) => ({ row, i, v: valueOf(row) }))
    .sort((a, b) => sign * compareValues(a.v, b.v) || a.i - b.i)
    .map((x) => x.row);
}

/**
 * Where a person is in a list the API pages with cursors: the cursor of each page opened so far,
 * the first one null. Newer goes back one page, older opens the next.
 */
export type CursorTrail = readonly (string | null)[];

export const FIRST_PAGE: CursorTrail = [null];
export const currentCursor = (trail: CursorTrail) => trail.at(-1) ?? null;
export const newerPage = (trail: CursorTrail): CursorTrail => (trail.length > 1 ? trail.slice(0, -1) : trail);
export const olderPage = (trail: CursorTrail, next: string): CursorTrail => [...trail, next];
