/**
 * The function catalog: every Lambda function of EventFlow, declared once. The local runtime
 * serves and feeds exactly these, and the CDK app deploys exactly these.
 * Import nothing heavy here: the CDK app and every handler read this module.
 */
import type { RouteAccess } from '../shared/auth/access';
import type { ServiceName } from '../shared/config';
import type { Uses } from '../shared/env';
import type { WorkingSet } from '../shared/messaging/retention';
import type { QueueId } from './subscriptions';

export type { RouteAccess };

/** Every HTTP route, as API Gateway route keys. */
export const ROUTES = {
  health: 'GET /health',
  listProducts: 'GET /products',
  getProduct: 'GET /products/{id}',
  createProduct: 'POST /products',
  updateProduct: 'PATCH /products/{id}',
  createOrder: 'POST /orders',
  listOrders: 'GET /orders',
  getOrder: 'GET /orders/{id}',
  getOrderEvents: 'GET /orders/{id}/events',
  cancelOrder: 'DELETE /orders/{id}',
  updateOrder: 'PATCH /orders/{id}',
  listPayments: 'GET /payments',
  orderStats: 'GET /stats/orders',
  listQueues: 'GET /queues',
  listDeadLetters: 'GET /queues/{queue}/dead-letters',
  redriveQueue: 'POST /queues/{queue}/redrive',
  listAudit: 'GET /audit',
  listProjections: 'GET /history/projections',
  rebuildProjection: 'POST /history/projections/{projection}/rebuild',
  listReplays: 'GET /history/replays',
  startReplay: 'POST /history/replays',
} as const;
/** The operator tools run from a machine (npm run …), as their audit entries name what was done. */
export const CLI_COMMANDS = {
  dlqRedrive: 'CLI dlq redrive',
  replayRebuild: 'CLI replay rebuild',
  replayPublish: 'CLI replay publish',
} as const;

/** Who may call each route (see RouteAccess). */
export const ROUTE_ACCESS = {
  [ROUTES.health]: 'public',
  [ROUTES.listProducts]: 'public',
  [ROUTES.getProduct]: 'public',
  [ROUTES.createProduct]: 'operator',
  [ROUTES.updateProduct]: 'operator',
  [ROUTES.createOrder]: 'customer',
  [ROUTES.listOrders]: 'customer',
  [ROUTES.getOrder]: 'customer',
  [ROUTES.getOrderEvents]: 'customer',
  [ROUTES.cancelOrder]: 'customer',
  [ROUTES.updateOrder]: 'operator',
  // The payment service does not know whose payment is whose; a customer sees its order's payment on the order.
  [ROUTES.listPayments]: 'operator',
  [ROUTES.orderStats]: 'operator',
  [ROUTES.listQueues]: 'operator',
  [ROUTES.listDeadLetters]: 'operator',
  [ROUTES.redriveQueue]: 'operator',
  [ROUTES.listAudit]: 'operator',
  [ROUTES.listProjections]: 'operator',
  [ROUTES.rebuildProjection]: 'operator',
  [ROUTES.listReplays]: 'operator',
  [ROUTES.startReplay]: 'operator',
} as const satisfies Record<RouteKey, RouteAccess>;

export const accessOf = (route: RouteKey): RouteAccess => ROUTE_ACCESS[route];

/**
 * The database whose audit trail records an operator action on a service that is not a change in
 * its own database (a redrive of its queue, a replay to it, a rebuild of a projection it keeps
 * elsewhere): its own. The notification service keeps no database; the order service's records
 * its actions. A change inside a service's database is recorded there, in its transaction.
 */
export const AUDIT_HOME: Record<ServiceName | 'notification', ServiceName> = {
  order: 'order',
  payment: 'payment',
  inventory: 'inventory',
  notification: 'order',
};

/** API Gateway's throttling of one route, all callers together: a token bucket of `burst` refilled at `ratePerSecond`. */
export interface RouteThrottle {
  ratePerSecond: number;
  burst: number;
}

/** Every route's budget unless ROUTE_THROTTLES gives it its own (the HTTP API stage's default route settings). */
export const DEFAULT_ROUTE_THROTTLE: RouteThrottle = { ratePerSecond: 200, burst: 400 };

/**
 * Routes with a budget of their own (the stage's route settings; the local gateway plays them).
 * The per-principal limits in Redis (shared/http/rate-limits.ts) run only once a function does;
 * these hold at the edge, before any function runs or any token is checked.
 */
