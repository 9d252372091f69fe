/**
 * The HTTP handler of a catalog function: shared/http/api.ts's createHttpApi with the catalog's
 * rules for each route (who may call it, which query parameters it takes).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { createHttpApi } from '../shared/http/api';
import type { RouteHandler } from '../shared/http/api';
import { ROUTE_ACCESS } from './catalog';
import type { RouteKey } from './catalog';
import { QUERY_PARAMS } from './query-params';

const isRoute = (key: string): key is RouteKey => Object.hasOwn(ROUTE_ACCESS, key);

export const CATALOG_ROUTE_RULES = {
  access: (routeKey: string) => (isRoute(routeKey) ? ROUTE_ACCESS[routeKey] : undefined),
  queryParams: (routeKey: string) => (isRoute(routeKey) ? QUERY_PARAMS[routeKey] : []),
};

export function createRouteApi(opts: { logger: Logger; routes: Partial<Record<RouteKey, RouteHandler>> }) {
  return createHttpApi({ logger: opts.logger, routes: opts.routes as Record<string, RouteHandler>, rules: CATALOG_ROUTE_RULES });
}
