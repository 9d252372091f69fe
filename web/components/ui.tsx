'use client';
import Link from 'next/link';
import type { OrderStatus } from '../lib/events';
import { STATUS_INFO } from '../lib/events';

const TONES = {
  neutral: 'bg-slate-100 text-slate-800 ring-slate-300',
  progress: 'bg-sky-50 text-sky-900 ring-sky-300',
  good: 'bg-emerald-50 text-emerald-900 ring-emerald-300',
  bad: 'bg-red-50 text-red-900 ring-red-300',
  muted: 'bg-slate-100 text-slate-700 ring-slate-300',
  warn: 'bg-amber-50 text-amber-900 ring-amber-300',
} as const;

export type Tone = keyof typeof TONES;

export function Badge({ tone, children, title }: { tone: Tone; children: React.ReactNode; title?: string }) {
  return (
    <span title={title} className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${TONES[tone]}`}>
      {children}
    </span>
  );
}

export function StatusBadge({ status }: { status: OrderStatus }) {
  const info = STATUS_INFO[status] ?? { label: status, tone: 'neutral' as const };
  return (
    <span data-status={status}>
      <Badge tone={info.tone}>{info.label}</Badge>
    </span>
  );
}

export function PageHeader({ title, description, children }: { title: string; description?: React.ReactNode; children?: React.ReactNode }) {
  return (
    <div className="mb-5 flex flex-wrap items-end justify-between gap-3">
      <div>
        <h1 className="text-2xl font-bold tracking-tight text-slate-900">{title}</h1>
        {description && <p className="mt-1 max-w-3xl text-sm text-slate-600">{description}</p>}
      </div>
      {children && <div className="flex flex-wrap items-center gap-2">{children}</div>}
    </div>
  );
}

/** An error in words, with a way to try again. */
export function ErrorNotice({ message, onRetry, title = 'Something went wrong' }: { message: string; onRetry?: () => void; title?: string }) {
  return (
    <div role="alert" className="rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-900">
      <p className="font-semibold">{title}</p>
      <p className="mt-1">{message}</p>
      {onRetry && (
        <button type="button" className="btn mt-3" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function SuccessNotice({ children }: { children: React.ReactNode }) {
  return (
    <div role="status" className="rounded-lg border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900">
      {children}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <div role="status" className="flex items-center gap-3 p-6 text-sm text-slate-600">
      <span aria-hidden="true" className="h-4 w-4 animate-spin rounded-full border-2 border-slate-300 border-t-sky-700" />
      Loading {what}…
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-slate-300 p-8 text-center text-sm text-slate-600">
      <p className="font-semibold text-slate-800">{title}</p>
      {children && <div className="mt-1">{children}</div>}
    </div>
  );
}

export function OrderLink({ id, full = false }: { id: string; full?: boolean }) {
  return (
    <Link href={`/orders/view/?id=${id}`} className="link font-mono text-xs" title={id}>
      {full ? id : id.slice(0, 8)}
    </Link>
  );
}

export function Time({ iso, withDate = false }: { iso: string; withDate?: boolean }) {
  const d = new Date(iso);
  const text = withDate
    ? d.toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' })
    : d.toLocaleTimeString('en-GB', { hour12: false }) + `.${String(d.getMilliseconds()).padStart(3, '0')}`;
  return (
    <time dateTime={iso} title={iso} className="tabular-nums">
      {text}
    </time>
  );
}

export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}