export const ROUTE_THROTTLES: Partial<Record<RouteKey, RouteThrottle>> = {
  // Public and a probe: a few a second are plenty, so nobody can spend the API's budget, or load
  // the databases and the broker (it answers from a short cache besides), through it.
  [ROUTES.health]: { ratePerSecond: 5, burst: 10 },
  // Each order costs a transaction, a reservation and a charge downstream: a budget of its own, so
  // reads cannot starve orders nor orders the reads.
  [ROUTES.createOrder]: { ratePerSecond: 100, burst: 200 },
};

export const throttleOf = (route: RouteKey): RouteThrottle => ROUTE_THROTTLES[route] ?? DEFAULT_ROUTE_THROTTLE;

/** CORS of the HTTP API, for the dashboard served from another origin. */
export const HTTP_API_CORS = {
  allowOrigins: ['*'],
  allowMethods: ['GET', 'POST', 'PATCH', 'DELETE'],
  allowHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-correlation-id'],
  exposeHeaders: ['location', 'x-correlation-id', 'idempotent-replayed'],
  maxAgeSeconds: 600,
};

export type RouteKey = (typeof ROUTES)[keyof typeof ROUTES];

/**
 * State derived from events that can be rebuilt from the event logs (docs/decisions.md). `owner`
 * keeps it (and records its runs); `sources` are the logs it folds; a projection computed on every
 * read has nothing to replace and is only checked.
 */
export interface ProjectionSpec {
  name: string;
  title: string;
  owner: ServiceName | 'notification';
  sources: ServiceName[];
  modes: readonly ('rebuild' | 'check')[];
}

export const PROJECTIONS: ProjectionSpec[] = [
  { name: 'orders', title: 'Orders and their lines (order service)', owner: 'order', sources: ['order'], modes: ['rebuild', 'check'] },
  { name: 'catalog', title: "The order service's copy of the catalog", owner: 'order', sources: ['inventory'], modes: ['rebuild', 'check'] },
  { name: 'overview', title: "The overview's figures (computed from the order log on each read)", owner: 'order', sources: ['order'], modes: ['check'] },
  {
    name: 'recent-events',
    title: "The notification service's recent-event log in Redis (what clients resume from)",
    owner: 'notification',
    sources: ['order', 'payment', 'inventory'],
    modes: ['rebuild', 'check'],
  },
];

/**
 * Each service's working sets: tables whose rows past a window (a retention setting,
 * shared/messaging/retention.ts) are only history and go. Every service's inbox; the order
 * service's Idempotency-Keys; the payment and inventory services' order lock rows.
 */
export const WORKING_SETS: Record<ServiceName, readonly WorkingSet[]> = {
  order: [
    { table: 'inbox', column: 'received_at', window: 'inboxDays' },
    { table: 'idempotency_keys', column: 'created_at', window: 'idempotencyKeyHours' },
  ],
  // An order's lock row (shared/db/locks.ts) outlives its events' inbox window only to be taken again.
  payment: [
    { table: 'inbox', column: 'received_at', window: 'inboxDays' },
    { table: 'order_locks', column: 'locked_at', window: 'inboxDays' },
  ],
  inventory: [
    { table: 'inbox', column: 'received_at', window: 'inboxDays' },
    { table: 'order_locks', column: 'locked_at', window: 'inboxDays' },
  ],
};

export const projectionByName = (name: string): ProjectionSpec | undefined => PROJECTIONS.find((p) => p.name === name);

export type Trigger =
  | { kind: 'http'; routes: RouteKey[] }
  | {
      kind: 'queue';
      queue: QueueId;
      batchSize: number;
      /** Lambda's MaximumBatchingWindowInSeconds; 0 invokes as soon as messages are there. */
      batchWindowSeconds: number;
    }
  | { kind: 'schedule'; everyMinutes: number }
  /**
   * API Gateway WebSocket API routes. With twoWay, what the handler returns for a message route
   * ($default, custom routes) goes back to the client as the route's response; without it API
   * Gateway drops the reply.
   */
  | { kind: 'websocket'; routes: WebSocketRoute[]; twoWay: boolean }
  /**
   * The WebSocket API's Lambda REQUEST authorizer on $connect. The identity source must be present
   * or API Gateway answers 401 without invoking it.
   */
  | { kind: 'websocket-authorizer'; route: '$connect'; identitySource: string[] }
  /** Run by CloudFormation at deploy time (a custom resource), never by traffic. */
  | { kind: 'deploy'; purpose: 'migrations' | 'topology' };

