/**
 * The query parameters each route takes: any other is refused (400) before the route runs, as
 * unknown body fields are. Keyed by every catalog route, so a new route does not type-check until
 * it says what it takes. The routes' own schemas check the values.
 */
import { ROUTES } from './catalog';
import type { RouteKey } from './catalog';

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
  [ROUTES.listAudit]: ['subject', 'route', 'target', 'from', 'to', ...PAGE],
  [ROUTES.listProjections]: [],
  [ROUTES.rebuildProjection]: [],
  [ROUTES.listReplays]: [],
  [ROUTES.startReplay]: [],
} as const satisfies Record<RouteKey, readonly string[]>;
