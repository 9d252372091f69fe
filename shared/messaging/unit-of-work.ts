import type { Logger } from '@aws-lambda-powertools/logger';
import type pg from 'pg';
import type { ServiceName } from '../config';
import { getPool, withTransaction } from '../db/pool';
import { createEvent } from '../events/envelope';
import type { AnyEnvelope, Cause, Envelope } from '../events/envelope';
import type { EventData, EventType } from '../events/types';
import type { Queryable } from '../db/pool';
import { auditInsert } from '../audit/store';
import type { AuditEntry } from '../audit/entry';
import { newClaim, outboxInsert, publishCommitted } from './outbox';

export interface UnitOfWork {
  tx: pg.PoolClient;
  /**
   * Records an event caused by this work: it goes to the outbox in the same transaction and is
   * published right after the commit. `cause` defaults to the unit's own.
   */
  emit<T extends EventType>(type: T, data: EventData<T>, cause?: Cause): Envelope<T>;
  /**
   * Records the audit entry of this work (a person's change: shared/audit/): appended to its chain
   * in the same transaction, with the outbox, so it exists exactly when the change does. One per unit.
   */
  audit(entry: AuditEntry): void;
}

/** Collects a unit's audit entry: at most one, since a unit is one person's one change. */
function auditSlot() {
  let entry: AuditEntry | null = null;
  return {
    set(e: AuditEntry) {
      if (entry) throw new Error('a unit of work records one audit entry');
      entry = e;
    },
    get: () => entry,
    clear: () => (entry = null),
  };
}

/**
 * Common table expressions storing what a unit recorded: its events in the outbox (claimed by
 * `claim`) and its audit entry, with parameters numbered from `first`, stored only if `when` holds.
 */
export function recordedInsert(events: AnyEnvelope[], audit: AuditEntry | null, claim: string, first: number, when = 'true'): { ctes: string; params: unknown[] } {
  const ctes: string[] = [];
  const params: unknown[] = [];
  if (events.length > 0) {
    const o = outboxInsert(events, claim, first, when);
    ctes.push(o.ctes);
    params.push(...o.params);
  }
  if (audit) {
    const a = auditInsert(audit, first + params.length, when);
    ctes.push(a.ctes);
    params.push(...a.params);
  }
  return { ctes: ctes.join(',\n'), params };
}

/**
 * The one way EventFlow changes state: a transaction, the events it causes stored in the outbox
 * within it, and those events published once it has committed (what fails to publish, the relay
 * sends). HTTP commands, schedules and queue consumers all go through here.
 */
export async function runUnitOfWork<T>(
  service: ServiceName,
  cause: Cause | null,
  logger: Logger,
  work: (uow: UnitOfWork) => Promise<T>,
): Promise<{ result: T; events: AnyEnvelope[] }> {
  const pool = await getPool(service);
  const claim = newClaim();
  const { result, events } = await inTransaction(pool, cause, claim, work);
  await publishCommitted(pool, events, claim, logger);
  return { result, events };
}

/** The transaction part of a unit of work, for callers that publish later themselves (a consumer's batch). */
export async function inTransaction<T>(
  pool: pg.Pool,
  cause: Cause | null,
  claim: string,
  work: (uow: UnitOfWork) => Promise<T>,
): Promise<{ result: T; events: AnyEnvelope[] }> {
  return withTransaction(pool, async (tx) => {
    const events: AnyEnvelope[] = [];
    const audit = auditSlot();
    const result = await work({
      tx,
      emit: (type, data, c = cause ?? undefined) => {
        if (!c) throw new Error(`${type} emitted without a cause`);
        const event = createEvent(type, data, c);
        events.push(event as AnyEnvelope);
        return event;
      },
      audit: audit.set,
    });
    // The events and the audit entry in one statement: an audited change costs no extra round trip.
    const recorded = recordedInsert(events, audit.get(), claim, 1);
    if (recorded.ctes) await tx.query(`WITH ${recorded.ctes} SELECT 1`, recorded.params);
    return { result, events };
  });
}

export interface StatementUnitOfWork {
  emit<T extends EventType>(type: T, data: EventData<T>, cause?: Cause): Envelope<T>;
  /** Records the statement's audit entry (see UnitOfWork.audit); call it before `outbox`. */
  audit(entry: AuditEntry): void;
  /**
   * Common table expressions storing the events emitted so far, claimed, and the audit entry, for
   * the statement to include in its WITH; their parameters are numbered from `first`, and `when`
   * is an SQL condition that must hold for them to be stored.
   */
  outbox(first: number, when?: string): { ctes: string; params: unknown[] };
  /** Says the statement stored nothing (its condition did not hold): nothing is published. */
  storedNothing(): void;
}

/**
 * A unit of work whose whole state change, events included, is one SQL statement: atomic on its
 * own, so it needs no BEGIN and COMMIT round trips. For the hottest command (placing an order);
 * anything that needs to read before it writes takes runUnitOfWork.
 */
export async function runStatementUnitOfWork<T>(
  service: ServiceName,
  cause: Cause,
  logger: Logger,
  work: (db: Queryable, uow: StatementUnitOfWork) => Promise<T>,
): Promise<{ result: T; events: AnyEnvelope[] }> {
  const pool = await getPool(service);
  const claim = newClaim();
  let events: AnyEnvelope[] = [];
  const audit = auditSlot();
  const result = await work(pool, {
    emit: (type, data, c = cause) => {
      const event = createEvent(type, data, c);
      events.push(event as AnyEnvelope);
      return event;
    },
    audit: audit.set,
    outbox: (first, when) => recordedInsert(events, audit.get(), claim, first, when),
    storedNothing: () => {
      events = [];
      audit.clear();
    },
  });
  await publishCommitted(pool, events, claim, logger);
  return { result, events };
}
