import { lockOrderScope } from '../../shared/db/locks';
import type { Queryable } from '../../shared/db/pool';

export type PaymentStatus = 'PROCESSED' | 'FAILED' | 'REFUNDED';

export interface Payment {
  id: string;
  orderId: string;
  amountCents: number;
  currency: string;
  status: PaymentStatus;
  failureReason: string | null;
  createdAt: string;
}

interface PaymentRow {
  id: string;
  order_id: string;
  amount_cents: number;
  currency: string;
  status: PaymentStatus;
  failure_reason: string | null;
  charge_reference: string | null;
  created_at: Date;
}

const toPayment = (r: PaymentRow): Payment & { chargeReference: string | null } => ({
  id: r.id,
  orderId: r.order_id,
  amountCents: r.amount_cents,
  currency: r.currency,
  status: r.status,
  failureReason: r.failure_reason,
  createdAt: r.created_at.toISOString(),
  chargeReference: r.charge_reference,
});

export function publicPayment(p: Payment & { chargeReference?: string | null }): Payment {
  const { chargeReference: _c, ...rest } = p;
  return rest;
}

/** Takes the order's lock, then reads its payment and whether it was blocked before payment. */
export async function lockOrderPayment(tx: Queryable, orderId: string) {
  await lockOrderScope(tx, orderId);
  const { rows } = await tx.query<{ payment: (Omit<PaymentRow, 'created_at'> & { created_at: string }) | null; blocked: string | null }>(
    `SELECT (SELECT row_to_json(p) FROM payments p WHERE p.order_id = $1) AS payment,
            (SELECT reason FROM payment_blocks WHERE order_id = $1) AS blocked`,
    [orderId],
  );
  const { payment, blocked } = rows[0]!;
  return { payment: payment ? toPayment({ ...payment, created_at: new Date(payment.created_at) }) : null, blockedBecause: blocked };
}

/** Records a payment with the gateway's answer. */
export async function insertPayment(
  tx: Queryable,
  p: { id: string; orderId: string; amountCents: number; currency: string; status: PaymentStatus; failureReason?: string; chargeReference?: string },
) {
  await tx.query(
    `INSERT INTO payments (id, order_id, amount_cents, currency, status, failure_reason, charge_reference)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [p.id, p.orderId, p.amountCents, p.currency, p.status, p.failureReason ?? null, p.chargeReference ?? null],
  );
}

export async function settlePayment(
  tx: Queryable,
  id: string,
  s: { status: PaymentStatus; failureReason?: string; chargeReference?: string; refundReference?: string },
) {
  await tx.query(
    `UPDATE payments SET status = $2, failure_reason = COALESCE($3, failure_reason),
            charge_reference = COALESCE($4, charge_reference), refund_reference = COALESCE($5, refund_reference),
            updated_at = now()
      WHERE id = $1`,
    [id, s.status, s.failureReason ?? null, s.chargeReference ?? null, s.refundReference ?? null],
  );
}

export async function blockOrder(tx: Queryable, orderId: string, reason: string) {
  await tx.query('INSERT INTO payment_blocks (order_id, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING', [orderId, reason]);
}

export async function listPayments(db: Queryable, f: { orderId?: string; after: [string, string] | null; limit: number }) {
  const { rows } = await db.query<PaymentRow>(
    `SELECT * FROM payments
      WHERE ($1::uuid IS NULL OR order_id = $1)
        AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $4`,
    [f.orderId ?? null, f.after?.[0] ?? null, f.after?.[1] ?? null, f.limit],
  );
  return rows.map(toPayment);
}
