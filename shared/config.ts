/**
 * The one place configuration is resolved. On Lambda from the variables the CDK app sets (the list
 * is shared/env.ts) and Secrets Manager, and a missing variable fails the cold start; elsewhere
 * (the local runtime, tests, tools) from the environment with localhost defaults.
 */
import { LAMBDA_ENV, LOCAL_ENV, decodeUses, onLambda, requiredOnLambda } from './env';
import type { Uses } from './env';
import type { BrokerAccess } from './messaging/broker-admin';

export const SERVICES = ['order', 'payment', 'inventory'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface Config {
  /** Prefix that isolates one deployment's queues, exchanges and databases from another's (tests use it). */
  namespace: string;
  databaseUrls: Record<ServiceName, string>;
  /** Whether to speak TLS to PostgreSQL (RDS) and verify its certificate. */
  databaseTls: boolean;
  rabbitmqUrl: string;
  /** The broker's management HTTP API, credentials included; absent locally unless configured. */
  rabbitmqManagementUrl?: string;
  redis: { url: string; cluster: boolean; username?: string; password?: string };
  currency: string;
  dbPoolMax: number;
  /** Whether parameterized statements are sent as named prepared statements (off behind RDS Proxy). */
  dbPreparedStatements: boolean;
  /** How long an order may stay PENDING before the system cancels it and compensates. */
  orderDeadlineSeconds: number;
  /** The broker users to create, by role, with their credentials: only the deploy-time topology function has them. */
  brokerUsers?: Record<string, { username: string; password: string }>;
}

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

/** How broker-admin reaches the broker of this configuration. */
export function brokerAccess(config: Pick<Config, 'rabbitmqUrl' | 'rabbitmqManagementUrl'>): BrokerAccess {
  return { amqpUrl: config.rabbitmqUrl, managementUrl: config.rabbitmqManagementUrl };
}

/** The broker the environment names, for local tools and tests that have no Config at hand. */
export function localBrokerAccess(env: NodeJS.ProcessEnv = process.env): BrokerAccess {
  return { amqpUrl: env[LOCAL_ENV.rabbitmqUrl] ?? DEFAULTS.rabbitmqUrl, managementUrl: env[LOCAL_ENV.rabbitmqManagementUrl] || undefined };
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

function checkNamespace(namespace: string): string {
  if (namespace && !/^[a-z][a-z0-9_]{0,30}$/.test(namespace)) {
    throw new Error(`EVENTFLOW_NAMESPACE must match [a-z][a-z0-9_]{0,30}, got "${namespace}"`);
  }
  return namespace;
}

function positiveInt(name: string, value: string | undefined, fallback?: number): number {
  const n = value === undefined || value === '' ? fallback : Number(value);
  if (n === undefined || !Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${value}"`);
  return n;
}

function flag(name: string, value: string | undefined, fallback?: boolean): boolean {
  if ((value === undefined || value === '') && fallback !== undefined) return fallback;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new Error(`${name} must be "true" or "false", got "${value}"`);
}

/** The function a Lambda environment runs: its catalog id and what it uses (both written by the CDK app from the catalog). */
export interface LambdaFunction {
  id: string;
  uses: Uses;
}

/**
 * The function this Lambda environment runs, with every variable its `uses` needs present.
 * Throws, naming what is missing, so a misconfigured function fails at cold start instead of
 * quietly connecting somewhere else.
 */
export function lambdaFunction(env: NodeJS.ProcessEnv = process.env): LambdaFunction {
  const id = env[LAMBDA_ENV.functionId];
  if (!id) throw new Error(`${LAMBDA_ENV.functionId} is not set: this function's catalog id`);
  const raw = env[LAMBDA_ENV.functionUses];
  if (!raw) throw new Error(`${id} cannot start: ${LAMBDA_ENV.functionUses} not set`);
  const uses = decodeUses(raw);
  const missing = requiredOnLambda(uses).filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`${id} cannot start: ${missing.join(', ')} not set`);
  return { id, uses };
}

/** A property that fails when read: this function was not given access to that dependency. */
function notConfigured<T extends object>(target: T, key: string, what: string, functionId: string): void {
  Object.defineProperty(target, key, {
    enumerable: false,
    get() {
      throw new Error(`${functionId} is not configured for ${what} (the catalog's uses does not name it)`);
    },
  });
}

async function resolveLambdaConfig(env: NodeJS.ProcessEnv): Promise<Config> {
  const spec = lambdaFunction(env);
  const { uses } = spec;
  // Checked before any secret is read: a wrong value fails the cold start, not the first query.
  const dbPreparedStatements = uses.databases.length > 0 && flag(LAMBDA_ENV.dbPreparedStatements, env[LAMBDA_ENV.dbPreparedStatements]);
  const secrets = new Map<string, Promise<SecretJson>>();
  const secret = (arn: string) => {
    let s = secrets.get(arn);
    if (!s) secrets.set(arn, (s = readSecret(arn)));
    return s;
  };
  const need = (name: string) => env[name]!;

  const databaseUrls = {} as Record<ServiceName, string>;
  for (const service of SERVICES) {
    if (!uses.databases.includes(service)) notConfigured(databaseUrls, service, `the ${service} database`, spec.id);
  }
  await Promise.all(
    uses.databases.map(async (service) => {
      const s = await secret(need(LAMBDA_ENV.dbSecretArn[service]));
      // An RDS Proxy endpoint, when the function goes through one; the secret names the instance.
      const host = env[LAMBDA_ENV.dbHost[service]] || `${s.host}:${s.port ?? 5432}`;
      databaseUrls[service] = `postgres://${enc(s.username)}:${enc(s.password)}@${host}/${s.dbname ?? databaseName(service)}`;
    }),
  );

  const config = {
    namespace: checkNamespace(env[LOCAL_ENV.namespace] ?? ''),
    databaseUrls,
    databaseTls: env[LAMBDA_ENV.databaseTls] === 'true',
    currency: env[LAMBDA_ENV.currency] || 'USD',
    dbPoolMax: positiveInt(LAMBDA_ENV.dbPoolMax, env[LAMBDA_ENV.dbPoolMax], 1),
    dbPreparedStatements,
    orderDeadlineSeconds: positiveInt(LOCAL_ENV.orderDeadlineSeconds, env[LOCAL_ENV.orderDeadlineSeconds], 300),
  } as Config;

  if (uses.broker || uses.brokerManagement) {
    const s = await secret(need(LAMBDA_ENV.rabbitmqSecretArn));
    const withUser = (endpoint: string) => {
      const url = new URL(endpoint);
      url.username = enc(s.username);
      url.password = enc(s.password);
      return url.toString();
    };
    config.rabbitmqUrl = withUser(need(LAMBDA_ENV.rabbitmqEndpoint));
    if (uses.brokerManagement) config.rabbitmqManagementUrl = withUser(need(LAMBDA_ENV.rabbitmqManagementEndpoint));
    if (uses.brokerUsers) {
      let arns: Record<string, string>;
      try {
        arns = JSON.parse(need(LAMBDA_ENV.rabbitmqUserSecrets)) as Record<string, string>;
      } catch {
        throw new Error(`${spec.id} cannot start: ${LAMBDA_ENV.rabbitmqUserSecrets} is not JSON {role: secret ARN}`);
      }
      const users = await Promise.all(Object.entries(arns).map(async ([role, arn]) => [role, await secret(arn)] as const));
      config.brokerUsers = Object.fromEntries(users.map(([role, s]) => [role, { username: s.username, password: s.password }]));
    }
  } else {
    notConfigured(config, 'rabbitmqUrl', 'the broker', spec.id);
  }

  if (uses.redis) {
    const s = await secret(need(LAMBDA_ENV.redisSecretArn));
    config.redis = { url: need(LAMBDA_ENV.redisUrl), cluster: env[LAMBDA_ENV.redisCluster] === 'true', username: s.username, password: s.password };
  } else {
    notConfigured(config, 'redis', 'Redis', spec.id);
  }
  return config;
}

function resolveLocalConfig(env: NodeJS.ProcessEnv): Config {
  const namespace = checkNamespace(env[LOCAL_ENV.namespace] ?? '');
  const databaseUrl = (service: ServiceName) =>
    env[LOCAL_ENV.serviceDatabaseUrl[service]] ||
    withDatabase(env[LOCAL_ENV.databaseUrl] ?? DEFAULTS.databaseServerUrl, databaseName(service, namespace));
  const config: Config = {
    namespace,
    databaseUrls: { order: databaseUrl('order'), payment: databaseUrl('payment'), inventory: databaseUrl('inventory') },
    databaseTls: env[LAMBDA_ENV.databaseTls] === 'true',
    rabbitmqUrl: env[LOCAL_ENV.rabbitmqUrl] ?? DEFAULTS.rabbitmqUrl,
    rabbitmqManagementUrl: env[LOCAL_ENV.rabbitmqManagementUrl] || undefined,
    redis: { url: env[LAMBDA_ENV.redisUrl] ?? DEFAULTS.redisUrl, cluster: env[LAMBDA_ENV.redisCluster] === 'true' },
    currency: env[LAMBDA_ENV.currency] ?? 'USD',
    // Locally one process hosts every function; on Lambda each environment has its own pool.
    dbPoolMax: positiveInt(LAMBDA_ENV.dbPoolMax, env[LAMBDA_ENV.dbPoolMax], 8),
    // Locally PostgreSQL is always reached directly: nothing multiplexes sessions.
    dbPreparedStatements: flag(LAMBDA_ENV.dbPreparedStatements, env[LAMBDA_ENV.dbPreparedStatements], true),
    orderDeadlineSeconds: positiveInt(LOCAL_ENV.orderDeadlineSeconds, env[LOCAL_ENV.orderDeadlineSeconds], 300),
  };
  // A local function environment is told what its function uses (local/identities/environment.ts):
  // what it does not use, it may not reach, as on Lambda, rather than falling back to the defaults.
  const raw = env[LAMBDA_ENV.functionUses];
  if (raw) {
    const uses = decodeUses(raw);
    const id = env.AWS_LAMBDA_FUNCTION_NAME || 'this function';
    for (const service of SERVICES) {
      if (!uses.databases.includes(service)) notConfigured(config.databaseUrls, service, `the ${service} database`, id);
    }
    if (!uses.broker && !uses.brokerManagement) notConfigured(config, 'rabbitmqUrl', 'the broker', id);
    if (!uses.redis) notConfigured(config, 'redis', 'Redis', id);
  }
  return config;
}

export async function resolveConfig(env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  return onLambda(env) ? resolveLambdaConfig(env) : resolveLocalConfig(env);
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
