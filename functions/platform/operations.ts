/**
 * operations-api: the operators' routes, one function (each catalog function costs the stack a
 * dozen resources): the broker's queues and dead letters (queues.ts) and the event logs' history,
 * rebuilds and replays (history.ts).
 */
import { createLogger } from '../../shared/logger';
import { createRouteApi } from '../http-api';
import { historyRoutes } from './history';
import { queueRoutes } from './queues';

export const handler = createRouteApi({ logger: createLogger('platform'), routes: { ...queueRoutes, ...historyRoutes } });
