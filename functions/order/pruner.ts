import { createPruner } from '../../shared/messaging/retention';
import { instrument } from '../../shared/observability';

/**
 * Inbox ids past their window (INBOX_RETENTION_DAYS) and Idempotency-Keys past theirs
 * (IDEMPOTENCY_KEY_RETENTION_HOURS), in bounded batches; the event log is kept. The order
 * service's inbox also holds the other services' events of each order's timeline: past the window
 * an order's timeline shows its own events only (docs/decisions.md, "Retention").
 */
export const handler = instrument(
  createPruner('order', (settings) => [{ table: 'idempotency_keys', column: 'created_at', seconds: settings.idempotencyKeyHours * 3_600 }]),
);
