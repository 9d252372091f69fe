/**
 * Checks a database's audit chains: every entry's hash must be the hash of its predecessor's and
 * of its own contents, seqs must run 1, 2, 3… without a gap, and each chain's head must name its
 * last entry. An entry edited in place, removed, inserted or moved is caught at the first entry
 * where the chain stops adding up.
 */
import type { Queryable } from '../db/pool';
import { GENESIS, entryDigest, linkHash } from './entry';
import { AUDIT_COLUMNS, toAuditEntry } from './store';
import type { AuditRow } from './store';

export interface ChainBreak {
  chain: number;
  /** The first entry at which the chain does not add up (for a truncated chain, the head's seq). */
  seq: number;
  /** That entry's id, when there is one. */
  id: string | null;
  problem: string;
}

export interface ChainReport {
  chains: number;
  entries: number;
  /** The first break of each broken chain; empty when the trail is intact. */
  breaks: ChainBreak[];
}

const BATCH = 2_000;

/** Walks one chain from its first entry; the first break found, or null. */
async function verifyChain(db: Queryable, chain: number, head: { seq: number; hash: Buffer } | null): Promise<{ entries: number; broken: ChainBreak | null }> {
  let prev: Buffer = GENESIS;
  let expected = 1;
  let entries = 0;
  for (;;) {
    const { rows } = await db.query<AuditRow & { prev_hash: Buffer; hash: Buffer }>(
      `SELECT ${AUDIT_COLUMNS}, prev_hash, hash FROM audit_log WHERE chain = $1 AND seq >= $2 ORDER BY seq LIMIT $3`,
      [chain, expected, BATCH],
    );
    for (const row of rows) {
      const entry = toAuditEntry(row);
      const at = (problem: string): { entries: number; broken: ChainBreak } => ({ entries, broken: { chain, seq: entry.seq, id: entry.id, problem } });
      if (entry.seq !== expected) return at(`entries ${expected}–${entry.seq - 1} are missing before it`);
      if (!row.prev_hash.equals(prev)) return at(expected === 1 ? 'the first entry does not start from the genesis hash' : `it does not follow entry ${expected - 1} (that entry or this one was altered)`);
      if (!row.hash.equals(linkHash(row.prev_hash, entryDigest(entry)))) return at('its contents do not match its hash (altered after it was written)');
      prev = row.hash;
      expected++;
      entries++;
    }
    if (rows.length < BATCH) break;
  }
  const last = expected - 1;
  if (!head) return { entries, broken: { chain, seq: last, id: null, problem: 'the chain has entries but no head' } };
  if (head.seq !== last || !head.hash.equals(prev)) {
    return {
      entries,
      broken: { chain, seq: head.seq, id: null, problem: head.seq > last ? `entries ${last + 1}–${head.seq} were removed from its end` : `its head (entry ${head.seq}) does not match its last entry (${last})` },
    };
  }
  return { entries, broken: null };
}

/** Verifies every audit chain of one database. */
export async function verifyAudit(db: Queryable): Promise<ChainReport> {
  const heads = await db.query<{ chain: number; seq: number; hash: Buffer }>('SELECT chain, seq, hash FROM audit_heads ORDER BY chain');
  const headless = await db.query<{ chain: number }>('SELECT DISTINCT chain FROM audit_log WHERE chain <> ALL($1::smallint[])', [heads.rows.map((h) => h.chain)]);
  const chains = [...heads.rows.map((h) => ({ chain: h.chain, head: { seq: Number(h.seq), hash: h.hash } })), ...headless.rows.map((r) => ({ chain: r.chain, head: null }))];
  const report: ChainReport = { chains: chains.length, entries: 0, breaks: [] };
  for (const { chain, head } of chains) {
    const { entries, broken } = await verifyChain(db, chain, head);
    report.entries += entries;
    if (broken) report.breaks.push(broken);
  }
  return report;
}
