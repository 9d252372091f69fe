'use client';
import { useCallback, useEffect, useState } from 'react';
import type { Order } from '../../lib/api';
import { api, errorText } from '../../lib/api';
import type { LiveEvent, OrderStatus } from '../../lib/events';
import { ORDER_STATUSES, STATUS_INFO, formatCents, orderIdOf } from '../../lib/events';
import { useAccount, useLiveEvents, useQueryFilters } from '../../lib/hooks';
import { statusFromEvents } from '../../lib/saga';
import { DataTable, useCursorPages } from '../DataTable';
import { FilterBar, IdField, SelectField, isId, isIdOrNothing } from '../Fields';
import type { TableSpec } from '../DataTable';
import { OrderLink, PageHeader, StatusBadge, Time } from '../ui';

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

const TABLE: TableSpec<Order> = {
  label: 'Orders',
  row: (o) => ({ key: o.id, 'data-order-id': o.id }),
  columns: [
    { key: 'order', header: 'Order', cell: (o) => <OrderLink id={o.id} /> },
    {
      key: 'status',
      header: 'Status',
      cell: (o) => (
        <>
          <StatusBadge status={o.status} />
          {o.failureReason && <span className="ml-2 text-xs text-slate-600">{o.failureReason}</span>}
        </>
      ),
    },
    { key: 'customer', header: 'Customer', className: 'font-mono text-xs text-slate-700', cell: (o) => o.customerId.slice(0, 8) },
    { key: 'items', header: 'Items', numeric: true, cell: (o) => o.items.reduce((n, i) => n + i.quantity, 0) },
    { key: 'total', header: 'Total', numeric: true, cell: (o) => formatCents(o.totalCents, o.currency) },
    { key: 'placed', header: 'Placed', cell: (o) => <Time iso={o.createdAt} withDate /> },
    { key: 'changed', header: 'Last change', cell: (o) => <Time iso={o.updatedAt} /> },
  ],
};

export function OrdersView() {
  const { params, setQuery } = useQueryFilters();
  const status = (params.get('status') ?? '') as OrderStatus | '';
  const account = useAccount();
  // A customer's list is their own (the API answers nothing else): no customer filter to offer.
  const own = account?.role === 'customer' ? account.sub : null;
  const customerId = own ?? params.get('customerId') ?? '';
  const [customerInput, setCustomerInput] = useState(customerId);
  const pages = useCursorPages();
  const { cursor } = pages;
  const [page, setPage] = useState<{ items: Order[]; nextCursor: string | null } | null>(null);
  // Orders placed since the page was read; kept apart so the page's cursor stays right.
  const [arrived, setArrived] = useState<{ items: Order[]; dropped: number }>({ items: [], dropped: 0 });
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const customerInvalid = !isIdOrNothing(customerInput);

  useEffect(() => setCustomerInput(customerId), [customerId]);

  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    api.listOrders({ status, customerId: isId(customerId) ? customerId : undefined, cursor, limit: PAGE_SIZE }, ctl.signal).then(
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
      if (!pages.onFirstPage) return;
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
    pages.reset();
    setPage(null);
    setQuery(next);
  }

  return (
    <>
      <PageHeader
        title={own ? 'Your orders' : 'Orders'}
        description={`${own ? 'Your orders' : 'Every order'}, newest first. Statuses change here as the saga moves; new orders appear at the top.`}
      />
      <FilterBar
        onSubmit={() => {
          if (!customerInvalid && !own) setFilters({ customerId: customerInput.trim() });
        }}
      >
        <SelectField
          id="filter-status"
          label="Status"
          value={status}
          onChange={(value) => setFilters({ status: value })}
          options={[{ value: '', label: 'Any status' }, ...ORDER_STATUSES.map((s) => ({ value: s, label: STATUS_INFO[s].label }))]}
        />
        {!own && (
          <IdField id="filter-customer" noun="customer" value={customerInput} onChange={setCustomerInput} />
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
      </FilterBar>
      <DataTable
        table={TABLE}
        rows={page && rows}
        error={error}
        onRetry={reload}
        empty={{
          title: status || customerId ? 'No order matches these filters' : 'No orders yet',
          children: (
            <>
              Place one from <a href="/orders/new/" className="link">New order</a>; it appears here as soon as it is placed.
            </>
          ),
        }}
        summary={
          arrived.dropped > 0 && (
            <span role="status">
              {arrived.dropped} more order(s) arrived than are shown.{' '}
              <button type="button" className="link" onClick={reload}>
                Show the newest
              </button>
            </span>
          )
        }
        paging={page ? { pages, nextCursor: page.nextCursor } : undefined}
      />
    </>
  );
}
