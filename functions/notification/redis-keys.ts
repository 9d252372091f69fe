/**
 * The notification service's Redis keys, within a namespace (tests run in their own). One hash tag
 * per namespace puts them all in one cluster slot, so ElastiCache Serverless (cluster mode) accepts
 * MULTI across them.
 */
export function notificationKeys(namespace: string) {
  const prefix = `notification:{${namespace || 'eventflow'}}`;
  return {
    /** A pattern matching every one of these keys (for Redis ACLs and clean-up). */
    all: `${prefix}:*`,
    /** Hash: connection id → epoch ms after which the connection cannot be alive (API Gateway's 2 h limit). */
    connections: `${prefix}:connections`,
    /** Set of the order ids a connection subscribed to. */
    subscriptions: (connectionId: string) => `${prefix}:subscriptions:${connectionId}`,
    /** Stream of recent events, in publication order, for clients that resume. */
    recentEvents: `${prefix}:recent-events`,
    /** A rebuild's shadow of that stream and the event ids it holds (functions/notification/history.ts). */
    recentEventsRebuild: `${prefix}:recent-events:rebuild`,
    recentEventsRebuildIds: `${prefix}:recent-events:rebuild-ids`,
    /** String: the customer who placed an order (from its order.created), so its events reach that customer only. */
    orderOwner: (orderId: string) => `${prefix}:order-owner:${orderId}`,
    /** List of an order's recent events, in publication order, for clients that subscribe to it. */
    orderEvents: (orderId: string) => `${prefix}:order-events:${orderId}`,
  };
}
