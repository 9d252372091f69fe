import type { Logger } from '@aws-lambda-powertools/logger';
import type pg from 'pg';
import type { ServiceName } from '../config';
import { getPool, withTransaction } from '../db/pool';
import { createEvent } from '../events/envelope';
import type { AnyEnvelope, Cause, Envelope } from '../events/envelope';
import type { EventData, EventType } from '../events/types';
import type { Queryable } from '../db/pool';
import { appendToOutbox, newClaim, outboxInsert, publishCommitted } from './outbox';

export interface UnitOfWork {
  tx: pg.PoolClient;
  /**
   * Records an event caused by this work: it goes to the outbox in the same transaction and is
   * published right after the commit. `cause` defaults to the unit's own.
   */
  emit<T extends EventType>(type: T, data: EventData<T>, cause?: Cause): Envelope<T>;
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
    const result = await work({
      tx,
      emit: (type, data, c = cause ?? undefined) => {
        if (!c) throw new Error(`${type} emitted without a cause`);
        const event = createEvent(type, data, c);
        events.push(event as AnyEnvelope);
        return event;
      },
    });
    await appendToOutbox(tx, events, claim);
    return { result, events };
  });
}

export interface StatementUnitOfWork {
  emit<T extends EventType>(type: T, data: EventData<T>, cause?: Cause): Envelope<T>;
  /**
   * Common table expressions storing the events emitted so far, claimed, for the statement to
   * include in its WITH; their parameters are numbered from `first`, and `when` is an SQL
   * condition that must hold for them to be stored.
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
  const result = await work(pool, {
    emit: (type, data, c = cause) => {
      const event = createEvent(type, data, c);
      events.push(event as AnyEnvelope);
      return event;
    },
    outbox: (first, when) => outboxInsert(events, claim, first, when),
    storedNothing: () => (events = []),
  });
  await publishCommitted(pool, events, claim, logger);
  return { result, events };
}
