/**
 * The Audit page's rules, pure: which routes to offer in the filter, when the live socket says an
 * audited change may just have happened, and how an entry's change and outcome read.
 */
import { CLI_COMMANDS, ROUTES } from '../../functions/catalog';
import type { Tone } from '../components/ui';
import { formatCents } from './events';

/** What people change, as entries name it: every route that is not a read, and the operator tools. */
export const COMMANDS: string[] = [...Object.values(ROUTES).filter((r) => !r.startsWith('GET ')), ...Object.values(CLI_COMMANDS)];

/**
 * Whether a batch of events may follow an audited change: an event a request published directly
 * (a command's order.created, order.cancelled, order.updated, inventory.updated) has no causing
 * event. Operator tools that publish nothing (a redrive) are found by the page's slower poll.
 */
export function mayFollowACommand(events: readonly { causationId: string | null }[]): boolean {
  return events.some((e) => e.causationId === null);
}

const LABELS: Record<string, string> = {
  priceCents: 'price',
  totalCents: 'total',
  lowStockThreshold: 'low-stock threshold',
  customerId: 'customer',
};

function valueText(key: string, value: unknown, currency: string): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number' && key.endsWith('Cents')) return formatCents(value, currency);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The order fields read in, whatever order the database keeps them in (jsonb sorts its members). */
const FIELD_ORDER = ['status', 'sku', 'name', 'priceCents', 'stock', 'lowStockThreshold', 'customerId', 'totalCents', 'lines'];
const rank = (key: string) => {
  const i = FIELD_ORDER.indexOf(key);
  return i < 0 ? FIELD_ORDER.length : i;
};

export interface ChangeLine {
  field: string;
  /** Absent for a value that was set, not changed. */
  before?: string;
  after: string;
}

/** An entry's change as lines: `field: before → after` for edits, `field: value` for what was set or done. */
export function changeLines(change: unknown): { lines: ChangeLine[]; error: string | null; started: boolean } {
  if (change === null || typeof change !== 'object') return { lines: [], error: null, started: change === null };
  const c = change as Record<string, unknown>;
  const after = (c.after ?? null) as Record<string, unknown> | null;
  const before = (c.before ?? null) as Record<string, unknown> | null;
  const currency = typeof after?.currency === 'string' ? after.currency : 'USD';
  const lines: ChangeLine[] = [];
  if (after && typeof after === 'object') {
    for (const [key, value] of Object.entries(after).sort(([a], [b]) => rank(a) - rank(b))) {
      if (key === 'currency') continue;
      const field = LABELS[key] ?? key;
      lines.push(before && key in before ? { field, before: valueText(key, before[key], currency), after: valueText(key, value, currency) } : { field, after: valueText(key, value, currency) });
    }
  }
  for (const [key, value] of Object.entries(c)) {
    if (key === 'before' || key === 'after' || key === 'error') continue;
    lines.push({ field: key, after: valueText(key, value, currency) });
  }
  return { lines, error: typeof c.error === 'string' ? c.error : null, started: false };
}

/** The outcome: the status answered, or, for an operator action still to report, that it started. */
export function outcomeOf(status: number | null): { label: string; tone: Tone } {
  if (status === null) return { label: 'started', tone: 'progress' };
  if (status < 300) return { label: String(status), tone: 'good' };
  if (status < 500) return { label: String(status), tone: 'warn' };
  return { label: String(status), tone: 'bad' };
}

/** An ISO time as a datetime-local input shows it (the reader's time zone, to the minute). */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A datetime-local input's value (the reader's time zone) as an ISO time; '' when empty or invalid. */
export function fromLocalInput(value: string): string {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}
