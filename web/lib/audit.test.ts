import { describe, expect, it } from 'vitest';
import { COMMANDS, changeLines, fromLocalInput, mayFollowACommand, outcomeOf, toLocalInput } from './audit';

describe('the Audit page', () => {
  it('offers every route that is not a read, and the operator tools, as filters', () => {
    expect(COMMANDS).toEqual(expect.arrayContaining(['POST /orders', 'DELETE /orders/{id}', 'PATCH /orders/{id}', 'POST /products', 'PATCH /products/{id}', 'POST /queues/{queue}/redrive', 'CLI dlq redrive']));
    expect(COMMANDS.some((r) => r.startsWith('GET '))).toBe(false);
  });

  it('looks again when an event no other event caused arrives (a command published it)', () => {
    expect(mayFollowACommand([{ causationId: 'e1' }, { causationId: null }])).toBe(true);
    expect(mayFollowACommand([{ causationId: 'e1' }])).toBe(false);
    expect(mayFollowACommand([])).toBe(false);
  });

  it('reads a change as before → after, money as money, a creation as what was set, a tool as what it did', () => {
    expect(changeLines({ before: { stock: 10, priceCents: 1000 }, after: { stock: 25, priceCents: 1500 } }).lines).toEqual([
      { field: 'price', before: '$10.00', after: '$15.00' },
      { field: 'stock', before: '10', after: '25' },
    ]);
    expect(changeLines({ after: { lines: 1, status: 'PENDING', currency: 'EUR', totalCents: 250 } }).lines).toEqual([
      { field: 'status', after: 'PENDING' },
      { field: 'total', after: '€2.50' },
      { field: 'lines', after: '1' },
    ]);
    expect(changeLines({ moved: 3 })).toEqual({ lines: [{ field: 'moved', after: '3' }], error: null, started: false });
    expect(changeLines({ moved: 1, error: 'broker unavailable' })).toMatchObject({ lines: [{ field: 'moved', after: '1' }], error: 'broker unavailable' });
    expect(changeLines(null)).toEqual({ lines: [], error: null, started: true });
  });

  it('tells the outcome by its status; an action without one has only started', () => {
    expect(outcomeOf(201)).toEqual({ label: '201', tone: 'good' });
    expect(outcomeOf(null)).toEqual({ label: 'started', tone: 'progress' });
    expect(outcomeOf(503).tone).toBe('bad');
  });

  it('turns times between the URL (ISO) and the time inputs (local, to the minute)', () => {
    const iso = fromLocalInput('2030-05-06T07:08');
    expect(new Date(iso).getMinutes()).toBe(8);
    expect(toLocalInput(iso)).toBe('2030-05-06T07:08');
    expect(fromLocalInput('')).toBe('');
    expect(toLocalInput('nope')).toBe('');
  });
});
