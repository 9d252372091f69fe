import type pg from 'pg';
import { getPool } from '../../shared/db/pool';
import { PAYMENT_TOKENS, isPaymentToken } from '../../shared/payments/test-tokens';
import { referenceFor } from './domain/gateway';
import type { ChargeResult, PaymentGateway } from './domain/gateway';

interface Operation {
  key: string;
  kind: 'charge' | 'refund';
  amountCents: number;
  succeeded: boolean;
  reference: string | null;
  declineReason: string | null;
}

interface OperationRow {
  idempotency_key: string;
  succeeded: boolean;
  reference: string | null;
  decline_reason: string | null;
}

/**
 * Writes the gateway's operations, first answer wins per key. Calls made together (a batch's
 * charges, sent concurrently) are written in one statement: the simulator's own storage is no part
 * of what EventFlow measures, and each call still gets its own answer.
 */
class OperationLog {
  private pending: { op: Operation; resolve: (row: OperationRow) => void; reject: (err: unknown) => void }[] = [];
  private scheduled = false;

  constructor(private readonly pool: () => Promise<pg.Pool>) {}

  record(op: Operation): Promise<OperationRow> {
    return new Promise((resolve, reject) => {
      this.pending.push({ op, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  async find(key: string): Promise<OperationRow | null> {
    const { rows } = await (await this.pool()).query<OperationRow>('SELECT * FROM gateway.operations WHERE idempotency_key = $1', [key]);
    return rows[0] ?? null;
  }

  private async flush() {
    const calls = this.pending;
    this.pending = [];
    this.scheduled = false;
    const ops = [...new Map(calls.map((c) => [c.op.key, c.op])).values()];
    try {
      const pool = await this.pool();
      await pool.query(
        `INSERT INTO gateway.operations (idempotency_key, kind, amount_cents, succeeded, reference, decline_reason)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bool[], $5::text[], $6::text[])
         ON CONFLICT (idempotency_key) DO NOTHING`,
        [ops.map((o) => o.key), ops.map((o) => o.kind), ops.map((o) => o.amountCents), ops.map((o) => o.succeeded), ops.map((o) => o.reference), ops.map((o) => o.declineReason)],
      );
      const { rows } = await pool.query<OperationRow>('SELECT * FROM gateway.operations WHERE idempotency_key = ANY($1::text[])', [ops.map((o) => o.key)]);
      const byKey = new Map(rows.map((r) => [r.idempotency_key, r]));
      for (const c of calls) c.resolve(byKey.get(c.op.key)!);
    } catch (err) {
      for (const c of calls) c.reject(err);
    }
  }
}

const toResult = (row: OperationRow): ChargeResult =>
  row.succeeded ? { ok: true, reference: row.reference! } : { ok: false, reason: row.decline_reason ?? 'declined' };

/**
 * The card gateway in test mode: the token decides the outcome, as in payment providers'
 * sandboxes. It keeps books of its own (see migrations/0003), so it is idempotent by key the way a
 * real gateway is: a retried charge gets the first answer and never charges twice.
 */
export function simulatedGateway(pool: () => Promise<pg.Pool> = () => getPool('payment')): PaymentGateway {
  const log = new OperationLog(pool);
  return {
    async charge({ idempotencyKey, token, amountCents }) {
      const succeeds = isPaymentToken(token) && PAYMENT_TOKENS[token] === 'succeeds';
      const declineReason = !isPaymentToken(token) ? 'payment token not recognised' : 'card declined';
      const row = await log.record({
        key: idempotencyKey,
        kind: 'charge',
        amountCents,
        succeeded: succeeds,
        reference: succeeds ? referenceFor('ch', idempotencyKey) : null,
        declineReason: succeeds ? null : declineReason,
      });
      return toResult(row);
    },
    async lookup(idempotencyKey) {
      const row = await log.find(idempotencyKey);
      return row ? toResult(row) : null;
    },
    async refund({ idempotencyKey, amountCents }) {
      const row = await log.record({ key: idempotencyKey, kind: 'refund', amountCents, succeeded: true, reference: referenceFor('re', idempotencyKey), declineReason: null });
      return { reference: row.reference! };
    },
  };
}
