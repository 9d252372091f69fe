'use client';
import { useCallback, useEffect, useState } from 'react';
import type { Product } from '../../lib/api';
import { ApiError, allProducts, api, errorText } from '../../lib/api';
import { formatCents } from '../../lib/events';
import { useLiveEvents } from '../../lib/hooks';
import { Badge, Empty, ErrorNotice, Loading, PageHeader, SuccessNotice } from '../ui';

const isLow = (p: Pick<Product, 'available' | 'lowStockThreshold'>) => p.available <= p.lowStockThreshold;

/** "12.50" → 1250; null when it is not an amount. */
function parseMoney(text: string): number | null {
  const t = text.trim().replace(/^\$/, '');
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return null;
  return Math.round(Number(t) * 100);
}

function parseUnits(text: string): number | null {
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : null;
}

function fieldErrors(err: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (err instanceof ApiError) for (const f of err.fieldErrors) out[f.pointer.replace(/^\//, '') || 'form'] = f.detail;
  return out;
}

function EditRow({ product, onDone }: { product: Product; onDone: (p: Product | null, message?: string) => void }) {
  const [name, setName] = useState(product.name);
  const [price, setPrice] = useState((product.priceCents / 100).toFixed(2));
  const [stock, setStock] = useState(String(product.stock));
  const [threshold, setThreshold] = useState(String(product.lowStockThreshold));
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [saving, setSaving] = useState(false);
  const id = product.id;

  async function save(e: React.FormEvent) {
    e.preventDefault();
    const local: Record<string, string> = {};
    const priceCents = parseMoney(price);
    const stockN = parseUnits(stock);
    const thresholdN = parseUnits(threshold);
    if (!name.trim()) local.name = 'A product needs a name.';
    if (priceCents === null) local.priceCents = 'A price like 12.50.';
    if (stockN === null) local.stock = 'A whole number of units, 0 or more.';
    else if (stockN < product.reserved) local.stock = `At least the ${product.reserved} unit(s) reserved for orders.`;
    if (thresholdN === null) local.lowStockThreshold = 'A whole number of units, 0 or more.';
    setFields(local);
    if (Object.keys(local).length) return;
    const changes: Parameters<typeof api.updateProduct>[1] = {};
    if (name.trim() !== product.name) changes.name = name.trim();
    if (priceCents !== product.priceCents) changes.priceCents = priceCents!;
    if (stockN !== product.stock) changes.stock = stockN!;
    if (thresholdN !== product.lowStockThreshold) changes.lowStockThreshold = thresholdN!;
    if (Object.keys(changes).length === 0) return onDone(null);
    setSaving(true);
    setError(null);
    try {
      onDone(await api.updateProduct(id, changes), `Saved ${name.trim()}.`);
    } catch (err) {
      setError(errorText(err));
      setFields(fieldErrors(err));
      setSaving(false);
    }
  }

  const input = (key: string, label: string, value: string, set: (v: string) => void, extra: string) => (
    <div className={extra}>
      <label htmlFor={`${key}-${id}`} className="label">
        {label}
      </label>
      <input
        id={`${key}-${id}`}
        className="input"
        value={value}
        onChange={(e) => set(e.target.value)}
        aria-invalid={Boolean(fields[key])}
        aria-describedby={fields[key] ? `${key}-${id}-error` : undefined}
        inputMode={key === 'name' ? undefined : key === 'priceCents' ? 'decimal' : 'numeric'}
      />
      {fields[key] && (
        <p id={`${key}-${id}-error`} className="mt-1 text-xs text-red-800">
          {fields[key]}
        </p>
      )}
    </div>
  );

  return (
    <tr className="bg-sky-50/60">
      <td colSpan={9}>
        <form onSubmit={save} className="flex flex-wrap items-start gap-3 py-1" aria-label={`Edit ${product.name}`}>
          {input('name', 'Name', name, setName, 'min-w-48 flex-1')}
          {input('priceCents', 'Price', price, setPrice, 'w-28')}
          {input('stock', 'Stock', stock, setStock, 'w-28')}
          {input('lowStockThreshold', 'Low-stock threshold', threshold, setThreshold, 'w-40')}
          <div className="flex gap-2 pt-5">
            <button type="submit" className="btn btn-primary" disabled={saving}>
              {saving ? 'Saving…' : 'Save'}
            </button>
            <button type="button" className="btn" onClick={() => onDone(null)}>
              Cancel
            </button>
          </div>
          {error && (
            <div className="w-full">
              <ErrorNotice title="Not saved" message={error} />
            </div>
          )}
        </form>
      </td>
    </tr>
  );
}

function NewProductForm({ onCreated }: { onCreated: (p: Product) => void }) {
  const [sku, setSku] = useState('');
  const [name, setName] = useState('');
  const [price, setPrice] = useState('');
  const [stock, setStock] = useState('');
  const [threshold, setThreshold] = useState('0');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  async function create(e: React.FormEvent) {
    e.preventDefault();
    const local: Record<string, string> = {};
    const priceCents = parseMoney(price);
    const stockN = parseUnits(stock);
    const thresholdN = parseUnits(threshold);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(sku.trim())) local.sku = 'Letters, digits, dot, dash or underscore; at most 64.';
    if (!name.trim()) local.name = 'A product needs a name.';
    if (priceCents === null) local.priceCents = 'A price like 12.50.';
    if (stockN === null) local.stock = 'A whole number of units, 0 or more.';
    if (thresholdN === null) local.lowStockThreshold = 'A whole number of units, 0 or more.';
    setFields(local);
    if (Object.keys(local).length) return;
    setSaving(true);
    setError(null);
    try {
      const p = await api.createProduct({ sku: sku.trim(), name: name.trim(), priceCents: priceCents!, stock: stockN!, lowStockThreshold: thresholdN! });
      onCreated(p);
      setSku('');
      setName('');
      setPrice('');
      setStock('');
      setThreshold('0');
    } catch (err) {
      setError(errorText(err));
      setFields(fieldErrors(err));
    } finally {
      setSaving(false);
    }
  }

  const field = (key: string, label: string, value: string, set: (v: string) => void, placeholder: string, width: string) => (
    <div className={width}>
      <label htmlFor={`new-${key}`} className="label">
        {label}
      </label>
      <input
        id={`new-${key}`}
        className="input"
        value={value}
        placeholder={placeholder}
        onChange={(e) => set(e.target.value)}
        aria-invalid={Boolean(fields[key])}
        aria-describedby={fields[key] ? `new-${key}-error` : undefined}
      />
      {fields[key] && (
        <p id={`new-${key}-error`} className="mt-1 text-xs text-red-800">
          {fields[key]}
        </p>
      )}
    </div>
  );

  return (
    <section aria-labelledby="new-product-title" className="card mt-4 p-4">
      <h2 id="new-product-title" className="mb-3 text-base font-semibold">
        New product
      </h2>
      <form onSubmit={create} className="flex flex-wrap items-start gap-3" noValidate>
        {field('sku', 'SKU', sku, setSku, 'KB-MECH-02', 'w-40')}
        {field('name', 'Name', name, setName, 'Mechanical keyboard', 'min-w-56 flex-1')}
        {field('priceCents', 'Price', price, setPrice, '89.00', 'w-28')}
        {field('stock', 'Stock', stock, setStock, '25', 'w-24')}
        {field('lowStockThreshold', 'Low-stock threshold', threshold, setThreshold, '5', 'w-40')}
        <div className="pt-5">
          <button type="submit" className="btn btn-primary" disabled={saving}>
            {saving ? 'Adding…' : 'Add product'}
          </button>
        </div>
      </form>
      {error && (
        <div className="mt-3">
          <ErrorNotice title="The product was not added" message={error} />
        </div>
      )}
    </section>
  );
}

export function InventoryView() {
  const [products, setProducts] = useState<Product[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    allProducts(ctl.signal).then(setProducts, (err: unknown) => {
      if ((err as Error).name !== 'AbortError') setError(errorText(err));
    });
    return () => ctl.abort();
  }, [reloads]);

  const upsert = useCallback((p: Product) => {
    setProducts((ps) => {
      if (!ps) return ps;
      const at = ps.findIndex((x) => x.id === p.id);
      if (at < 0) return [...ps, p].sort((a, b) => a.sku.localeCompare(b.sku));
      if (ps[at]!.version >= p.version) return ps;
      const next = ps.slice();
      next[at] = p;
      return next;
    });
  }, []);

  useLiveEvents(
    null,
    (events) => {
      for (const e of events) {
        if (e.type !== 'inventory.updated') continue;
        const d = e.data;
        upsert({ id: d.productId, sku: d.sku, name: d.name, priceCents: d.priceCents, currency: d.currency, stock: d.stock, reserved: d.reserved, available: d.available, lowStockThreshold: d.lowStockThreshold, version: d.productVersion });
      }
    },
    reload,
  );

  const low = products?.filter(isLow).length ?? 0;
  return (
    <>
      <PageHeader title="Inventory" description="Stock as reservations and releases happen. Available is stock minus what is reserved for orders; at or under its threshold a product is flagged low." />
      {error && <ErrorNotice title="The products could not be loaded" message={error} onRetry={reload} />}
      {notice && (
        <div className="mb-3">
          <SuccessNotice>{notice}</SuccessNotice>
        </div>
      )}
      {!products && !error && <Loading what="products" />}
      {products && products.length === 0 && <Empty title="No products yet">Add the first one below.</Empty>}
      {products && products.length > 0 && (
        <div className="card overflow-x-auto">
          <p className="border-b border-slate-100 px-3 py-2 text-sm text-slate-700">
            {products.length} product(s){low ? `, ${low} low on stock` : ''}
          </p>
          <table className="table" aria-label="Products">
            <thead>
              <tr>
                <th scope="col">SKU</th>
                <th scope="col">Name</th>
                <th scope="col" className="text-right">Price</th>
                <th scope="col" className="text-right">Stock</th>
                <th scope="col" className="text-right">Reserved</th>
                <th scope="col" className="text-right">Available</th>
                <th scope="col" className="text-right">Threshold</th>
                <th scope="col">Level</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {products.map((p) =>
                editing === p.id ? (
                  <EditRow
                    key={p.id}
                    product={p}
                    onDone={(saved, message) => {
                      if (saved) upsert(saved);
                      setNotice(message ?? null);
                      setEditing(null);
                    }}
                  />
                ) : (
                  <tr key={p.id} data-product-id={p.id} data-sku={p.sku}>
                    <td className="font-mono text-xs">{p.sku}</td>
                    <td>{p.name}</td>
                    <td className="text-right tabular-nums">{formatCents(p.priceCents, p.currency)}</td>
                    <td className="text-right tabular-nums" data-field="stock">{p.stock}</td>
                    <td className="text-right tabular-nums" data-field="reserved">{p.reserved}</td>
                    <td className="text-right font-semibold tabular-nums" data-field="available">{p.available}</td>
                    <td className="text-right tabular-nums">{p.lowStockThreshold}</td>
                    <td>{isLow(p) ? <Badge tone="warn">Low</Badge> : <Badge tone="good">OK</Badge>}</td>
                    <td className="text-right">
                      <button type="button" className="btn px-2 py-1 text-xs" onClick={() => setEditing(p.id)} aria-label={`Edit ${p.name}`}>
                        Edit
                      </button>
                    </td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </div>
      )}
      <NewProductForm
        onCreated={(p) => {
          upsert(p);
          setNotice(`Added ${p.name}.`);
        }}
      />
    </>
  );
}
