import { lockOrderScopes } from '../../shared/db/locks';
import type { Queryable } from '../../shared/db/pool';
import type { Payment, PaymentStatus } from './domain/payments';

/** A payment as the API shows it: no card token, no gateway references, no bookkeeping. */
export interface PublicPayment {
  id: string;
  orderId: string;
  amountCents: number;
  currency: string;
  status: PaymentStatus;
  failureReason: string | null;
  refundReason: string | null;
  createdAt: string;
  updatedAt: string;
}

interface PaymentRow {
  id: string;
  order_id: string;
  amount_cents: number;
  currency: string;
  status: PaymentStatus;
  payment_token: string | null;
  order_version: number;
  correlation_id: string | null;
  causation_id: string | null;
  failure_reason: string | null;
  charge_reference: string | null;
  refund_reference: string | null;
  refund_reason: string | null;
  refund_order_version: number | null;
  refund_correlation_id: string | null;
  refund_causation_id: string | null;
  created_at: Date;
  updated_at: Date;
}

function toPayment(r: PaymentRow): Payment {
  return {
    id: r.id,
    orderId: r.order_id,
    amountCents: r.amount_cents,
    currency: r.currency,
    status: r.status,
    token: r.payment_token,
    orderVersion: r.order_version,
    cause: { correlationId: r.correlation_id ?? r.order_id, causationId: r.causation_id },
    failureReason: r.failure_reason,
    chargeReference: r.charge_reference,
    refundReference: r.refund_reference,
    refund:
      r.refund_reason === null
        ? null
        : {
            reason: r.refund_reason,
            orderVersion: r.refund_order_version ?? r.order_version,
            cause: { correlationId: r.refund_correlation_id ?? r.order_id, causationId: r.refund_causation_id },
          },
  };
}

