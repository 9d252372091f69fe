'use client';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { canCancel, nextFulfilmentStep } from '../../../functions/order/domain/status';
import type { Order, Payment } from '../../lib/api';
import { ApiError, api, errorText } from '../../lib/api';
import type { LiveEvent } from '../../lib/events';
import { PAYMENT_STATUS_INFO, SERVICES, STATUS_INFO, describeEvent, formatCents, infoOf } from '../../lib/events';
import { useAccount, useLiveEvents } from '../../lib/hooks';
import { buildSwimlane, mergeEvents, paymentFromEvents, statusFromEvents, type PaymentSummary } from '../../lib/saga';
import { isAbout, liveSocket } from '../../lib/socket';
import { DataTable } from '../DataTable';
import { isId } from '../Fields';
import type { TableSpec } from '../DataTable';
import { Swimlane } from '../Swimlane';
import { Badge, ErrorNotice, Loading, PageHeader, StatusBadge, SuccessNotice, Time, formatMs } from '../ui';


const itemsTable = (currency: string): TableSpec<Order['items'][number]> => ({
  label: 'Items',
  row: (i) => ({ key: i.productId }),
  columns: [
    { key: 'product', header: 'Product', cell: (i) => i.name },
    { key: 'quantity', header: 'Quantity', numeric: true, cell: (i) => i.quantity },
    { key: 'unit', header: 'Unit price', numeric: true, cell: (i) => formatCents(i.unitPriceCents, currency) },
    { key: 'line', header: 'Line total', numeric: true, cell: (i) => formatCents(i.lineTotalCents, currency) },
  ],
});

function Actions({ order, onChanged }: { order: Order; onChanged: (o: Order) => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  // Moving an order along its fulfilment is the operators' (PATCH /orders/{id}); a customer may cancel.
  const next = useAccount()?.role === 'operator' ? nextFulfilmentStep(order.status) : null;
  const cancellable = canCancel(order.status);

  async function run(what: string, call: () => Promise<Order>, success: string) {
    setBusy(what);
    setError(null);
    setDone(null);
    try {
      onChanged(await call());
      setDone(success);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 409 ? err.message : errorText(err));
    } finally {
      setBusy(null);
      setConfirming(false);
    }
  }

  if (!next && !cancellable) {
    return (
      <p className="text-sm text-slate-600">
        {order.status === 'PENDING' ? '' : `Nothing more can be done with an order that is ${STATUS_INFO[order.status].label.toLowerCase()}.`}
      </p>
    );
  }
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap gap-2">
        {next && (
          <button type="button" className="btn btn-primary" disabled={busy !== null} onClick={() => run('move', () => api.moveOrder(order.id, next), `Moved to ${STATUS_INFO[next].label.toLowerCase()}.`)}>
            {busy === 'move' ? 'Saving…' : `Mark as ${STATUS_INFO[next].label.toLowerCase()}`}
          </button>
        )}
        {cancellable && !confirming && (
          <button type="button" className="btn" disabled={busy !== null} onClick={() => setConfirming(true)}>
            Cancel order
          </button>
        )}
      </div>
      {confirming && (
        <div role="group" aria-labelledby="cancel-question" className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm">
          <p id="cancel-question" className="font-medium text-amber-950">
            Cancel this order? Its stock is released{order.status === 'PENDING' ? '' : ' and its payment refunded'}.
          </p>
          <div className="mt-2 flex gap-2">
            <button type="button" className="btn btn-danger" disabled={busy !== null} onClick={() => run('cancel', () => api.cancelOrder(order.id), 'Cancelled: the release and the refund follow.')}>
              {busy === 'cancel' ? 'Cancelling…' : 'Yes, cancel it'}
            </button>
            <button type="button" className="btn" onClick={() => setConfirming(false)}>
              Keep the order
            </button>
          </div>
        </div>
      )}
      {error && <ErrorNotice title="That did not work" message={error} />}
      {done && <SuccessNotice>{done}</SuccessNotice>}
    </div>
  );
}

