'use client';
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { Product } from '../../lib/api';
import { ApiError, allProducts, api, errorText } from '../../lib/api';
import { formatCents } from '../../lib/events';
import { useLiveEvents } from '../../lib/hooks';
import { DataTable } from '../DataTable';
import { TextField } from '../Fields';
import type { TableSpec } from '../DataTable';
import { Badge, ErrorNotice, PageHeader, SuccessNotice } from '../ui';

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

/** What a product form asks for, as typed. */
interface Draft {
  sku: string;
  name: string;
  price: string;
  stock: string;
  threshold: string;
}

type ProductValues = Pick<Product, 'sku' | 'name' | 'priceCents' | 'stock' | 'lowStockThreshold'>;

const draftOf = (p?: Product): Draft =>
  p
    ? { sku: p.sku, name: p.name, price: (p.priceCents / 100).toFixed(2), stock: String(p.stock), threshold: String(p.lowStockThreshold) }
    : { sku: '', name: '', price: '', stock: '', threshold: '0' };

/** The values a draft stands for, or what is wrong with each field (keyed as the API names them). */
function checkDraft(d: Draft, product?: Product): { values: ProductValues } | { errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const priceCents = parseMoney(d.price);
  const stock = parseUnits(d.stock);
  const lowStockThreshold = parseUnits(d.threshold);
  if (!product && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(d.sku.trim())) errors.sku = 'Letters, digits, dot, dash or underscore; at most 64.';
  if (!d.name.trim()) errors.name = 'A product needs a name.';
  if (priceCents === null) errors.priceCents = 'A price like 12.50.';
  if (stock === null) errors.stock = 'A whole number of units, 0 or more.';
  else if (product && stock < product.reserved) errors.stock = `At least the ${product.reserved} unit(s) reserved for orders.`;
  if (lowStockThreshold === null) errors.lowStockThreshold = 'A whole number of units, 0 or more.';
  if (Object.keys(errors).length) return { errors };
  return { values: { sku: d.sku.trim(), name: d.name.trim(), priceCents: priceCents!, stock: stock!, lowStockThreshold: lowStockThreshold! } };
}

/**
 * A product's fields, checked as typed values before anything is sent, and the API's own verdict
 * per field after: editing one in place (`product`), or adding one (none; its SKU too).
 */
