/**
 * The one place configuration is resolved: environment variables locally,
 * Secrets Manager on AWS (when a *_SECRET_ARN variable is set).
 */
export const SERVICES = ['order', 'payment', 'inventory'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface Config {
  /** Prefix that isolates one deployment's queues, exchanges and databases from another's (tests use it). */
  namespace: string;
  databaseUrls: Record<ServiceName, string>;
  /** Whether to speak TLS to PostgreSQL (RDS) and verify its certificate. */
  databaseTls: boolean;
  rabbitmqUrl: string;
  redis: { url: string; cluster: boolean };
  currency: string;
  dbPoolMax: number;
  /** How long an order may stay PENDING before the system cancels it and compensates. */
  orderDeadlineSeconds: number;
}

const DB_SECRET_ENV: Record<ServiceName, string> = {
  order: 'ORDER_DB_SECRET_ARN',
  payment: 'PAYMENT_DB_SECRET_ARN',
  inventory: 'INVENTORY_DB_SECRET_ARN',
};
const DB_URL_ENV: Record<ServiceName, string> = {
  order: 'ORDER_DATABASE_URL',
  payment: 'PAYMENT_DATABASE_URL',
  inventory: 'INVENTORY_DATABASE_URL',
};

export const DEFAULTS = {
  databaseServerUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  rabbitmqUrl: 'amqp://guest:guest@127.0.0.1:5672',
  redisUrl: 'redis://127.0.0.1:6379',
};

/** Database name of a service within a namespace: order_db, or t1_order_db. */
export function databaseName(service: ServiceName, namespace = ''): string {
  return namespace ? `${namespace}_${service}_db` : `${service}_db`;
}

/** Broker resource name (queue or exchange) within a namespace. */
export function brokerName(base: string, namespace = ''): string {
  return namespace ? `${namespace}.${base}` : base;
}

export function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

interface SecretJson {
  username: string;
  password: string;
  host?: string;
  port?: number | string;
  dbname?: string;
}

async function readSecret(arn: string): Promise<SecretJson> {
  // Loaded on demand so local runs never touch the AWS SDK.
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: arn }));
  if (!out.SecretString) throw new Error(`secret ${arn} has no string value`);
  return JSON.parse(out.SecretString) as SecretJson;
}

const enc = encodeURIComponent;

async function resolveDatabaseUrl(env: NodeJS.ProcessEnv, service: ServiceName, namespace: string) {
  const arn = env[DB_SECRET_ENV[service]];
  if (arn) {
    const s = await readSecret(arn);
    const db = s.dbname ?? databaseName(service, namespace);
    return `postgres://${enc(s.username)}:${enc(s.password)}@${s.host}:${s.port ?? 5432}/${db}`;
  }
  const explicit = env[DB_URL_ENV[service]];
  if (explicit) return explicit;
  return withDatabase(env.DATABASE_URL ?? DEFAULTS.databaseServerUrl, databaseName(service, namespace));
}

async function resolveRabbitUrl(env: NodeJS.ProcessEnv): Promise<string> {
  const arn = env.RABBITMQ_SECRET_ARN;
  if (arn) {
    const endpoint = env.RABBITMQ_ENDPOINT;
    if (!endpoint) throw new Error('RABBITMQ_ENDPOINT must be set with RABBITMQ_SECRET_ARN');
    const s = await readSecret(arn);
    const url = new URL(endpoint);
    url.username = enc(s.username);
    url.password = enc(s.password);
    return url.toString();
  }
  return env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl;
}

export async function resolveConfig(env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  const namespace = env.EVENTFLOW_NAMESPACE ?? '';
  if (namespace && !/^[a-z][a-z0-9_]{0,30}$/.test(namespace)) {
    throw new Error(`EVENTFLOW_NAMESPACE must match [a-z][a-z0-9_]{0,30}, got "${namespace}"`);
  }
  const [order, payment, inventory, rabbitmqUrl] = await Promise.all([
    resolveDatabaseUrl(env, 'order', namespace),
    resolveDatabaseUrl(env, 'payment', namespace),
    resolveDatabaseUrl(env, 'inventory', namespace),
    resolveRabbitUrl(env),
  ]);
  return {
    namespace,
    databaseUrls: { order, payment, inventory },
    databaseTls: env.DATABASE_TLS === 'true',
    rabbitmqUrl,
    redis: { url: env.REDIS_URL ?? DEFAULTS.redisUrl, cluster: env.REDIS_CLUSTER === 'true' },
    currency: env.EVENTFLOW_CURRENCY ?? 'USD',
    // Locally one process hosts every function; on Lambda each environment has its own pool.
    dbPoolMax: Number(env.DB_POOL_MAX ?? 8),
    orderDeadlineSeconds: Number(env.ORDER_DEADLINE_SECONDS ?? 300),
  };
}

let cached: Promise<Config> | undefined;

/** Configuration for this process, resolved once (a Lambda cold start reads its secrets once). */
export function getConfig(): Promise<Config> {
  cached ??= resolveConfig().catch((err) => {
    cached = undefined;
    throw err;
  });
  return cached;
}
