'use client';
import { useRouter } from 'next/navigation';
import { useEffect, useMemo, useRef, useState } from 'react';
import { PAYMENT_TOKENS } from '../../../shared/payments/test-tokens';
import type { PaymentToken } from '../../../shared/payments/test-tokens';
import type { Product } from '../../lib/api';
import { ApiError, allProducts, api, errorText } from '../../lib/api';
import { formatCents } from '../../lib/events';
import { useAccount, useLiveEvents } from '../../lib/hooks';
import { DataTable, WithRows } from '../DataTable';
import type { TableSpec } from '../DataTable';
import { ErrorNotice, PageHeader } from '../ui';

/** How each test card of the simulated gateway is offered (keyed by the gateway's own tokens). */
const CARDS: Record<PaymentToken, { label: string; hint: string }> = {
  tok_visa: { label: 'Visa, succeeds', hint: 'The charge goes through: the order confirms.' },
  tok_chargeDeclined: { label: 'Card declined', hint: 'The charge is declined: the order fails and its stock is released.' },
};

function newCustomer() {
  return crypto.randomUUID();
}

export function NewOrderView() {
  const router = useRouter();
  const [products, setProducts] = useState<Product[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [quantities, setQuantities] = useState<Record<string, string>>({});
  const [token, setToken] = useState<PaymentToken>('tok_visa');
  const [customerId, setCustomerId] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<{ message: string; fields: Record<string, string> } | null>(null);
  // One key per intended order: a retry after a lost answer places it once.
  const idempotencyKey = useRef<string | null>(null);

  // A customer orders as themselves (their id is their account's subject); an operator may place an
  // order for any customer id, a new one by default.
  const account = useAccount();
  const own = account?.role === 'customer' ? account.sub : null;
  useEffect(() => setCustomerId(own ?? newCustomer()), [own]);
  useEffect(() => {
    const ctl = new AbortController();
    allProducts(ctl.signal).then(setProducts, (err: unknown) => {
      if ((err as Error).name !== 'AbortError') setLoadError(errorText(err));
    });
    return () => ctl.abort();
  }, []);
  // Stock moves while the form is open.
  useLiveEvents(null, (events) => {
    for (const e of events) {
      if (e.type !== 'inventory.updated') continue;
      const d = e.data;
      setProducts((ps) => ps?.map((p) => (p.id === d.productId && d.productVersion > p.version ? { ...p, stock: d.stock, reserved: d.reserved, available: d.available, priceCents: d.priceCents, name: d.name, version: d.productVersion } : p)) ?? ps);
    }
  });

  const lines = useMemo(
    () =>
      (products ?? [])
        .map((p) => ({ product: p, quantity: Number(quantities[p.id] ?? 0) }))
        .filter((l) => Number.isInteger(l.quantity) && l.quantity > 0),
    [products, quantities],
  );
  const total = lines.reduce((s, l) => s + l.quantity * l.product.priceCents, 0);
  const currency = products?.[0]?.currency ?? 'USD';

  function change(update: () => void) {
    idempotencyKey.current = null; // a different order from here on
    setError(null);
    update();
  }

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if (lines.length === 0) {
      setError({ message: 'Pick at least one product: set a quantity of 1 or more.', fields: {} });
      return;
    }
    setSubmitting(true);
    setError(null);
    idempotencyKey.current ??= crypto.randomUUID();
    try {
      const order = await api.createOrder(
        { customerId: customerId.trim(), items: lines.map((l) => ({ productId: l.product.id, quantity: l.quantity })), paymentToken: token },
        idempotencyKey.current,
      );
      router.push(`/orders/view/?id=${order.id}`);
    } catch (err) {
      const fields: Record<string, string> = {};
      if (err instanceof ApiError) {
        for (const f of err.fieldErrors) {
          const m = /^\/items\/(\d+)/.exec(f.pointer);
          const key = m ? (lines[Number(m[1])]?.product.id ?? 'items') : f.pointer.replace(/^\//, '') || 'form';
          fields[key] = f.detail;
        }
      }
      setError({ message: errorText(err), fields });
      setSubmitting(false);
    }
  }

  const table: TableSpec<Product> = {
    label: 'Products and quantities',
    row: (p) => ({ key: p.id }),
    columns: [
      {
        key: 'product',
        header: 'Product',
        cell: (p) => (
          <>
            <label htmlFor={`qty-${p.id}`} className="font-medium">
              {p.name}
            </label>
            <div className="font-mono text-xs text-slate-600">{p.sku}</div>
            {error?.fields[p.id] && (
              <p id={`qty-${p.id}-error`} className="text-xs text-red-800">
                {error.fields[p.id]}
              </p>
            )}
          </>
        ),
      },
      { key: 'price', header: 'Price', numeric: true, cell: (p) => formatCents(p.priceCents, p.currency) },
      { key: 'available', header: 'Available', numeric: true, cell: (p) => p.available },
      {
        key: 'quantity',
        header: 'Quantity',
        headerClassName: 'w-32',
        cell: (p) => (
          <input
            id={`qty-${p.id}`}
            type="number"
            min={0}
            max={1000}
            step={1}
            inputMode="numeric"
            className="input text-right"
            value={quantities[p.id] ?? ''}
            placeholder="0"
            aria-invalid={Boolean(error?.fields[p.id])}
            aria-describedby={error?.fields[p.id] ? `qty-${p.id}-error` : undefined}
            onChange={(e) => change(() => setQuantities((q) => ({ ...q, [p.id]: e.target.value })))}
          />
        ),
      },
    ],
  };

  return (
    <>
      <PageHeader title="New order" description="Pick products and a test card, place the order, and watch its saga settle on the order's page." />
      <WithRows
        rows={products}
        states={{
          error: loadError ? { title: 'The products could not be loaded', message: loadError, onRetry: () => location.reload() } : null,
          loading: 'products',
          empty: { title: 'No products to order', children: 'Add one on the Inventory page first.' },
        }}
      >
        {(listed) => (
          <form onSubmit={submit} className="grid gap-4 lg:grid-cols-3" noValidate>
            <fieldset className="card p-4 lg:col-span-2">
              <legend className="sr-only">Products and quantities</legend>
              <DataTable table={table} frame="none" rows={listed} empty={{ title: 'No products to order' }} />
            </fieldset>
            <div className="card space-y-4 p-4">
              <fieldset>
                <legend className="label">Test card</legend>
                <div className="space-y-2">
                  {(Object.keys(PAYMENT_TOKENS) as PaymentToken[]).map((t) => (
                    <label key={t} className="flex cursor-pointer items-start gap-2 rounded-md border border-slate-200 p-2 text-sm has-[:checked]:border-sky-700 has-[:checked]:bg-sky-50">
                      <input type="radio" name="card" value={t} checked={token === t} onChange={() => change(() => setToken(t))} className="mt-1" />
                      <span>
                        <span className="font-medium">{CARDS[t].label}</span> <span className="font-mono text-xs text-slate-600">{t}</span>
                        <span className="block text-xs text-slate-600">{CARDS[t].hint}</span>
                      </span>
                    </label>
                  ))}
                </div>
              </fieldset>
              <div>
                <label htmlFor="customer" className="label">
                  Customer id
                </label>
                <input
                  id="customer"
                  className="input font-mono text-xs"
                  value={customerId}
                  readOnly={own !== null}
                  onChange={(e) => change(() => setCustomerId(e.target.value))}
                  aria-describedby="customer-hint"
                />
                <p id="customer-hint" className="mt-1 text-xs text-slate-600">
                  {own ? 'You order as yourself.' : 'A new customer each time the page opens; any UUID works.'}
                </p>
                {error?.fields.customerId && <p className="text-xs text-red-800">{error.fields.customerId}</p>}
              </div>
              <p className="flex items-baseline justify-between border-t border-slate-200 pt-3">
                <span className="text-sm text-slate-700">{lines.reduce((n, l) => n + l.quantity, 0)} item(s)</span>
                <span className="text-lg font-semibold tabular-nums" data-testid="new-order-total">
                  {formatCents(total, currency)}
                </span>
              </p>
              {error && <ErrorNotice title="The order was not placed" message={error.message} />}
              <button type="submit" className="btn btn-primary w-full justify-center" disabled={submitting}>
                {submitting ? 'Placing the order…' : 'Place order'}
              </button>
            </div>
          </form>
        )}
      </WithRows>
    </>
  );
}
