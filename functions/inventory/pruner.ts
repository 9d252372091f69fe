import { createPruner } from '../../shared/messaging/retention';
import { instrument } from '../../shared/observability';

/** Inbox ids past their window (INBOX_RETENTION_DAYS), in bounded batches; the event log is kept. */
export const handler = instrument(createPruner('inventory'));
