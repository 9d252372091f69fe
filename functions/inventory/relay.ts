import { createOutboxRelay } from '../../shared/messaging/relay';
import { instrument } from '../../shared/observability';

export const handler = instrument(createOutboxRelay('inventory'));