function ProductForm({ product, idPrefix, submit, busy, failed, onSubmit, onCancel }: {
  product?: Product;
  idPrefix: string;
  submit: string;
  busy: string;
  failed: string;
  /** Sends the values; resolves when done (an added product's form empties). */
  onSubmit: (values: ProductValues) => Promise<void>;
  onCancel?: () => void;
}) {
  const [draft, setDraft] = useState(() => draftOf(product));
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  async function save(e: React.FormEvent) {
    e.preventDefault();
    const checked = checkDraft(draft, product);
    setFields('errors' in checked ? checked.errors : {});
    if ('errors' in checked) return;
    setSaving(true);
    setError(null);
    try {
      await onSubmit(checked.values);
      if (!product) setDraft(draftOf());
    } catch (err) {
      setError(errorText(err));
      setFields(fieldErrors(err));
    } finally {
      setSaving(false);
    }
  }

  const field = (key: keyof Draft, apiKey: string, label: string, placeholder: string, className: string, inputMode?: 'decimal' | 'numeric') => (
    <TextField
      id={`${key}-${idPrefix}`}
      label={label}
      className={className}
      value={draft[key]}
      onChange={(value) => setDraft((d) => ({ ...d, [key]: value }))}
      placeholder={product ? undefined : placeholder}
      error={fields[apiKey]}
      inputMode={inputMode}
    />
  );

  return (
    <form onSubmit={save} className="flex flex-wrap items-start gap-3 py-1" aria-label={product ? `Edit ${product.name}` : undefined} noValidate>
      {!product && field('sku', 'sku', 'SKU', 'KB-MECH-02', 'w-40')}
      {field('name', 'name', 'Name', 'Mechanical keyboard', 'min-w-56 flex-1')}
      {field('price', 'priceCents', 'Price', '89.00', 'w-28', 'decimal')}
      {field('stock', 'stock', 'Stock', '25', 'w-28', 'numeric')}
      {field('threshold', 'lowStockThreshold', 'Low-stock threshold', '5', 'w-40', 'numeric')}
      <div className="flex gap-2 pt-5">
        <button type="submit" className="btn btn-primary" disabled={saving}>
          {saving ? busy : submit}
        </button>
        {onCancel && (
          <button type="button" className="btn" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
      {error && (
        <div className="w-full">
          <ErrorNotice title={failed} message={error} />
        </div>
      )}
    </form>
  );
}

function EditRow({ product, columns, onDone }: { product: Product; columns: number; onDone: (p: Product | null, message?: string) => void }) {
  return (
    <tr className="bg-sky-50/60">
      <td colSpan={columns}>
        <ProductForm
          product={product}
          idPrefix={product.id}
          submit="Save"
          busy="Saving…"
          failed="Not saved"
          onCancel={() => onDone(null)}
          onSubmit={async (v) => {
            const changes: Parameters<typeof api.updateProduct>[1] = {};
            if (v.name !== product.name) changes.name = v.name;
            if (v.priceCents !== product.priceCents) changes.priceCents = v.priceCents;
            if (v.stock !== product.stock) changes.stock = v.stock;
            if (v.lowStockThreshold !== product.lowStockThreshold) changes.lowStockThreshold = v.lowStockThreshold;
            if (Object.keys(changes).length === 0) return onDone(null);
            onDone(await api.updateProduct(product.id, changes), `Saved ${v.name}.`);
          }}
        />
      </td>
    </tr>
  );
}

function NewProductForm({ onCreated }: { onCreated: (p: Product) => void }) {
  return (
    <section aria-labelledby="new-product-title" className="card mt-4 p-4">
      <h2 id="new-product-title" className="mb-3 text-base font-semibold">
        New product
      </h2>
      <ProductForm idPrefix="new" submit="Add product" busy="Adding…" failed="The product was not added" onSubmit={async (v) => onCreated(await api.createProduct(v))} />
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
  const table = useMemo<TableSpec<Product>>(
    () => ({
      label: 'Products',
      row: (p) => ({ key: p.id, 'data-product-id': p.id, 'data-sku': p.sku }),
      columns: [
        { key: 'sku', header: 'SKU', className: 'font-mono text-xs', cell: (p) => p.sku, sortValue: (p) => p.sku },
        { key: 'name', header: 'Name', cell: (p) => p.name, sortValue: (p) => p.name },
        { key: 'price', header: 'Price', numeric: true, cell: (p) => formatCents(p.priceCents, p.currency), sortValue: (p) => p.priceCents },
        { key: 'stock', header: 'Stock', numeric: true, field: 'stock', cell: (p) => p.stock, sortValue: (p) => p.stock },
        { key: 'reserved', header: 'Reserved', numeric: true, field: 'reserved', cell: (p) => p.reserved, sortValue: (p) => p.reserved },
        { key: 'available', header: 'Available', numeric: true, field: 'available', className: 'font-semibold', cell: (p) => p.available, sortValue: (p) => p.available },
        { key: 'threshold', header: 'Threshold', numeric: true, cell: (p) => p.lowStockThreshold, sortValue: (p) => p.lowStockThreshold },
        { key: 'level', header: 'Level', cell: (p) => (isLow(p) ? <Badge tone="warn">Low</Badge> : <Badge tone="good">OK</Badge>), sortValue: (p) => (isLow(p) ? 0 : 1) },
        {
          key: 'actions',
          header: 'Actions',
          hideHeader: true,
          className: 'text-right',
          cell: (p) => (
            <button type="button" className="btn px-2 py-1 text-xs" onClick={() => setEditing(p.id)} aria-label={`Edit ${p.name}`}>
              Edit
            </button>
          ),
        },
      ],
    }),
    [],
  );
  return (
    <>
      <PageHeader title="Inventory" description="Stock as reservations and releases happen. Available is stock minus what is reserved for orders; at or under its threshold a product is flagged low." />
      {notice && (
        <div className="mb-3">
          <SuccessNotice>{notice}</SuccessNotice>
        </div>
      )}
      <DataTable
        table={table}
        rows={products}
        error={error}
        onRetry={reload}
        empty={{ title: 'No products yet', children: 'Add the first one below.' }}
        rowOverride={(p, span) =>
          editing === p.id ? (
            <EditRow
              key={p.id}
              product={p}
              columns={span}
              onDone={(saved, message) => {
                if (saved) upsert(saved);
                setNotice(message ?? null);
                setEditing(null);
              }}
            />
          ) : null
        }
        summary={`${products?.length ?? 0} product(s)${low ? `, ${low} low on stock` : ''}`}
      />
      <NewProductForm
        onCreated={(p) => {
          upsert(p);
          setNotice(`Added ${p.name}.`);
        }}
      />
    </>
  );
}
