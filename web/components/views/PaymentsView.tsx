'use client';
import { useCallback, useEffect, useState } from 'react';
import type { Payment } from '../../lib/api';
import { api, errorText } from '../../lib/api';
import { PAYMENT_STATUS_INFO, formatCents, orderIdOf } from '../../lib/events';
import { useLiveEvents } from '../../lib/hooks';
import { DataTable, useCursorPages } from '../DataTable';
import { FilterBar, IdField, isIdOrNothing } from '../Fields';
import type { TableSpec } from '../DataTable';
import { Badge, OrderLink, PageHeader, Time } from '../ui';

const PAGE_SIZE = 25;
/** New payments shown above the first page as they arrive, at most; "Newer" reloads to see the rest. */
const ARRIVED_MAX = 50;
type Row = Payment;

const TABLE: TableSpec<Row> = {
  label: 'Payments',
  row: (p) => ({ key: p.id, 'data-payment-order': p.orderId, 'data-payment-status': p.status }),
  columns: [
    { key: 'order', header: 'Order', cell: (p) => <OrderLink id={p.orderId} /> },
    { key: 'status', header: 'Status', cell: (p) => <Badge tone={PAYMENT_STATUS_INFO[p.status].tone}>{PAYMENT_STATUS_INFO[p.status].label}</Badge> },
    {
      key: 'amount',
      header: 'Amount',
      numeric: true,
      cell: (p) => <span className={p.status === 'REFUNDED' ? 'text-slate-500 line-through' : ''}>{formatCents(p.amountCents, p.currency)}</span>,
    },
    { key: 'why', header: 'Why', className: 'text-slate-700', cell: (p) => p.refundReason ?? p.failureReason ?? (p.status === 'REFUNDED' ? 'refunded' : '') },
    { key: 'charged', header: 'Charged at', cell: (p) => <Time iso={p.createdAt} withDate /> },
  ],
};

export function PaymentsView() {
  const [orderInput, setOrderInput] = useState('');
  const [orderId, setOrderId] = useState('');
  const pages = useCursorPages();
  const { cursor } = pages;
  const [page, setPage] = useState<{ items: Row[]; nextCursor: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const reload = useCallback(() => setReloads((n) => n + 1), []);
  const invalid = !isIdOrNothing(orderInput);

  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    api.listPayments({ orderId: orderId || undefined, cursor, limit: PAGE_SIZE }, ctl.signal).then(setPage, (err: unknown) => {
      if ((err as Error).name !== 'AbortError') setError(errorText(err));
    });
    return () => ctl.abort();
  }, [orderId, cursor, reloads]);

  useLiveEvents(
    null,
    (events) => {
      setPage((current) => {
        if (!current) return current;
        let items = current.items;
        for (const e of events) {
          if (e.type !== 'payment.processed' && e.type !== 'payment.failed' && e.type !== 'payment.refunded') continue;
          const d = e.data;
          const id = orderIdOf(e)!;
          if (orderId && id !== orderId) continue;
          const at = items.findIndex((p) => p.id === d.paymentId);
          const status = e.type === 'payment.processed' ? 'PROCESSED' : e.type === 'payment.failed' ? 'FAILED' : 'REFUNDED';
          if (at >= 0) {
            if (status !== 'REFUNDED' && items[at]!.status === 'REFUNDED') continue;
            items = items.slice();
            items[at] = { ...items[at]!, status, updatedAt: e.occurredAt, refundReason: e.type === 'payment.refunded' ? e.data.reason : items[at]!.refundReason };
          } else if (pages.onFirstPage && e.type !== 'payment.refunded' && items.length < PAGE_SIZE + ARRIVED_MAX) {
            const currency = 'currency' in d ? d.currency : (items[0]?.currency ?? 'USD');
            items = [
              { id: d.paymentId, orderId: id, amountCents: d.amountCents, currency, status, failureReason: e.type === 'payment.failed' ? e.data.reason : null, refundReason: null, createdAt: e.occurredAt, updatedAt: e.occurredAt },
              ...items,
            ];
          }
        }
        return items === current.items ? current : { ...current, items };
      });
    },
    reload,
  );

  const charged = page?.items.filter((p) => p.status === 'PROCESSED' || p.status === 'REFUNDING' || p.status === 'REFUNDED').reduce((s, p) => s + p.amountCents, 0) ?? 0;
  const refunded = page?.items.filter((p) => p.status === 'REFUNDED').reduce((s, p) => s + p.amountCents, 0) ?? 0;
  return (
    <>
      <PageHeader title="Payments" description="Every charge, newest first: charged, declined, or refunded when its order failed or was cancelled." />
      <FilterBar
        onSubmit={() => {
          if (invalid) return;
          pages.reset();
          setPage(null);
          setOrderId(orderInput.trim());
        }}
      >
        <IdField id="payment-order" noun="order" value={orderInput} onChange={setOrderInput} />
        <button type="submit" className="btn" disabled={invalid}>
          Show
        </button>
        {orderId && (
          <button
            type="button"
            className="btn"
            onClick={() => {
              setOrderInput('');
              setOrderId('');
              pages.reset();
            }}
          >
            All payments
          </button>
        )}
      </FilterBar>
      <DataTable
        table={TABLE}
        rows={page?.items ?? null}
        error={error}
        onRetry={reload}
        empty={{ title: orderId ? 'No payment for this order' : 'No payments yet', children: 'A payment appears here when an order is charged.' }}
        summary={page && page.items.length > 0 && `On this page: ${formatCents(charged, page.items[0]!.currency)} charged, ${formatCents(refunded, page.items[0]!.currency)} of it refunded.`}
        paging={page ? { pages, nextCursor: page.nextCursor } : undefined}
      />
    </>
  );
}
