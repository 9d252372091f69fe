/**
 * Which events a WebSocket connection may receive, by who opened it. Pure. An operator receives
 * every event; a customer only the events of its own orders (an order's owner is the customerId of
 * its order.created), and nothing about no order or about an order whose owner is unknown.
 */
import type { Principal } from '../../../shared/auth/principal';
import { ROLES } from '../../../shared/auth/principal';
import { orderIdOf } from '../../../shared/events/envelope';
import type { AnyEnvelope } from '../../../shared/events/envelope';

/** Order id → the customer who placed it. */
export type Owners = ReadonlyMap<string, string>;

export function mayReceive(principal: Principal | null, owners: Owners, event: AnyEnvelope): boolean {
  if (!principal) return false;
  if (principal.role === 'operator') return true;
  const orderId = orderIdOf(event);
  return orderId !== null && owners.get(orderId) === principal.sub;
}

export const receivable = (principal: Principal | null, owners: Owners, events: readonly AnyEnvelope[]) =>
  events.filter((e) => mayReceive(principal, owners, e));

/** The owners the events themselves name (their order.created). */
export function ownersNamedIn(events: readonly AnyEnvelope[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const e of events) if (e.type === 'order.created') owners.set(e.data.orderId, e.data.customerId);
  return owners;
}

/** The distinct order ids of some events. */
export const orderIdsIn = (events: readonly AnyEnvelope[]) => [...new Set(events.map(orderIdOf).filter((id): id is string => id !== null))];

/** A connection's record in Redis: when it cannot be alive any more, and who opened it. */
export interface ConnectionRecord {
  expiresAt: number;
  principal: Principal | null;
}

export const encodeConnection = (r: ConnectionRecord): string =>
  r.principal ? `${r.expiresAt} ${r.principal.role} ${r.principal.sub}` : String(r.expiresAt);

/** A record as stored; one without a principal (written before connections had one) receives nothing. */
export function decodeConnection(value: string): ConnectionRecord {
  const [expiresAt, role, ...sub] = value.split(' ');
  const principal = role && (ROLES as readonly string[]).includes(role) && sub.length ? { role: role as Principal['role'], sub: sub.join(' ') } : null;
  return { expiresAt: Number(expiresAt), principal };
}
