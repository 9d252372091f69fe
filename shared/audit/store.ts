/**
 * The audit trail in a service's database (shared/db/migrations/0001_audit.sql): appending an
 * entry inside the transaction of the change it records, and reading entries back.
 */
import type { Queryable } from '../db/pool';
import { chainOf, entryDigest } from './entry';
import type { AuditEntry } from './entry';

/**
 * Common table expressions that append `entry` to its chain, for a statement that makes the change
 * too (or ends the transaction that did), with parameters numbered from `first`; `when` is an SQL
 * condition that must hold for the entry to be stored (the change happened).
 *
 * The chain's head row is upserted first: the update locks it, so a concurrent append to the same
 * chain waits for this transaction to end and then links to the entry it committed (in READ
 * COMMITTED, ON CONFLICT DO UPDATE always acts on the row's newest version). The database computes
 * the link, sha256(previous hash || entry digest), from the head it locked: no read before the
 * write, no round trip.
 */
export function auditInsert(entry: AuditEntry, first: number, when = 'true'): { ctes: string; params: unknown[] } {
  const p = (i: number) => `$${first + i}`;
  return {
    ctes: `audit_head AS (
             INSERT INTO audit_heads AS h (chain, seq, prev_hash, hash)
             SELECT ${p(0)}::smallint, 1, decode(repeat('00', 32), 'hex'), sha256(decode(repeat('00', 32), 'hex') || ${p(1)}::bytea)
              WHERE ${when}
             ON CONFLICT (chain) DO UPDATE SET seq = h.seq + 1, prev_hash = h.hash, hash = sha256(h.hash || ${p(1)}::bytea)
             RETURNING seq, prev_hash, hash
           ),
           audit_row AS (
             INSERT INTO audit_log (chain, seq, id, at, subject, role, route, targets, change, source, status, correlation_id, prev_hash, hash)
             SELECT ${p(0)}::smallint, seq, ${p(2)}::uuid, ${p(3)}::timestamptz, ${p(4)}::text, ${p(5)}::text, ${p(6)}::text, ${p(7)}::text[],
                    ${p(8)}::jsonb, ${p(9)}::text, ${p(10)}::smallint, ${p(11)}::text, prev_hash, hash
               FROM audit_head
           )`,
    params: [
      chainOf(entry),
      entryDigest(entry),
      entry.id,
      entry.at,
      entry.subject,
      entry.role,
      entry.route,
      entry.targets,
      entry.change === null ? null : JSON.stringify(entry.change),
      entry.source,
      entry.status,
      entry.correlationId,
    ],
  };
}

/** Appends an entry inside the caller's transaction (its chain stays locked until that transaction ends). */
export async function appendAudit(tx: Queryable, entry: AuditEntry): Promise<void> {
  const { ctes, params } = auditInsert(entry, 1);
  await tx.query(`WITH ${ctes} SELECT 1`, params);
}

/** An entry as stored, with its place in its chain. */
export interface StoredAuditEntry extends AuditEntry {
  chain: number;
  seq: number;
}

export interface AuditRow {
  chain: number;
  seq: number;
  id: string;
  at: Date;
  subject: string;
  role: string;
  route: string;
  targets: string[];
  change: unknown;
  source: string | null;
  status: number | null;
  correlation_id: string;
}

export const AUDIT_COLUMNS = 'chain, seq, id, at, subject, role, route, targets, change, source, status, correlation_id';

export function toAuditEntry(r: AuditRow): StoredAuditEntry {
  return {
    chain: r.chain,
    seq: Number(r.seq),
    id: r.id,
    at: r.at.toISOString(),
    subject: r.subject,
    role: r.role,
    route: r.route,
    targets: r.targets,
    change: r.change,
    source: r.source,
    status: r.status,
    correlationId: r.correlation_id,
  };
}

export interface AuditFilter {
  subject?: string;
  route?: string;
  target?: string;
  /** Entries at or after this time. */
  from?: string;
  /** Entries before this time. */
  to?: string;
  /** The sort key (at, id) of the last entry of the previous page. */
  after: [string, string] | null;
  limit: number;
}

/** Entries matching the filter, newest first. */
export async function listAudit(db: Queryable, f: AuditFilter): Promise<StoredAuditEntry[]> {
  const { rows } = await db.query<AuditRow>(
    `SELECT ${AUDIT_COLUMNS} FROM audit_log
      WHERE ($1::text IS NULL OR subject = $1)
        AND ($2::text IS NULL OR route = $2)
        AND ($3::text IS NULL OR targets @> ARRAY[$3::text])
        AND ($4::timestamptz IS NULL OR at >= $4)
        AND ($5::timestamptz IS NULL OR at < $5)
        AND ($6::timestamptz IS NULL OR (at, id) < ($6::timestamptz, $7::uuid))
      ORDER BY at DESC, id DESC
      LIMIT $8`,
    [f.subject ?? null, f.route ?? null, f.target ?? null, f.from ?? null, f.to ?? null, f.after?.[0] ?? null, f.after?.[1] ?? null, f.limit],
  );
  return rows.map(toAuditEntry);
}
