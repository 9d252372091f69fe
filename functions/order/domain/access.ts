/**
 * Whose orders a caller may place, see and cancel. Pure. A customer is the token's subject and
 * acts on its own orders only; an operator acts on anyone's. Another customer's order answers as
 * if it did not exist (404), so order ids cannot be probed.
 */
import type { Principal } from '../../../shared/auth/principal';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A customer's subject is its customerId, a UUID (Cognito's subjects are); any other subject owns no order. */
export const isCustomerId = (sub: string) => UUID.test(sub);

export type OrderFor = { ok: true; customerId: string } | { ok: false; status: 400 | 403; pointer: string; detail: string };

/** The customer an order is placed for, from the caller and the body's optional customerId. */
export function orderPlacedFor(principal: Principal, bodyCustomerId: string | undefined): OrderFor {
  if (principal.role === 'customer') {
    if (!isCustomerId(principal.sub)) return { ok: false, status: 403, pointer: '', detail: 'the caller is not a customer with an id that can own orders' };
    if (bodyCustomerId !== undefined && bodyCustomerId !== principal.sub) {
      return { ok: false, status: 403, pointer: '/customerId', detail: 'a customer places orders for itself only' };
    }
    return { ok: true, customerId: principal.sub };
  }
  if (bodyCustomerId === undefined) {
    return { ok: false, status: 400, pointer: '/customerId', detail: 'an operator must name the customer the order is for' };
  }
  return { ok: true, customerId: bodyCustomerId };
}

/** True when the caller may see or act on an order of this customer. */
export const mayAccessOrder = (principal: Principal, orderCustomerId: string): boolean =>
  principal.role === 'operator' || principal.sub === orderCustomerId;

/**
 * The customer filter of a listing: a customer's is itself whatever it asked; `none` when it
 * asked for another customer's orders (it gets an empty page, as a filter matching nothing would).
 */
export function listingFilter(principal: Principal, requested: string | undefined): { customerId: string | undefined; none: boolean } {
  if (principal.role === 'operator') return { customerId: requested, none: false };
  return { customerId: principal.sub, none: !isCustomerId(principal.sub) || (requested !== undefined && requested !== principal.sub) };
}
