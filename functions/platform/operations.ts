/**
 * operations-api: the operators' routes. The broker's queues, dead letters and redrive
 * (./queues.ts) and the audit trail (./audit.ts).
 */
import { ROUTES } from '../catalog';
import { createRouteApi } from '../http-api';
import { listAudit } from './audit';
import { logger } from './operations-log';
import { listDeadLetters, listQueues, redrive } from './queues';

export const handler = createRouteApi({
  logger,
  routes: {
    [ROUTES.listQueues]: listQueues,
    [ROUTES.listDeadLetters]: listDeadLetters,
    [ROUTES.redriveQueue]: redrive,
    [ROUTES.listAudit]: listAudit,
  },
});
