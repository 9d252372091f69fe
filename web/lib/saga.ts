/**
 * An order's saga as a swimlane: one lane per service, each event a step in history order (the
 * order's own events by version, effects after causes, time in between: shared/events/history.ts), the
 * compensations (stock released, payment refunded) marked as the reverse steps they are, and the
 * steps the saga still awaits given the order's status. Pure: the page draws what this returns.
 */
import { inHistoryOrder } from '../../shared/events/history';
import type { OrderStatus, Publisher } from '../../shared/events/types';
import type { LiveEvent, PaymentStatus } from './events';
import { SERVICE_NAMES, describeEvent, infoOf } from './events';

export type StepKind = 'step' | 'compensation' | 'failure' | 'pending';

export interface Step {
  key: string;
  lane: Publisher;
  type: string;
  label: string;
  kind: StepKind;
  /** Column in history order (pending steps come last). */
  column: number;
  /** ms since the order was placed; null for a pending step. */
  offsetMs: number | null;
  detail: string;
  /** Key of the step that caused this one, when both are on the lane. */
  causedBy: string | null;
  event: LiveEvent | null;
}

export interface Swimlane {
  lanes: Publisher[];
  steps: Step[];
  columns: number;
}

/** Merges event lists by id, in history order. */
export function mergeEvents(...lists: LiveEvent[][]): LiveEvent[] {
  const byId = new Map<string, LiveEvent>();
  for (const list of lists) for (const e of list) if (!byId.has(e.id) || byId.get(e.id)!.truncated) byId.set(e.id, e);
  return inHistoryOrder([...byId.values()]);
}

function pendingSteps(status: OrderStatus, types: Set<string>): { lane: Publisher; type: string; label: string; kind: StepKind }[] {
  const undone = status === 'FAILED' || status === 'CANCELLED';
  const out: { lane: Publisher; type: string; label: string; kind: StepKind }[] = [];
  if (status === 'PENDING') out.push({ lane: 'order', type: 'order.updated', label: 'Confirm or fail', kind: 'pending' });
  if (!types.has('inventory.reserved') && !types.has('inventory.reservation_failed')) {
    if (status === 'PENDING') out.push({ lane: 'inventory', type: 'inventory.reserved', label: 'Reserve stock', kind: 'pending' });
  } else if (undone && types.has('inventory.reserved') && !types.has('inventory.released')) {
    out.push({ lane: 'inventory', type: 'inventory.released', label: 'Release stock', kind: 'pending' });
  }
  if (!types.has('payment.processed') && !types.has('payment.failed')) {
    if (status === 'PENDING') out.push({ lane: 'payment', type: 'payment.processed', label: 'Charge card', kind: 'pending' });
  } else if (undone && types.has('payment.processed') && !types.has('payment.refunded')) {
    out.push({ lane: 'payment', type: 'payment.refunded', label: 'Refund', kind: 'pending' });
  }
  return out;
}

export function buildSwimlane(status: OrderStatus, events: LiveEvent[]): Swimlane {
  const sorted = inHistoryOrder(events);
  const placed = sorted.find((e) => e.type === 'order.created');
  const start = Date.parse((placed ?? sorted[0])?.occurredAt ?? new Date().toISOString());
  const ids = new Set(sorted.map((e) => e.id));
  const steps: Step[] = sorted.map((e, i) => {
    const info = infoOf(e.type);
    const label = e.type === 'order.updated' ? `${String((e.data as { status?: unknown }).status).toLowerCase()}` : info.label;
    return {
      key: e.id,
      lane: e.source,
      type: e.type,
      label: e.type === 'order.updated' ? label[0]!.toUpperCase() + label.slice(1) : label,
      kind: info.compensation ? 'compensation' : info.failure || (e.type === 'order.updated' && (e.data as { status?: unknown }).status === 'FAILED') ? 'failure' : 'step',
      column: i,
      offsetMs: Date.parse(e.occurredAt) - start,
      detail: describeEvent(e),
      causedBy: e.causationId && ids.has(e.causationId) ? e.causationId : null,
      event: e,
    };
  });
  const types = new Set(sorted.map((e) => e.type));
  const pending = pendingSteps(status, types).map(
    (p): Step => ({ key: `pending:${p.type}`, ...p, column: sorted.length, offsetMs: null, detail: 'awaited', causedBy: null, event: null }),
  );
  return { lanes: SERVICE_NAMES, steps: [...steps, ...pending], columns: sorted.length + (pending.length ? 1 : 0) };
}

/** The order's status as its events say, when they are newer than what was read over HTTP. */
export function statusFromEvents(current: { status: OrderStatus; version: number; failureReason: string | null }, events: LiveEvent[]) {
  let next = current;
  for (const e of events) {
    const d = e.data as { orderVersion?: number; status?: OrderStatus; reason?: string | null };
    if (typeof d.orderVersion !== 'number' || d.orderVersion <= next.version) continue;
    if (e.type === 'order.updated' && d.status) {
      next = { status: d.status, version: d.orderVersion, failureReason: d.status === 'FAILED' ? (d.reason ?? next.failureReason) : next.failureReason };
    } else if (e.type === 'order.cancelled') {
      next = { status: 'CANCELLED', version: d.orderVersion, failureReason: d.reason ?? next.failureReason };
    }
  }
  return next;
}

/** What the order page shows of a payment. */
export interface PaymentSummary {
  status: PaymentStatus;
  amountCents: number;
  currency: string | null;
  reason: string | null;
}

/**
 * The order's payment as its events tell it, for readers who may not list payments (customers:
 * the payment service does not know whose payment is whose). Events in publication order.
 */
export function paymentFromEvents(events: LiveEvent[]): PaymentSummary | null {
  let out: PaymentSummary | null = null;
  for (const e of events) {
    if (e.truncated) continue;
    const d = e.data as { amountCents?: number; currency?: string; reason?: string };
    const before = out as PaymentSummary | null;
    const amountCents = typeof d.amountCents === 'number' ? d.amountCents : (before?.amountCents ?? 0);
    const currency = typeof d.currency === 'string' ? d.currency : (before?.currency ?? null);
    if (e.type === 'payment.initiated') out = { status: 'CHARGING', amountCents, currency, reason: null };
    else if (e.type === 'payment.processed') out = { status: 'PROCESSED', amountCents, currency, reason: null };
    else if (e.type === 'payment.failed') out = { status: 'FAILED', amountCents, currency, reason: d.reason ?? null };
    else if (e.type === 'payment.refunded') out = { status: 'REFUNDED', amountCents, currency, reason: d.reason ?? null };
  }
  return out;
}
