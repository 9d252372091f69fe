/**
 * An audit entry: who changed what, when, from where, with what outcome. Pure: the entry's shape,
 * the canonical bytes its hash covers, and which chain it joins. The database computes the chain
 * link with the same formula (shared/audit/store.ts); `npm run audit -- verify` recomputes it here.
 */
import { createHash, randomUUID } from 'node:crypto';

export interface AuditEntry {
  id: string;
  /** ISO time (milliseconds) the change was made. */
  at: string;
  /** Who: the access token's subject, or the operator running a CLI tool. */
  subject: string;
  role: string;
  /** What: the API Gateway route key (`PATCH /products/{id}`), or the CLI command (`CLI dlq redrive`). */
  route: string;
  /** The ids of what changed (an order, a product, a queue). */
  targets: string[];
  /** The change: `{ before, after }` for edits, `{ after }` for creations, an operator tool's result. */
  change: unknown;
  /** From where: the request's source address, or `cli@<host>`. */
  source: string | null;
  /**
   * The outcome: the HTTP status answered. Null on the entry an operator tool writes before it
   * changes anything outside PostgreSQL; its outcome follows as a second entry (see auditedOperation).
   */
  status: number | null;
  correlationId: string;
}

/** Who acts, where from, and the correlation id that ties the entry to its logs and events. */
export interface AuditActor {
  subject: string;
  role: string;
  source: string | null;
  correlationId: string;
}

/** What the actor did. */
export interface AuditAction {
  route: string;
  targets: string[];
  change?: unknown;
  status: number | null;
}

/** A new entry, stamped now. */
export function auditEntry(actor: AuditActor, action: AuditAction, now = new Date()): AuditEntry {
  return {
    id: randomUUID(),
    at: now.toISOString(),
    subject: actor.subject,
    role: actor.role,
    route: action.route,
    targets: action.targets,
    // Stored as jsonb: normalise it as JSON would (undefined members gone), so the digest taken now
    // is the digest of what verify reads back.
    change: action.change === undefined ? null : (JSON.parse(JSON.stringify(action.change)) as unknown),
    source: actor.source,
    status: action.status,
    correlationId: actor.correlationId,
  };
}

/** JSON with object members sorted by name at every depth: one text for one value, however it was built. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const members = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** SHA-256 of the entry's canonical form: every field, in a fixed order. */
export function entryDigest(e: AuditEntry): Buffer {
  const fields = [e.id, e.at, e.subject, e.role, e.route, e.targets, e.change, e.source, e.status, e.correlationId];
  return createHash('sha256').update(canonicalJson(fields)).digest();
}

/** What the first entry of a chain follows. */
export const GENESIS = Buffer.alloc(32);

/** An entry's hash: SHA-256 of the previous entry's hash, then its own digest (the database computes `sha256(prev || digest)`). */
export function linkHash(prev: Buffer, digest: Buffer): Buffer {
  return createHash('sha256').update(prev).update(digest).digest();
}

/**
 * Chains per database. Each chain serialises its appends (its head row is locked until the
 * writing transaction commits), so one chain would make every audited change in a database wait
 * for the previous one's commit: at a few milliseconds per commit (RDS, Multi-AZ), a few hundred
 * orders per second. Spread over 256, a chain at 10,000 orders/s with 3 ms commits is busy about
 * a tenth of the time. A chain is cheap (a head row, one walk for verify), and the count may
 * change at any time: verify walks whatever chains exist.
 */
export const AUDIT_CHAINS = 256;

/** The chain an entry joins: by its first target, so every entry about one order or product is in one chain, in order. */
export function chainOf(e: Pick<AuditEntry, 'targets' | 'correlationId'>): number {
  const key = e.targets[0] ?? e.correlationId;
  // FNV-1a, 32 bits: cheap and well spread over UUIDs and names alike.
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % AUDIT_CHAINS;
}
