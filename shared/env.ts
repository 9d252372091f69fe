/**
 * Every environment variable EventFlow reads, in one list: the CDK app sets them on each function
 * (lib/functions.ts), shared/config.ts reads them. Pure data; import nothing heavy here.
 */
import type { ServiceName } from './config';

/** Set on AWS by the CDK app, from the function catalog and the stack's resources. */
export const LAMBDA_ENV = {
  /** The catalog id of the function. */
  functionId: 'EVENTFLOW_FUNCTION',
  /**
   * What the function reaches, as JSON (the catalog's `uses`, written by the CDK app): hence what
   * must be configured, and what it may read.
   */
  functionUses: 'EVENTFLOW_FUNCTION_USES',
  /** The catalog service: Powertools' service name (log lines, traces, the `service` metric dimension). */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  logLevel: 'LOG_LEVEL',
  currency: 'EVENTFLOW_CURRENCY',
  /** The environment's partitions per service queue ("order=2,payment=2,…"), on every function that uses the broker. */
  partitions: 'PARTITIONS',
  /** PostgreSQL connections per pool (one pool per service database a function uses). */
  dbPoolMax: 'DB_POOL_MAX',
  /** "true": TLS to PostgreSQL, certificate verified (RDS, RDS Proxy). */
  databaseTls: 'DATABASE_TLS',
  /**
   * "true": parameterized statements become named prepared statements, parsed once per connection
   * (shared/db/prepared-statements.ts); "false" behind RDS Proxy, which pins a session that prepares.
   * Optional off Lambda, where it defaults to "true".
   */
  dbPreparedStatements: 'DB_PREPARED_STATEMENTS',
  dbSecretArn: {
    order: 'ORDER_DB_SECRET_ARN',
    payment: 'PAYMENT_DB_SECRET_ARN',
    inventory: 'INVENTORY_DB_SECRET_ARN',
  } satisfies Record<ServiceName, string>,
  /** host[:port] that replaces the secret's host (an RDS Proxy endpoint); absent: the instance itself. */
  dbHost: {
    order: 'ORDER_DB_HOST',
    payment: 'PAYMENT_DB_HOST',
    inventory: 'INVENTORY_DB_HOST',
  } satisfies Record<ServiceName, string>,
  /** Secrets Manager JSON {username, password} of the broker user. */
  rabbitmqSecretArn: 'RABBITMQ_SECRET_ARN',
  /**
   * The broker users the deploy-time topology function creates, as JSON {role: secret ARN} (each
   * secret JSON {username, password}); their names and permissions come from functions/identities.ts.
   */
  rabbitmqUserSecrets: 'RABBITMQ_USER_SECRETS',
  /** amqps://host:5671 */
  rabbitmqEndpoint: 'RABBITMQ_ENDPOINT',
  /** https://host of the broker's management API (its console endpoint); credentials are the AMQP ones. */
  rabbitmqManagementEndpoint: 'RABBITMQ_MANAGEMENT_ENDPOINT',
  /** rediss://host:port */
  redisUrl: 'REDIS_URL',
  redisCluster: 'REDIS_CLUSTER',
  /** Secrets Manager JSON {username, password} of the cache's RBAC user. */
  redisSecretArn: 'REDIS_SECRET_ARN',
  /** https://… of the WebSocket stage's connection management API. */
  websocketCallbackUrl: 'WEBSOCKET_CALLBACK_URL',
  /** Where the migrate function's bundle keeps the .sql files. */
  migrationsRoot: 'MIGRATIONS_ROOT',
  /** "Name=id,…" of the event source mappings the watch function checks. */
  eventSourceMappings: 'EVENTFLOW_EVENT_SOURCE_MAPPINGS',
  /** The OpenID Connect issuer whose access tokens open the APIs (a Cognito user pool's, or the local issuer's). */
  authIssuer: 'AUTH_ISSUER',
  /** The app client id tokens must be issued for (`aud` or, in Cognito access tokens, `client_id`). */
  authAudience: 'AUTH_AUDIENCE',
  /** The issuer's JWKS, where discovery should not be used; optional. */
  authJwksUrl: 'AUTH_JWKS_URL',
  /** The S3 bucket older months of the event logs are exported to before they are dropped. */
  eventLogArchiveBucket: 'EVENT_LOG_ARCHIVE_BUCKET',
} as const;

/**
 * Read only off Lambda (the local runtime, tests and tools), each with a localhost default.
 * REDIS_URL is read in both places: there is nothing to resolve about it.
 */
export const LOCAL_ENV = {
  namespace: 'EVENTFLOW_NAMESPACE',
  databaseUrl: 'DATABASE_URL',
  serviceDatabaseUrl: {
    order: 'ORDER_DATABASE_URL',
    payment: 'PAYMENT_DATABASE_URL',
    inventory: 'INVENTORY_DATABASE_URL',
  } satisfies Record<ServiceName, string>,
  rabbitmqUrl: 'RABBITMQ_URL',
  /** The management API with credentials (http://guest:guest@127.0.0.1:15672); absent: rabbitmqctl. */
  rabbitmqManagementUrl: 'RABBITMQ_MANAGEMENT_URL',
  orderDeadlineSeconds: 'ORDER_DEADLINE_SECONDS',
  /** Partition counts overriding the dev preset's (see deploymentLayout in functions/topology.ts); on Lambda the CDK app sets it. */
  partitions: 'PARTITIONS',
  /** A folder every local environment writes its V8 heap figures to (local/heap-report.ts; the soak sets it). */
  heapReportDir: 'EVENTFLOW_HEAP_REPORT_DIR',
  /** A file the local runtime keeps its invocation counts in, per function (local/invocation-report.ts; the bench sets it). */
  invocationReport: 'EVENTFLOW_INVOCATION_REPORT',
  /** Who runs an operator tool, as its audit entries name them (shared/audit/actor.ts); else the machine account. */
  operator: 'EVENTFLOW_OPERATOR',
  /** A folder older months of the event logs are exported to locally (absent: kept in the database). */
  eventLogArchiveDir: 'EVENT_LOG_ARCHIVE_DIR',
  /** "off": the local gateway does not play API Gateway's per-route throttling (local/route-throttle.ts). */
  routeThrottling: 'LOCAL_ROUTE_THROTTLING',
  /** "<function>=<seconds>,…": those environments' clocks run that far ahead (local/clock-skew.ts; the fault run). */
  clockSkew: 'LOCAL_CLOCK_SKEW',
} as const;

