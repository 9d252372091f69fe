import { describe, expect, it } from 'vitest';
import { FIRST_PAGE, currentCursor, newerPage, nextSort, olderPage, sortRows } from './table';

const rows = [
  { sku: 'KB-10', stock: 3 },
  { sku: 'kb-2', stock: 10 },
  { sku: 'MS-1', stock: 3 },
  { sku: 'HD-7', stock: 0 },
];

describe('table sorting', () => {
  it('sorts by the column asked, numbers as numbers and text as people read it, stable', () => {
    expect(sortRows(rows, { column: 'stock', direction: 'ascending' }, (r) => r.stock).map((r) => r.sku)).toEqual(['HD-7', 'KB-10', 'MS-1', 'kb-2']);
    expect(sortRows(rows, { column: 'stock', direction: 'descending' }, (r) => r.stock).map((r) => r.sku)).toEqual(['kb-2', 'KB-10', 'MS-1', 'HD-7']);
    // "kb-2" before "KB-10": digits by value, case aside.
    expect(sortRows(rows, { column: 'sku', direction: 'ascending' }, (r) => r.sku).map((r) => r.sku)).toEqual(['HD-7', 'kb-2', 'KB-10', 'MS-1']);
  });

  it('keeps the order the rows came in without a sort, and leaves its input alone', () => {
    const input = [...rows];
    expect(sortRows(input, null, (r) => r.stock)).toEqual(rows);
    sortRows(input, { column: 'stock', direction: 'ascending' }, (r) => r.stock);
    expect(input).toEqual(rows);
  });

  it('sorts a new column ascending first, then turns it round', () => {
    const first = nextSort(null, 'stock');
    expect(first).toEqual({ column: 'stock', direction: 'ascending' });
    expect(nextSort(first, 'stock')).toEqual({ column: 'stock', direction: 'descending' });
    expect(nextSort(nextSort(first, 'stock'), 'stock')).toEqual({ column: 'stock', direction: 'ascending' });
    expect(nextSort(first, 'sku')).toEqual({ column: 'sku', direction: 'ascending' });
  });
});

describe('cursor pages', () => {
  it('opens older pages by their cursors and goes back one at a time, never before the first', () => {
    expect(currentCursor(FIRST_PAGE)).toBeNull();
    const second = olderPage(FIRST_PAGE, 'c2');
    const third = olderPage(second, 'c3');
    expect(currentCursor(third)).toBe('c3');
    expect(currentCursor(newerPage(third))).toBe('c2');
    expect(newerPage(newerPage(newerPage(third)))).toEqual(FIRST_PAGE);
  });
});
