/**
 * The query parameters each route takes: any other is refused (400) before the route runs, as
 * unknown body fields are. Keyed by every catalog route, so a new route does not type-check until
 * it says what it takes. The routes' own schemas check the values.
 */
import { ROUTES } from '../../functions/catalog';
import type { RouteKey } from '../../functions/catalog';
import type { FieldError } from './problem';

const PAGE = ['limit', 'cursor'] as const;

export const QUERY_PARAMS = {
  [ROUTES.health]: [],
  [ROUTES.listProducts]: PAGE,
  [ROUTES.getProduct]: [],
  [ROUTES.createProduct]: [],
  [ROUTES.updateProduct]: [],
  [ROUTES.createOrder]: [],
  [ROUTES.listOrders]: ['customerId', 'status', ...PAGE],
  [ROUTES.getOrder]: [],
  [ROUTES.getOrderEvents]: [],
  [ROUTES.cancelOrder]: [],
  [ROUTES.updateOrder]: [],
  [ROUTES.listPayments]: ['orderId', ...PAGE],
  [ROUTES.orderStats]: [],
  [ROUTES.listQueues]: [],
  [ROUTES.listDeadLetters]: ['limit'],
  [ROUTES.redriveQueue]: [],
} as const satisfies Record<RouteKey, readonly string[]>;

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** A field error for each query parameter the route does not take. */
export function unknownQueryParams(routeKey: string, query: Record<string, unknown>): FieldError[] {
  const known: readonly string[] = QUERY_PARAMS[routeKey as RouteKey] ?? [];
  return Object.keys(query)
    .filter((name) => !known.includes(name))
    .map((name) => ({ pointer: `/${escapePointer(name)}`, detail: `unknown query parameter "${name}"${known.length ? `; this route takes ${known.join(', ')}` : '; this route takes none'}` }));
}
