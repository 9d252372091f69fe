/**
 * What each catalog function does per order or per month, and how long an invocation takes: the
 * cost model's only knowledge of the functions beyond the catalog (memory, trigger, partitions).
 * Every function of functions/catalog.ts has an entry (test/unit/cost.test.ts fails otherwise).
 *
 * Durations, where measured, come from BENCHMARKS.md (this machine: 2.6 GHz EPYC, local runtime):
 * - HTTP: 30 ms, the POST /orders p50 offered 100 orders/s ("Results", open loop).
 * - Consumers: a batch costs a fixed part (a handful of statements and a publish with its confirm
 *   per batch, 1–5 ms each: 15 ms) plus CPU per event, from "What a deployment needs for 10,000
 *   orders/s": payment 34–47 ms and inventory 27–35 ms per 100 events, order 9–11 ms and
 *   notification 7 ms per 100, each stretched 3.4× at 512 MB (about 0.29 vCPU; the notification
 *   consumer has 1,769 MB, one vCPU).
 * Not measured, and said so in the output: the schedules' sweeps (100 ms each, a query that
 * usually finds nothing) and the WebSocket functions (30 ms, as an HTTP request).
 */
export type FunctionUsage =
  /** Invoked per HTTP request: so many per order, plus so many a month regardless of orders. */
  | { kind: 'requests'; perOrder: number; perMonth: number; ms: number; measured: boolean }
  /** A queue consumer: one invocation per batch; a batch takes fixedMs + perEventMs per event. */
  | { kind: 'batches'; eventsPerOrder: number; fixedMs: number; perEventMs: number }
  /** Run by its schedule (the catalog says how often). */
  | { kind: 'schedule'; ms: number }
  /** Run by CloudFormation at deploy time only: no monthly cost. */
  | { kind: 'deploy' };

const SCALE_512 = 3.4;
const BATCH_FIXED_MS = 15;

export const FUNCTION_USAGE: Record<string, FunctionUsage> = {
  'health-api': { kind: 'requests', perOrder: 0, perMonth: 0, ms: 30, measured: false },
  // POST /orders, then the order's page reads it once.
  'order-api': { kind: 'requests', perOrder: 2, perMonth: 0, ms: 30, measured: true },
  // The catalog page before an order.
  'inventory-api': { kind: 'requests', perOrder: 1, perMonth: 0, ms: 30, measured: false },
  'payment-api': { kind: 'requests', perOrder: 0, perMonth: 0, ms: 30, measured: false },
  // An operator's Queues page polls every 5 s: one open eight hours a day, 22 days a month.
  'operations-api': { kind: 'requests', perOrder: 0, perMonth: 8 * 22 * 720, ms: 30, measured: false },
  // Events per order (BENCHMARKS.md "Deliveries per order"): three order events, one each for payment and inventory, 5.3 notifications.
  'order-consumer': { kind: 'batches', eventsPerOrder: 3, fixedMs: BATCH_FIXED_MS, perEventMs: 0.1 * SCALE_512 },
  'payment-consumer': { kind: 'batches', eventsPerOrder: 1, fixedMs: BATCH_FIXED_MS, perEventMs: 0.405 * SCALE_512 },
  'inventory-consumer': { kind: 'batches', eventsPerOrder: 1, fixedMs: BATCH_FIXED_MS, perEventMs: 0.31 * SCALE_512 },
  'notification-consumer': { kind: 'batches', eventsPerOrder: 5.3, fixedMs: BATCH_FIXED_MS, perEventMs: 0.07 },
  'order-outbox-relay': { kind: 'schedule', ms: 100 },
  'payment-outbox-relay': { kind: 'schedule', ms: 100 },
  'inventory-outbox-relay': { kind: 'schedule', ms: 100 },
  'order-history': { kind: 'schedule', ms: 100 },
  'notification-history': { kind: 'schedule', ms: 100 },
  'platform-replay': { kind: 'schedule', ms: 100 },
  'platform-pruner': { kind: 'schedule', ms: 100 },
  'payment-reconciler': { kind: 'schedule', ms: 100 },
  'order-deadlines': { kind: 'schedule', ms: 100 },
  'order-metrics': { kind: 'schedule', ms: 100 },
  'platform-watch': { kind: 'schedule', ms: 100 },
  // $connect, a subscribe message and $disconnect per dashboard session; sessions are counted per month.
  'notification-websocket': { kind: 'requests', perOrder: 1, perMonth: 0, ms: 30, measured: false },
  'notification-authorizer': { kind: 'requests', perOrder: 0, perMonth: 0, ms: 30, measured: false },
  'platform-migrate': { kind: 'deploy' },
  'platform-topology': { kind: 'deploy' },
};