export const WEBSOCKET_ROUTES = ['$connect', '$disconnect', '$default'] as const;
export type WebSocketRoute = (typeof WEBSOCKET_ROUTES)[number];

/**
 * Who a function is to the broker: a service's own user (its events, its queue's parking exchange),
 * the operators' DLQ tools, a read-only monitor, or the deploy-time administrator that alone
 * declares the topology. functions/identities.ts says what each may do.
 */
export type BrokerRole = ServiceName | 'notification' | 'operator' | 'monitor' | 'deploy';
/** Who a function is to Redis: the HTTP functions' rate limits, the WebSocket API's connections, the notification consumer's fan-out. */
export type RedisRole = 'rate-limits' | 'operations' | 'websocket' | 'notifications' | 'notification-history';

export interface FunctionSpec {
  id: string;
  /** Whose code this is (a folder of functions/). */
  service: ServiceName | 'notification' | 'platform';
  /** Source file, relative to the repository root; it exports `handler`. */
  entry: string;
  trigger: Trigger;
  memoryMb: number;
  timeoutSeconds: number;
  /**
   * Database connections each environment's pool may hold. An environment runs one invocation at a
   * time, and a consumer applies its batch in one transaction, so one is enough.
   */
  dbPoolMax: number;
  /**
   * Environments the function may run at once: Lambda reserved concurrency where the databases
   * have no RDS Proxy in front (dev), so a burst cannot exhaust their connections; the local
   * runtime's cap. Undefined leaves it to the account's pool. A queue consumer's concurrency is
   * its queue's partition count instead (a per-environment setting, functions/topology.ts): each
   * event source mapping runs one batch at a time.
   */
  maxConcurrency?: number;
  /** What the function may reach; the CDK app grants exactly this (see shared/env.ts). */
  uses: Uses & { databases: ServiceName[] };
  /**
   * The identities it reaches them as (functions/identities.ts): its broker user, when it uses the
   * broker, and its Redis user, when it uses Redis. A database is reached as its service's own user.
   */
  identity: { broker?: BrokerRole; redis?: RedisRole };
}

const api = (service: FunctionSpec['service'], routes: RouteKey[], databases: ServiceName[]): FunctionSpec => ({
  id: `${service}-api`,
  service,
  entry: `functions/${service}/api.ts`,
  trigger: { kind: 'http', routes },
  memoryMb: 512,
  timeoutSeconds: 10,
  // Within a dev database's connections (one per environment) with room for the rest.
  maxConcurrency: 16,
  dbPoolMax: 1,
  // Redis: the rate limits (shared/http/rate-limiter.ts).
  uses: { databases, broker: true, redis: true },
  identity: { broker: service === 'platform' || service === 'notification' ? 'monitor' : service, redis: 'rate-limits' },
});

const consumer = (service: ServiceName, batchSize: number): FunctionSpec => ({
  id: `${service}-consumer`,
  service,
  entry: `functions/${service}/consumer.ts`,
  trigger: { kind: 'queue', queue: service, batchSize, batchWindowSeconds: 0 },
  memoryMb: 512,
  timeoutSeconds: 60,
  dbPoolMax: 1,
  uses: { databases: [service], broker: true, redis: false },
  identity: { broker: service },
});

const relay = (service: ServiceName): FunctionSpec => ({
  id: `${service}-outbox-relay`,
  service,
  entry: `functions/${service}/relay.ts`,
  trigger: { kind: 'schedule', everyMinutes: 1 },
  memoryMb: 256,
  timeoutSeconds: 50,
  dbPoolMax: 1,
  uses: { databases: [service], broker: true, redis: false },
  identity: { broker: service },
});

