import { createOutboxRelay } from '../../shared/messaging/relay';

export const handler = createOutboxRelay('payment');