/**
 * Rate limits of the HTTP API per principal (shared/http/rate-limits.ts), read on Lambda and
 * locally alike; each has a default.
 */
export const RATE_LIMIT_ENV = {
  requestsPerSecond: 'RATE_LIMIT_PER_SECOND',
  requestsBurst: 'RATE_LIMIT_BURST',
  ordersPerSecond: 'ORDER_RATE_LIMIT_PER_SECOND',
  ordersBurst: 'ORDER_RATE_LIMIT_BURST',
} as const;

/**
 * How long the working sets are kept (shared/messaging/retention.ts), read on Lambda and locally
 * alike; each has a default (docs/decisions.md, "Retention").
 */
export const RETENTION_ENV = {
  /** Days an inbox keeps an event id: as long as a copy of that event can still arrive. */
  inboxDays: 'INBOX_RETENTION_DAYS',
  /** Hours an Idempotency-Key of POST /orders answers as its first use. */
  idempotencyKeyHours: 'IDEMPOTENCY_KEY_RETENTION_HOURS',
  /** Whole months of the event log kept in the database before the current one; older ones are exported, then dropped. */
  eventLogKeepMonths: 'EVENT_LOG_KEEP_MONTHS',
} as const;

/** What a function reaches; the catalog's `uses`. */
export interface Uses {
  databases: readonly ServiceName[];
  broker: boolean;
  /** The broker's management HTTP API (policies, queue statistics). */
  brokerManagement?: boolean;
  /** Creates the broker's users and sets their permissions (the deploy-time topology function). */
  brokerUsers?: boolean;
  redis: boolean;
  websocketCallback?: boolean;
  /** Reads the state of the queue consumers' event source mappings (Lambda API). */
  eventSources?: boolean;
  /** Verifies access tokens itself (the WebSocket authorizer); HTTP routes are verified by API Gateway. */
  auth?: boolean;
  /** Exports older months of its event log to the archive bucket (the pruners). */
  archive?: boolean;
}

const SERVICE_NAMES: readonly string[] = ['order', 'payment', 'inventory'] satisfies ServiceName[];
const USES_FLAGS = ['broker', 'brokerManagement', 'brokerUsers', 'redis', 'websocketCallback', 'eventSources', 'auth', 'archive'] as const;

/** `uses` as the CDK app writes it into EVENTFLOW_FUNCTION_USES. */
export const encodeUses = (uses: Uses): string => JSON.stringify(uses);

/** EVENTFLOW_FUNCTION_USES read back; anything else than what encodeUses writes throws, naming what is wrong. */
export function decodeUses(raw: string): Uses {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error(`${LAMBDA_ENV.functionUses} is not JSON`);
  }
  const v = value as Record<string, unknown>;
  if (!v || typeof v !== 'object' || !Array.isArray(v.databases) || !v.databases.every((d) => SERVICE_NAMES.includes(d as string))) {
    throw new Error(`${LAMBDA_ENV.functionUses} must name its databases among ${SERVICE_NAMES.join(', ')}`);
  }
  for (const key of Object.keys(v)) {
    if (key !== 'databases' && !(USES_FLAGS as readonly string[]).includes(key)) throw new Error(`${LAMBDA_ENV.functionUses}: unknown member ${key}`);
    if (key !== 'databases' && typeof v[key] !== 'boolean') throw new Error(`${LAMBDA_ENV.functionUses}: ${key} must be true or false`);
  }
  return { broker: false, redis: false, ...(v as object), databases: v.databases as ServiceName[] } as Uses;
}

/** The variables a function with these `uses` cannot run without on Lambda. */
export function requiredOnLambda(uses: Uses): string[] {
  const e = LAMBDA_ENV;
  return [
    e.functionId,
    e.functionUses,
    ...(uses.databases.length > 0 ? [e.databaseTls, e.dbPoolMax, e.dbPreparedStatements] : []),
    ...uses.databases.map((s) => e.dbSecretArn[s]),
    ...(uses.broker || uses.brokerManagement ? [e.rabbitmqSecretArn, e.rabbitmqEndpoint, e.partitions] : []),
    ...(uses.brokerManagement ? [e.rabbitmqManagementEndpoint] : []),
    ...(uses.brokerUsers ? [e.rabbitmqUserSecrets] : []),
    ...(uses.redis ? [e.redisUrl, e.redisCluster, e.redisSecretArn] : []),
    ...(uses.websocketCallback ? [e.websocketCallbackUrl] : []),
    ...(uses.eventSources ? [e.eventSourceMappings] : []),
    ...(uses.auth ? [e.authIssuer, e.authAudience] : []),
    ...(uses.archive ? [e.eventLogArchiveBucket] : []),
  ];
}

/**
 * Running on AWS Lambda: both variables are set by Lambda's managed runtimes. The local runtime
 * sets neither, so its localhost defaults never apply on AWS and AWS's strictness never applies locally.
 */
export function onLambda(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.AWS_LAMBDA_FUNCTION_NAME) && (env.AWS_EXECUTION_ENV ?? '').startsWith('AWS_Lambda_');
}
