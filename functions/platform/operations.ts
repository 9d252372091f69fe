/**
 * operations-api: the operators' routes, one function (each catalog function costs the stack a
 * dozen resources): the broker's queues, dead letters and redrive (queues.ts), the audit trail
 * (audit.ts), and the event logs' history, rebuilds and replays (history.ts).
 */
import { ROUTES } from '../catalog';
import { createRouteApi } from '../http-api';
import { listAudit } from './audit';
import { historyRoutes } from './history';
import { logger } from './operations-log';
import { listDeadLetters, listQueues, redrive } from './queues';

export const handler = createRouteApi({
  logger,
  routes: {
    [ROUTES.listQueues]: listQueues,
    [ROUTES.listDeadLetters]: listDeadLetters,
    [ROUTES.redriveQueue]: redrive,
    [ROUTES.listAudit]: listAudit,
    ...historyRoutes,
  },
});