function EventList({ events }: { events: LiveEvent[] }) {
  const start = Date.parse(events.find((e) => e.type === 'order.created')?.occurredAt ?? events[0]?.occurredAt ?? '');
  return (
    <ol className="divide-y divide-slate-100" aria-label="Events of this order">
      {events.map((e) => (
        <li key={e.id} className="py-2" data-event-type={e.type}>
          <details>
            <summary className="flex cursor-pointer flex-wrap items-baseline gap-x-3 gap-y-1 text-sm">
              <span className="w-20 font-mono text-xs text-slate-600 tabular-nums">+{formatMs(Date.parse(e.occurredAt) - start)}</span>
              <span className="w-24 text-xs font-semibold text-slate-700 uppercase">{SERVICES[e.source]?.label ?? e.source}</span>
              <span className="font-mono text-xs">{e.type}</span>
              <span className="text-slate-700">{infoOf(e.type).label}</span>
              <span className="text-slate-600">{describeEvent(e)}</span>
            </summary>
            <pre className="mt-2 overflow-x-auto rounded bg-slate-900 p-3 text-xs text-slate-100">{JSON.stringify(e, null, 2)}</pre>
          </details>
        </li>
      ))}
    </ol>
  );
}

function OrderDetails({ id }: { id: string }) {
  const [order, setOrder] = useState<Order | null>(null);
  const [history, setHistory] = useState<LiveEvent[]>([]);
  // Events of this order the socket received before this page opened (the New order page was
  // listening while the order was placed): the order's HTTP timeline may not hold them yet.
  const [live, setLive] = useState<LiveEvent[]>(() => liveSocket.getRecent().filter(isAbout(id)));
  // Operators read the payment service; a customer's page tells the payment from the order's events.
  const operator = useAccount()?.role === 'operator';
  const [listed, setPayment] = useState<Payment | null | undefined>(undefined);
  const [error, setError] = useState<{ message: string; status: number | null } | null>(null);
  const [reloads, setReloads] = useState(0);
  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    Promise.all([
      api.getOrder(id, ctl.signal),
      api.orderEvents(id, ctl.signal),
      operator ? api.listPayments({ orderId: id }, ctl.signal) : Promise.resolve(null),
    ]).then(
      ([o, events, payments]) => {
        setOrder(o);
        setHistory(events.items);
        if (payments) setPayment(payments.items[0] ?? null);
      },
      (err: unknown) => {
        if ((err as Error).name !== 'AbortError') setError({ message: errorText(err), status: err instanceof ApiError ? err.status : null });
      },
    );
    return () => ctl.abort();
  }, [id, reloads, operator]);

  const about = useMemo(() => isAbout(id), [id]);
  useLiveEvents(
    id,
    (events) => {
      const mine = events.filter(about);
      if (mine.length === 0) return;
      setLive((l) => [...l, ...mine]);
      // Payments change with payment events: read the payment again.
      if (operator && mine.some((e) => e.source === 'payment')) api.listPayments({ orderId: id }).then((p) => setPayment(p.items[0] ?? null), () => undefined);
    },
    reload,
  );

  const events = useMemo(() => mergeEvents(history, live), [history, live]);
  const payment: PaymentSummary | null | undefined = operator
    ? listed && { status: listed.status, amountCents: listed.amountCents, currency: listed.currency, reason: listed.refundReason ?? listed.failureReason }
    : order
      ? paymentFromEvents(events)
      : undefined;
  const current = useMemo(() => (order ? { ...order, ...statusFromEvents(order, events) } : null), [order, events]);
  const lanes = useMemo(() => (current ? buildSwimlane(current.status, events) : null), [current, events]);

  if (error) {
    return <ErrorNotice title={error.status === 404 ? 'No such order' : 'The order could not be loaded'} message={error.message} onRetry={error.status === 404 ? undefined : reload} />;
  }
  if (!current || !lanes) return <Loading what="the order" />;
  const settled = current.status !== 'PENDING';
  return (
    <>
      <PageHeader
        title={`Order ${current.id.slice(0, 8)}`}
        description={
          <>
            <span className="font-mono text-xs">{current.id}</span> · customer <span className="font-mono text-xs">{current.customerId.slice(0, 8)}</span> · placed{' '}
            <Time iso={current.createdAt} withDate />
          </>
        }
      >
        <span className="text-sm text-slate-600">Status</span>
        <span data-testid="order-status" className="text-base">
          <StatusBadge status={current.status} />
        </span>
      </PageHeader>
      {current.failureReason && (
        <p className="mb-4 rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-900" data-testid="failure-reason">
          <span className="font-semibold">{current.status === 'CANCELLED' ? 'Cancelled' : 'Failed'}:</span> {current.failureReason}
        </p>
      )}
      <div className="grid gap-4 lg:grid-cols-3">
        <section aria-labelledby="items-title" className="card p-4 lg:col-span-2">
          <h2 id="items-title" className="mb-2 text-base font-semibold">Items</h2>
          <DataTable
            table={itemsTable(current.currency)}
            frame="none"
            rows={current.items}
            empty={{ title: 'No items' }}
            footer={
              <tr>
                <th scope="row" colSpan={3} className="text-right">
                  Total
                </th>
                <td className="text-right font-semibold tabular-nums" data-testid="order-total">
                  {formatCents(current.totalCents, current.currency)}
                </td>
              </tr>
            }
          />
        </section>
        <section aria-labelledby="manage-title" className="card space-y-4 p-4">
          <div>
            <h2 id="manage-title" className="mb-2 text-base font-semibold">Manage</h2>
            <Actions order={current} onChanged={(o) => setOrder((prev) => (prev && o.version >= prev.version ? o : prev))} />
          </div>
          <div>
            <h2 className="mb-1 text-base font-semibold">Payment</h2>
            {payment === undefined && <p className="text-sm text-slate-600">Loading…</p>}
            {payment === null && <p className="text-sm text-slate-600">{settled ? 'No payment was taken.' : 'Not charged yet.'}</p>}
            {payment && (
              <p className="flex flex-wrap items-center gap-2 text-sm" data-testid="payment">
                <span data-payment-status={payment.status}>
                  <Badge tone={PAYMENT_STATUS_INFO[payment.status].tone}>{PAYMENT_STATUS_INFO[payment.status].label}</Badge>
                </span>
                {formatCents(payment.amountCents, payment.currency ?? current.currency)}
                {payment.reason && <span className="text-slate-600">{payment.reason}</span>}
              </p>
            )}
          </div>
        </section>
      </div>
      <section aria-labelledby="saga-title" className="card mt-4 p-4">
        <h2 id="saga-title" className="mb-3 text-base font-semibold">Saga</h2>
        <Swimlane
          lanes={lanes}
          caption={`${events.length} event(s) across order, inventory and payment${lanes.steps.some((s) => s.kind === 'pending') ? `; awaiting ${lanes.steps.filter((s) => s.kind === 'pending').map((s) => s.label.toLowerCase()).join(', ')}` : ''}. Arrows run from cause to effect; ↩ marks a compensation.`}
        />
      </section>
      <section aria-labelledby="events-title" className="card mt-4 p-4">
        <h2 id="events-title" className="mb-1 text-base font-semibold">Events</h2>
        <p className="mb-2 text-xs text-slate-600">Open an event to read it whole.</p>
        <EventList events={events} />
      </section>
    </>
  );
}

export function OrderView() {
  const id = useSearchParams().get('id')?.trim() ?? '';
  if (!isId(id)) {
    return (
      <>
        <PageHeader title="Order" />
        <ErrorNotice
          title="Which order?"
          message={id ? `"${id}" is not an order id: order ids are UUIDs.` : 'This page shows one order: open it from the orders list.'}
        />
        <p className="mt-4 text-sm">
          <Link href="/orders/" className="link">
            Go to the orders
          </Link>
        </p>
      </>
    );
  }
  return <OrderDetails key={id} id={id} />;
}
