import { createPruner } from '../../shared/messaging/retention';
import { instrument } from '../../shared/observability';
import { WORKING_SETS } from '../catalog';

/**
 * Inbox ids past INBOX_RETENTION_DAYS and Idempotency-Keys past IDEMPOTENCY_KEY_RETENTION_HOURS, in
 * bounded batches, in each service's database; the event logs are kept, their months past
 * EVENT_LOG_KEEP_MONTHS exported to the archive before they are dropped. The order service's inbox
 * also holds the other services' events of each order's timeline: past the window an order's
 * timeline shows its own events only (docs/decisions.md, "Retention").
 */
export const handler = instrument(createPruner(WORKING_SETS));