function toPublic(r: PaymentRow): PublicPayment {
  return {
    id: r.id,
    orderId: r.order_id,
    amountCents: r.amount_cents,
    currency: r.currency,
    status: r.status,
    failureReason: r.failure_reason,
    refundReason: r.refund_reason,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

/** Takes the locks of the batch's orders (one statement, stable order), then reads their payments and blocks. */
export async function lockOrderPayments(tx: Queryable, orderIds: string[]): Promise<{ payments: Map<string, Payment>; blocked: Set<string> }> {
  await lockOrderScopes(tx, orderIds);
  const { rows } = await tx.query<{ payment: PaymentRow | null; blocked: string | null }>(
    `SELECT row_to_json(p) AS payment, NULL AS blocked FROM payments p WHERE p.order_id = ANY($1::uuid[])
     UNION ALL
     SELECT NULL, b.order_id::text FROM payment_blocks b WHERE b.order_id = ANY($1::uuid[])`,
    [orderIds],
  );
  const payments = new Map<string, Payment>();
  const blocked = new Set<string>();
  for (const r of rows) {
    if (r.payment) payments.set(r.payment.order_id, toPayment(revive(r.payment)));
    if (r.blocked) blocked.add(r.blocked);
  }
  return { payments, blocked };
}

/** row_to_json gives timestamps as strings. */
const revive = (r: PaymentRow): PaymentRow => ({ ...r, created_at: new Date(r.created_at), updated_at: new Date(r.updated_at) });

/** Writes new intents and refund requests, in one statement. */
export async function savePayments(tx: Queryable, payments: Payment[]): Promise<void> {
  if (payments.length === 0) return;
  const col = <T>(f: (p: Payment) => T) => payments.map(f);
  await tx.query(
    `INSERT INTO payments (id, order_id, amount_cents, currency, status, payment_token, order_version, correlation_id, causation_id,
                           refund_reason, refund_order_version, refund_correlation_id, refund_causation_id)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::uuid[],
                          $10::text[], $11::int[], $12::text[], $13::uuid[])
     ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, refund_reason = EXCLUDED.refund_reason,
       refund_order_version = EXCLUDED.refund_order_version, refund_correlation_id = EXCLUDED.refund_correlation_id,
       refund_causation_id = EXCLUDED.refund_causation_id, updated_at = now()`,
    [
      col((p) => p.id),
      col((p) => p.orderId),
      col((p) => p.amountCents),
      col((p) => p.currency),
      col((p) => p.status),
      col((p) => p.token),
      col((p) => p.orderVersion),
      col((p) => p.cause.correlationId),
      col((p) => p.cause.causationId),
      col((p) => p.refund?.reason ?? null),
      col((p) => p.refund?.orderVersion ?? null),
      col((p) => p.refund?.cause.correlationId ?? null),
      col((p) => p.refund?.cause.causationId ?? null),
    ],
  );
}

export async function saveBlocks(tx: Queryable, blocks: { orderId: string; reason: string }[]): Promise<void> {
  if (blocks.length === 0) return;
  await tx.query(
    'INSERT INTO payment_blocks (order_id, reason) SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING',
    [blocks.map((b) => b.orderId), blocks.map((b) => b.reason)],
  );
}

/** Intents whose outcome is not recorded yet: of the given orders, or any left alone longer than staleSeconds. */
export async function findUnsettled(db: Queryable, filter: { orderIds: string[] } | { staleSeconds: number; limit: number }): Promise<Payment[]> {
  const { rows } =
    'orderIds' in filter
      ? await db.query<PaymentRow>(`SELECT * FROM payments WHERE status IN ('CHARGING', 'REFUNDING') AND order_id = ANY($1::uuid[])`, [filter.orderIds])
      : await db.query<PaymentRow>(
          `SELECT * FROM payments WHERE status IN ('CHARGING', 'REFUNDING') AND updated_at < now() - make_interval(secs => $1)
           ORDER BY updated_at LIMIT $2`,
          [filter.staleSeconds, filter.limit],
        );
  return rows.map(toPayment);
}

/**
 * Records settled intents, in one statement, each only if it is still as it was read (same
 * status, no refund asked since): a settlement that lost a race to another, or to a new refund
 * request, changes nothing. Returns the ids recorded.
 */
export async function recordSettlements(tx: Queryable, settled: { before: Payment; after: Payment }[]): Promise<Set<string>> {
  if (settled.length === 0) return new Set();
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE payments p SET status = s.status, charge_reference = COALESCE(s.charge_reference, p.charge_reference),
            refund_reference = COALESCE(s.refund_reference, p.refund_reference),
            failure_reason = COALESCE(s.failure_reason, p.failure_reason), updated_at = now()
       FROM unnest($1::uuid[], $2::text[], $3::bool[], $4::text[], $5::text[], $6::text[], $7::text[])
            AS s(id, expected_status, expected_refund, status, charge_reference, refund_reference, failure_reason)
      WHERE p.id = s.id AND p.status = s.expected_status AND (p.refund_reason IS NOT NULL) = s.expected_refund
      RETURNING p.id`,
    [
      settled.map((s) => s.before.id),
      settled.map((s) => s.before.status),
      settled.map((s) => s.before.refund !== null),
      settled.map((s) => s.after.status),
      settled.map((s) => s.after.chargeReference),
      settled.map((s) => s.after.refundReference),
      settled.map((s) => s.after.failureReason),
    ],
  );
  return new Set(rows.map((r) => r.id));
}

export async function listPayments(db: Queryable, f: { orderId?: string; after: [string, string] | null; limit: number }): Promise<PublicPayment[]> {
  const { rows } = await db.query<PaymentRow>(
    `SELECT * FROM payments
      WHERE ($1::uuid IS NULL OR order_id = $1)
        AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $4`,
    [f.orderId ?? null, f.after?.[0] ?? null, f.after?.[1] ?? null, f.limit],
  );
  return rows.map(toPublic);
}
