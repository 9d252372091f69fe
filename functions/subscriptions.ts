/**
 * EventFlow's service queues and what each receives: one consumer function per queue (see the
 * function catalog). Pure data, imported by the catalog; functions/topology.ts turns it into the
 * broker topology.
 */
import type { QueueSpec } from '../shared/messaging/topology';

export const QUEUES = {
  order: {
    name: 'order_queue',
    subscribes: [
      'inventory.reserved',
      'inventory.reservation_failed',
      'inventory.released',
      // Stock moves on every reservation; the order service's catalog copy needs names and prices only.
      'inventory.updated.catalog',
      'payment.initiated',
      'payment.processed',
      'payment.failed',
      'payment.refunded',
    ],
  },
  payment: {
    name: 'payment_queue',
    subscribes: ['order.created', 'order.cancelled', 'inventory.reservation_failed'],
  },
  inventory: {
    name: 'inventory_queue',
    // Of the order's status changes, only shipping moves stock.
    subscribes: ['order.created', 'order.cancelled', 'order.updated.shipped', 'payment.failed'],
  },
  notification: { name: 'notification_queue', subscribes: 'all' },
} as const satisfies Record<string, QueueSpec>;

export type QueueId = keyof typeof QUEUES;
export const QUEUE_IDS = Object.keys(QUEUES) as QueueId[];
