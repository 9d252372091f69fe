'use client';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useCallback, useEffect, useState } from 'react';
import type { Order } from '../../lib/api';
import { api, errorText } from '../../lib/api';
import type { LiveEvent, OrderStatus } from '../../lib/events';
import { ORDER_STATUSES, STATUS_INFO, formatCents, orderIdOf } from '../../lib/events';
import { useAccount, useLiveEvents } from '../../lib/hooks';
import { statusFromEvents } from '../../lib/saga';
import { Empty, ErrorNotice, Loading, OrderLink, PageHeader, StatusBadge, Time } from '../ui';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PAGE_SIZE = 25;
/** New orders shown above the first page as they arrive; beyond this, the oldest of them drop off. */
const ARRIVED_MAX = 50;

/** An order as its order.created event describes it, for rows that appear live. */
function orderFromCreated(e: LiveEvent): Order | null {
  if (e.type !== 'order.created') return null;
  const d = e.data;
  return {
    id: d.orderId,
    customerId: d.customerId,
    status: 'PENDING',
    items: d.items,
    totalCents: d.totalCents,
    currency: d.currency,
    failureReason: null,
    version: d.orderVersion,
    createdAt: e.occurredAt,
    updatedAt: e.occurredAt,
  };
}

export function OrdersView() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const status = (params.get('status') ?? '') as OrderStatus | '';
  const account = useAccount();
  // A customer's list is their own (the API answers nothing else): no customer filter to offer.
  const own = account?.role === 'customer' ? account.sub : null;
  const customerId = own ?? params.get('customerId') ?? '';
  const [customerInput, setCustomerInput] = useState(customerId);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<{ items: Order[]; nextCursor: string | null } | null>(null);
  // Orders placed since the page was read; kept apart so the page's cursor stays right.
  const [arrived, setArrived] = useState<{ items: Order[]; dropped: number }>({ items: [], dropped: 0 });
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const cursor = cursors.at(-1) ?? null;
  const customerInvalid = customerInput !== '' && !UUID.test(customerInput.trim());

  useEffect(() => setCustomerInput(customerId), [customerId]);

  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    api.listOrders({ status, customerId: UUID.test(customerId) ? customerId : undefined, cursor, limit: PAGE_SIZE }, ctl.signal).then(
      (p) => {
        setPage(p);
        setArrived({ items: [], dropped: 0 });
      },
      (err: unknown) => {
        if ((err as Error).name !== 'AbortError') setError(errorText(err));
      },
    );
    return () => ctl.abort();
  }, [status, customerId, cursor, reloads]);

  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useLiveEvents(
    null,
    (events) => {
      const moved = (items: Order[]) => {
        let out = items;
        for (const e of events) {
          const id = orderIdOf(e);
          const at = id ? out.findIndex((o) => o.id === id) : -1;
          if (at < 0) continue;
          const o = out[at]!;
          const next = statusFromEvents(o, [e]);
          if (next !== o && next.version > o.version) {
            out = out.slice();
            out[at] = { ...o, ...next, updatedAt: e.occurredAt };
          }
        }
        return out;
      };
      setPage((current) => {
        if (!current) return current;
        const items = moved(current.items);
        return items === current.items ? current : { ...current, items };
      });
      if (cursors.length !== 1) return;
      setArrived((current) => {
        let items = current.items;
        let dropped = current.dropped;
        for (const e of events) {
          const created = orderFromCreated(e);
          if (!created) continue;
          // New orders appear on the first page when they match the filters.
          const matches = (!status || status === 'PENDING') && (!customerId || customerId === created.customerId);
          if (!matches || items.some((o) => o.id === created.id) || page?.items.some((o) => o.id === created.id)) continue;
          items = [created, ...items];
          if (items.length > ARRIVED_MAX) {
            dropped += items.length - ARRIVED_MAX;
            items = items.slice(0, ARRIVED_MAX);
          }
        }
        items = moved(items);
        return items === current.items && dropped === current.dropped ? current : { items, dropped };
      });
    },
    reload,
  );
  const rows = page ? [...arrived.items, ...page.items] : [];

  function setFilters(next: { status?: string; customerId?: string }) {
    const q = new URLSearchParams(params.toString());
    for (const [k, v] of Object.entries(next)) {
      if (v) q.set(k, v);
      else q.delete(k);
    }
    setCursors([null]);
    setPage(null);
    router.replace(`${pathname}${q.size ? `?${q}` : ''}`);
  }

  return (
    <>
      <PageHeader
        title={own ? 'Your orders' : 'Orders'}
        description={`${own ? 'Your orders' : 'Every order'}, newest first. Statuses change here as the saga moves; new orders appear at the top.`}
      />
      <form
        className="card mb-4 flex flex-wrap items-end gap-4 p-4"
        onSubmit={(e) => {
          e.preventDefault();
          if (!customerInvalid && !own) setFilters({ customerId: customerInput.trim() });
        }}
      >
        <div>
          <label htmlFor="filter-status" className="label">
            Status
          </label>
          <select id="filter-status" className="input" value={status} onChange={(e) => setFilters({ status: e.target.value })}>
            <option value="">Any status</option>
            {ORDER_STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_INFO[s].label}
              </option>
            ))}
          </select>
        </div>
        {!own && (
        <div className="min-w-80 flex-1">
          <label htmlFor="filter-customer" className="label">
            Customer id
          </label>
          <input
            id="filter-customer"
            className="input font-mono"
            value={customerInput}
            placeholder="a customer's UUID"
            aria-invalid={customerInvalid}
            aria-describedby={customerInvalid ? 'filter-customer-error' : undefined}
            onChange={(e) => setCustomerInput(e.target.value)}
          />
          {customerInvalid && (
            <p id="filter-customer-error" className="mt-1 text-xs text-red-800">
              A customer id is a UUID, like 3f2504e0-4f89-11d3-9a0c-0305e82c3301.
            </p>
          )}
        </div>
        )}
        {!own && (
          <button type="submit" className="btn" disabled={customerInvalid}>
            Apply
          </button>
        )}
        {(status || (customerId && !own)) && (
          <button type="button" className="btn" onClick={() => setFilters({ status: '', customerId: '' })}>
            Clear filters
          </button>
        )}
      </form>
      {error && <ErrorNotice title="The orders could not be loaded" message={error} onRetry={reload} />}
      {!page && !error && <Loading what="orders" />}
      {page && rows.length === 0 && (
        <Empty title={status || customerId ? 'No order matches these filters' : 'No orders yet'}>
          Place one from <a href="/orders/new/" className="link">New order</a>; it appears here as soon as it is placed.
        </Empty>
      )}
      {arrived.dropped > 0 && (
        <p className="mb-2 text-sm text-slate-700" role="status">
          {arrived.dropped} more order(s) arrived than are shown.{' '}
          <button type="button" className="link" onClick={reload}>
            Show the newest
          </button>
        </p>
      )}
      {page && rows.length > 0 && (
        <div className="card overflow-x-auto">
          <table className="table" aria-label="Orders">
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Status</th>
                <th scope="col">Customer</th>
                <th scope="col" className="text-right">Items</th>
                <th scope="col" className="text-right">Total</th>
                <th scope="col">Placed</th>
                <th scope="col">Last change</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((o) => (
                <tr key={o.id} data-order-id={o.id}>
                  <td>
                    <OrderLink id={o.id} />
                  </td>
                  <td>
                    <StatusBadge status={o.status} />
                    {o.failureReason && <span className="ml-2 text-xs text-slate-600">{o.failureReason}</span>}
                  </td>
                  <td className="font-mono text-xs text-slate-700">{o.customerId.slice(0, 8)}</td>
                  <td className="text-right tabular-nums">{o.items.reduce((n, i) => n + i.quantity, 0)}</td>
                  <td className="text-right tabular-nums">{formatCents(o.totalCents, o.currency)}</td>
                  <td>
                    <Time iso={o.createdAt} withDate />
                  </td>
                  <td>
                    <Time iso={o.updatedAt} />
                  </td>
                </tr>
              ))}
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