export const FUNCTIONS: FunctionSpec[] = [
  {
    ...api('platform', [ROUTES.health], ['order', 'payment', 'inventory']),
    id: 'health-api',
    entry: 'functions/platform/health.ts',
    // A probe, not traffic: a few environments are plenty, and it touches all three databases.
    maxConcurrency: 4,
    // The management API tells it of the broker's resource alarms (functions/platform/health.ts).
    uses: { databases: ['order', 'payment', 'inventory'], broker: true, brokerManagement: true, redis: true },
    // It only looks: a passive check of an exchange needs no permission on the broker, the nodes'
    // alarms only the monitor's `monitoring` tag.
    identity: { broker: 'monitor', redis: 'rate-limits' },
  },
  api('inventory', [ROUTES.listProducts, ROUTES.getProduct, ROUTES.createProduct, ROUTES.updateProduct], ['inventory']),
  api(
    'order',
    [ROUTES.createOrder, ROUTES.listOrders, ROUTES.getOrder, ROUTES.getOrderEvents, ROUTES.cancelOrder, ROUTES.updateOrder, ROUTES.orderStats],
    ['order'],
  ),
  { ...api('payment', [ROUTES.listPayments], ['payment']), maxConcurrency: 8 },
  {
    // Operators' routes (functions/platform/operations.ts): the broker's queues, dead letters and
    // redrive (queues.ts); the audit trail, read from every service database, where redrives are
    // recorded too (audit.ts); the event logs' projections, rebuilds and replays (history.ts), which
    // record runs in the service databases (and Redis) for the workers to take.
    ...api(
      'platform',
      [
        ROUTES.listQueues,
        ROUTES.listDeadLetters,
        ROUTES.redriveQueue,
        ROUTES.listAudit,
        ROUTES.listProjections,
        ROUTES.rebuildProjection,
        ROUTES.listReplays,
        ROUTES.startReplay,
      ],
      ['order', 'payment', 'inventory'],
    ),
    id: 'operations-api',
    entry: 'functions/platform/operations.ts',
    timeoutSeconds: 29,
    identity: { broker: 'operator', redis: 'operations' },
  },
  // How many partitions (one mapping each) a service queue has is the environment's setting
  // (lib/settings.ts, functions/topology.ts), not the function's.
  consumer('order', 100),
  consumer('payment', 100),
  consumer('inventory', 100),
  relay('order'),
  relay('payment'),
  relay('inventory'),
  {
    // Rebuilds and checks of the order service's projections (functions/order/history.ts), requested
    // by POST /history/projections/{projection}/rebuild or npm run replay; a run longer than one
    // invocation goes on from its checkpoint in the next.
    id: 'order-history',
    service: 'order',
    entry: 'functions/order/history.ts',
    trigger: { kind: 'schedule', everyMinutes: 1 },
    memoryMb: 512,
    timeoutSeconds: 600,
    dbPoolMax: 2,
    uses: { databases: ['order', 'inventory'], broker: false, redis: false },
    // Each database as its service's own user; nothing else.
    identity: {},
  },
  {
    // Rebuilds and checks of the notification service's recent-event log in Redis, from the three
    // services' logs (functions/notification/history.ts).
    id: 'notification-history',
    service: 'notification',
    entry: 'functions/notification/history.ts',
    trigger: { kind: 'schedule', everyMinutes: 1 },
    memoryMb: 512,
    timeoutSeconds: 120,
    dbPoolMax: 1,
    uses: { databases: ['order', 'payment', 'inventory'], broker: false, redis: true },
    // Rewrites the recent-event log, which the notification consumer keeps, and records its runs.
    identity: { redis: 'notification-history' },
  },
  {
    // Replays of a service's log to one queue (functions/platform/replay.ts), requested by POST
    // /history/replays or npm run replay.
    id: 'platform-replay',
    service: 'platform',
    entry: 'functions/platform/replay.ts',
    trigger: { kind: 'schedule', everyMinutes: 1 },
    memoryMb: 512,
    timeoutSeconds: 600,
    dbPoolMax: 1,
    uses: { databases: ['order', 'payment', 'inventory'], broker: true, redis: false },
    // Sends events again as their first sender, through the queue's redrive exchange, as the DLQ tools do.
    identity: { broker: 'operator' },
  },
  {
    // The working sets' past (inbox ids, idempotency keys; WORKING_SETS) in bounded batches, and
    // the event logs' months past EVENT_LOG_KEEP_MONTHS exported to the archive bucket, then dropped
    // (functions/platform/pruner.ts). One function for the three databases: each catalog function
    // costs the stack a dozen resources, and this one has little to do every ten minutes.
    id: 'platform-pruner',
    service: 'platform',
    entry: 'functions/platform/pruner.ts',
    trigger: { kind: 'schedule', everyMinutes: 10 },
    memoryMb: 512,
    timeoutSeconds: 300,
    dbPoolMax: 1,
    uses: { databases: ['order', 'payment', 'inventory'], broker: false, redis: false, archive: true },
    // Each database as its service's own user; the archive through its IAM grant.
    identity: {},
  },
  {
    id: 'payment-reconciler',
    service: 'payment',
    entry: 'functions/payment/reconciler.ts',
    trigger: { kind: 'schedule', everyMinutes: 1 },
    memoryMb: 256,
    timeoutSeconds: 50,
    dbPoolMax: 1,
    uses: { databases: ['payment'], broker: true, redis: false },
    identity: { broker: 'payment' },
  },
  {
    id: 'order-deadlines',
    service: 'order',
    entry: 'functions/order/deadlines.ts',
    trigger: { kind: 'schedule', everyMinutes: 1 },
    memoryMb: 256,
    timeoutSeconds: 50,
    dbPoolMax: 1,
    uses: { databases: ['order'], broker: true, redis: false },
    identity: { broker: 'order' },
  },
  {
    // Orders settled per outcome and saga latency, from the order database, as CloudWatch metrics.
    id: 'order-metrics',
    service: 'order',
    entry: 'functions/order/metrics.ts',
    trigger: { kind: 'schedule', everyMinutes: 1 },
    memoryMb: 256,
    timeoutSeconds: 50,
    dbPoolMax: 1,
    uses: { databases: ['order'], broker: false, redis: false },
    identity: {},
  },
  {
    id: 'notification-websocket',
    service: 'notification',
    entry: 'functions/notification/websocket.ts',
    // $default answers pong, subscribed, resumed…: the client must get the reply.
    trigger: { kind: 'websocket', routes: [...WEBSOCKET_ROUTES], twoWay: true },
    memoryMb: 256,
    timeoutSeconds: 10,
    dbPoolMax: 1,
    uses: { databases: [], broker: false, redis: true, websocketCallback: true },
    identity: { redis: 'websocket' },
  },
  {
    id: 'notification-authorizer',
    service: 'notification',
    entry: 'functions/notification/authorizer.ts',
    // Browsers cannot set headers on a WebSocket: the access token comes as ?token=.
    trigger: { kind: 'websocket-authorizer', route: '$connect', identitySource: ['route.request.querystring.token'] },
    memoryMb: 256,
    timeoutSeconds: 10,
    dbPoolMax: 1,
    uses: { databases: [], broker: false, redis: false, auth: true },
    identity: {},
  },
  {
    id: 'notification-consumer',
    service: 'notification',
    entry: 'functions/notification/consumer.ts',
    trigger: { kind: 'queue', queue: 'notification', batchSize: 100, batchWindowSeconds: 0 },
    // A full vCPU: pushing one batch to many connections is CPU-bound in the SDK client.
    memoryMb: 1769,
    timeoutSeconds: 60,
    dbPoolMax: 1,
    uses: { databases: [], broker: true, redis: true, websocketCallback: true },
    identity: { broker: 'notification', redis: 'notifications' },
  },
  {
    id: 'platform-migrate',
    service: 'platform',
    entry: 'functions/platform/migrate.ts',
    trigger: { kind: 'deploy', purpose: 'migrations' },
    memoryMb: 256,
    timeoutSeconds: 300,
    dbPoolMax: 1,
    uses: { databases: ['order', 'payment', 'inventory'], broker: false, redis: false },
    identity: {},
  },
  {
    id: 'platform-topology',
    service: 'platform',
    entry: 'functions/platform/topology.ts',
    trigger: { kind: 'deploy', purpose: 'topology' },
    memoryMb: 256,
    timeoutSeconds: 120,
    dbPoolMax: 1,
    // Policies (delivery limit, dead-lettering) and the broker's users go through the management API.
    uses: { databases: [], broker: true, brokerManagement: true, brokerUsers: true, redis: false },
    identity: { broker: 'deploy' },
  },
  {
    // Queue depths and consumers (Amazon MQ for RabbitMQ 4 publishes no per-queue metrics) and
    // the state of the event source mappings, as CloudWatch metrics for the alarms.
    id: 'platform-watch',
    service: 'platform',
    entry: 'functions/platform/watch.ts',
    trigger: { kind: 'schedule', everyMinutes: 1 },
    memoryMb: 256,
    timeoutSeconds: 50,
    dbPoolMax: 1,
    uses: { databases: [], broker: true, brokerManagement: true, redis: false, eventSources: true },
    // Queue statistics and node memory through the management API: the monitoring tag, no permission.
    identity: { broker: 'monitor' },
  },
];

export function functionById(id: string): FunctionSpec {
  const spec = FUNCTIONS.find((f) => f.id === id);
  if (!spec) throw new Error(`no function ${id} in the catalog`);
  return spec;
}
