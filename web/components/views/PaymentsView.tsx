'use client';
import { useCallback, useEffect, useState } from 'react';
import type { Payment } from '../../lib/api';
import { api, errorText } from '../../lib/api';
import { PAYMENT_STATUS_INFO, formatCents, orderIdOf } from '../../lib/events';
import { useLiveEvents } from '../../lib/hooks';
import { Badge, Empty, ErrorNotice, Loading, OrderLink, PageHeader, Time } from '../ui';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PAGE_SIZE = 25;
/** New payments shown above the first page as they arrive, at most; "Newer" reloads to see the rest. */
const ARRIVED_MAX = 50;
type Row = Payment;

export function PaymentsView() {
  const [orderInput, setOrderInput] = useState('');
  const [orderId, setOrderId] = useState('');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<{ items: Row[]; nextCursor: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const reload = useCallback(() => setReloads((n) => n + 1), []);
  const cursor = cursors.at(-1) ?? null;
  const invalid = orderInput.trim() !== '' && !UUID.test(orderInput.trim());

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
          } else if (cursors.length === 1 && e.type !== 'payment.refunded' && items.length < PAGE_SIZE + ARRIVED_MAX) {
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
      <form
        className="card mb-4 flex flex-wrap items-end gap-4 p-4"
        onSubmit={(e) => {
          e.preventDefault();
          if (invalid) return;
          setCursors([null]);
          setPage(null);
          setOrderId(orderInput.trim());
        }}
      >
        <div className="min-w-80 flex-1">
          <label htmlFor="payment-order" className="label">
            Order id
          </label>
          <input
            id="payment-order"
            className="input font-mono"
            value={orderInput}
            placeholder="an order's UUID"
            onChange={(e) => setOrderInput(e.target.value)}
            aria-invalid={invalid}
            aria-describedby={invalid ? 'payment-order-error' : undefined}
          />
          {invalid && (
            <p id="payment-order-error" className="mt-1 text-xs text-red-800">
              An order id is a UUID.
            </p>
          )}
        </div>
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
              setCursors([null]);
            }}
          >
            All payments
          </button>
        )}
      </form>
      {error && <ErrorNotice title="The payments could not be loaded" message={error} onRetry={reload} />}
      {!page && !error && <Loading what="payments" />}
      {page && page.items.length === 0 && <Empty title={orderId ? 'No payment for this order' : 'No payments yet'}>A payment appears here when an order is charged.</Empty>}
      {page && page.items.length > 0 && (
        <div className="card overflow-x-auto">
          <p className="border-b border-slate-100 px-3 py-2 text-sm text-slate-700">
            On this page: {formatCents(charged, page.items[0]!.currency)} charged, {formatCents(refunded, page.items[0]!.currency)} of it refunded.
          </p>
          <table className="table" aria-label="Payments">
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Status</th>
                <th scope="col" className="text-right">Amount</th>
                <th scope="col">Why</th>
                <th scope="col">Charged at</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((p) => (
                <tr key={p.id} data-payment-order={p.orderId} data-payment-status={p.status}>
                  <td>
                    <OrderLink id={p.orderId} />
                  </td>
                  <td>
                    <Badge tone={PAYMENT_STATUS_INFO[p.status].tone}>{PAYMENT_STATUS_INFO[p.status].label}</Badge>
                  </td>
                  <td className={`text-right tabular-nums ${p.status === 'REFUNDED' ? 'text-slate-500 line-through' : ''}`}>{formatCents(p.amountCents, p.currency)}</td>
                  <td className="text-slate-700">{p.refundReason ?? p.failureReason ?? (p.status === 'REFUNDED' ? 'refunded' : '')}</td>
                  <td>
                    <Time iso={p.createdAt} withDate />
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
