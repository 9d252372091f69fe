/**
 * Every HTTP call of the dashboard goes through here, each with the reader's access token.
 * Errors become ApiError, whose `message` is written for a person: problem+json details, the
 * fields at fault, or what to do when the API cannot be reached.
 */
import type { Order } from '../../functions/order/store';
import type { Product } from '../../functions/inventory/domain/stock';
import type { PublicPayment as Payment } from '../../functions/payment/store';
import type { OrderStats } from '../../functions/order/domain/stats';
import type { DeadLetterSummary } from '../../shared/messaging/dlq';
import type { StoredAuditEntry } from '../../shared/audit/store';
import type { Run } from '../../shared/history/runs';
import type { OrderStatus } from '../../shared/events/types';
import type { PaymentToken } from '../../shared/payments/test-tokens';
import { accessToken, refusedToken } from './auth';
import { loadConfig } from './config';
import type { LiveEvent } from './events';

export type { Order, Product, Payment, OrderStats, DeadLetterSummary };

/** An audit trail entry as GET /audit answers it: where it is kept, and its place in its chain there. */
export type AuditEntry = StoredAuditEntry & { service: 'order' | 'payment' | 'inventory' };

export interface AuditFilter {
  subject?: string;
  route?: string;
  target?: string;
  /** ISO times: at or after, before. */
  from?: string;
  to?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface FieldError {
  pointer: string;
  detail: string;
}

interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: FieldError[];
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly fieldErrors: FieldError[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const first = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** A problem+json answer in words. */
export function describeProblem(status: number, problem: Problem | null): string {
  const detail = problem?.detail ? sentence(problem.detail) : '';
  switch (status) {
    case 400:
    case 422:
      return detail || 'The request was not accepted: check the fields and try again.';
    case 401:
      return 'Your session has ended. Sign in again to go on.';
    case 403:
      return detail || 'Your account may not do this.';
    case 404:
      return detail || 'It does not exist (any more).';
    case 409:
      return `Not possible now: ${detail || 'the order or product changed in the meantime.'} Reload to see its current state.`;
    case 413:
      return 'The request is too large.';
    case 415:
      return 'The request was not sent as JSON.';
    case 429:
      return 'Too many requests: wait a moment and try again.';
    case 503:
      return 'A service EventFlow depends on (database or broker) is unavailable right now. Try again in a few seconds.';
    default:
      return status >= 500
        ? `EventFlow failed to handle the request${detail ? `: ${detail}` : '.'} Try again; if it persists, look at the service logs.`
        : detail || `The request failed (HTTP ${status}).`;
  }
}

async function request<T>(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<T> {
  const { apiUrl } = await loadConfig();
  const send = async (token: string) => {
    try {
      return await fetch(`${apiUrl}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${token}`,
          ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...opts.headers,
        },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal,
        cache: 'no-store',
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiError(`The EventFlow API at ${apiUrl} cannot be reached. Is it running? Check your connection and try again.`, null);
    }
  };
  const token = await accessToken();
  let res = await send(token);
  if (res.status === 401) {
    // Revoked, or expired in between: one renewal, one retry (the Idempotency-Key, if any, goes again).
    const renewed = await refusedToken(token);
    if (renewed) res = await send(renewed);
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  if (!res.ok) {
    const problem = json && typeof json === 'object' ? (json as Problem) : null;
    throw new ApiError(describeProblem(res.status, problem), res.status, problem?.errors ?? []);
  }
  return json as T;
}

const query = (params: Record<string, string | number | undefined | null>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
};

export interface NewOrder {
  customerId: string;
  items: { productId: string; quantity: number }[];
  paymentToken: PaymentToken;
}

export interface QueueInfo {
  name: string;
  depth: number;
  consumers: number;
  /** One partition is the queue itself; a partitioned queue lists each. */
  partitions: { name: string; depth: number; consumers: number }[];
  deadLetter: { name: string; depth: number };
}

export interface DeadLetters {
  queue: string;
  deadLetterQueue: string;
  depth: number;
  messages: DeadLetterSummary[];
  truncated: boolean;
}

/** A rebuild, check or replay, as GET /history/* lists it (functions/platform/history.ts). */
export type HistoryRun = Run & {
  progress: { done: number; total: number; percent: number; ratePerSecond: number; secondsLeft: number | null } | null;
};

export interface ProjectionInfo {
  name: string;
  title: string;
  owner: string;
  sources: string[];
  modes: ('rebuild' | 'check')[];
  active: HistoryRun | null;
  last: HistoryRun | null;
}

export interface ReplayRequest {
  service: 'order' | 'payment' | 'inventory';
  from: string;
  to: string;
  queue: string;
  orderId?: string;
  ratePerSecond?: number;
}

export const api = {
  listOrders: (f: { status?: OrderStatus | ''; customerId?: string; cursor?: string | null; limit?: number }, signal?: AbortSignal) =>
    request<Page<Order>>('GET', `/orders${query({ status: f.status, customerId: f.customerId, cursor: f.cursor, limit: f.limit })}`, { signal }),
  getOrder: (id: string, signal?: AbortSignal) => request<Order>('GET', `/orders/${encodeURIComponent(id)}`, { signal }),
  orderEvents: (id: string, signal?: AbortSignal) => request<Page<LiveEvent>>('GET', `/orders/${encodeURIComponent(id)}/events`, { signal }),
  createOrder: (order: NewOrder, idempotencyKey: string) =>
    request<Order>('POST', '/orders', { body: order, headers: { 'idempotency-key': idempotencyKey } }),
  cancelOrder: (id: string) => request<Order>('DELETE', `/orders/${encodeURIComponent(id)}`),
  moveOrder: (id: string, status: OrderStatus) => request<Order>('PATCH', `/orders/${encodeURIComponent(id)}`, { body: { status } }),
  orderStats: (signal?: AbortSignal) => request<OrderStats>('GET', '/stats/orders', { signal }),

  listProducts: (cursor?: string | null, signal?: AbortSignal) => request<Page<Product>>('GET', `/products${query({ cursor, limit: 100 })}`, { signal }),
  createProduct: (p: { sku: string; name: string; priceCents: number; stock: number; lowStockThreshold: number }) =>
    request<Product>('POST', '/products', { body: p }),
  updateProduct: (id: string, changes: Partial<Pick<Product, 'name' | 'priceCents' | 'stock' | 'lowStockThreshold'>>) =>
    request<Product>('PATCH', `/products/${encodeURIComponent(id)}`, { body: changes }),

  listPayments: (f: { orderId?: string; cursor?: string | null; limit?: number }, signal?: AbortSignal) =>
    request<Page<Payment>>('GET', `/payments${query({ orderId: f.orderId, cursor: f.cursor, limit: f.limit })}`, { signal }),

  listQueues: (signal?: AbortSignal) => request<{ checkedAt: string; queues: QueueInfo[] }>('GET', '/queues', { signal }),
  deadLetters: (queue: string, signal?: AbortSignal) =>
    request<DeadLetters>('GET', `/queues/${encodeURIComponent(queue)}/dead-letters?limit=50`, { signal }),
  redrive: (queue: string) =>
    request<{ queue: string; deadLetterQueue: string; moved: number }>('POST', `/queues/${encodeURIComponent(queue)}/redrive`),

  listAudit: (f: AuditFilter & { cursor?: string | null; limit?: number }, signal?: AbortSignal) =>
    request<Page<AuditEntry>>('GET', `/audit${query({ subject: f.subject, route: f.route, target: f.target, from: f.from, to: f.to, cursor: f.cursor, limit: f.limit })}`, { signal }),
  listProjections: (signal?: AbortSignal) => request<{ projections: ProjectionInfo[] }>('GET', '/history/projections', { signal }),
  rebuildProjection: (name: string, mode: 'rebuild' | 'check') =>
    request<{ run: HistoryRun }>('POST', `/history/projections/${encodeURIComponent(name)}/rebuild`, { body: { mode } }),
  listReplays: (signal?: AbortSignal) => request<{ replays: HistoryRun[] }>('GET', '/history/replays', { signal }),
  startReplay: (r: ReplayRequest) => request<{ run: HistoryRun }>('POST', '/history/replays', { body: r }),
};

/** Every product, following the cursor (the catalog is small; the API pages by 100). */
export async function allProducts(signal?: AbortSignal): Promise<Product[]> {
  const out: Product[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<Product> = await api.listProducts(cursor, signal);
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && out.length < 10_000);
  return out;
}

/** An error in words, whatever was thrown. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return `Something went wrong in the dashboard: ${err.message}`;
  return 'Something went wrong in the dashboard.';
}
