import { Cluster, Redis } from 'ioredis';
import { getConfig } from './config';

export type RedisClient = Redis | Cluster;

let client: Promise<RedisClient> | undefined;

/**
 * One Redis connection per process. Locally a plain client; on AWS (ElastiCache Serverless) a
 * cluster client over TLS, with dnsLookup at the top level so TLS host checks pass.
 */
export function getRedis(): Promise<RedisClient> {
  client ??= getConfig().then(({ redis }) => {
    // On AWS the cache's RBAC user; locally the URL may carry credentials itself.
    const common = {
      maxRetriesPerRequest: 2,
      enableAutoPipelining: true,
      connectTimeout: 3_000,
      // The ready check sends INFO, which none of EventFlow's Redis users may run
      // (functions/identities.ts); refused, ioredis warns on every connection. A command that meets
      // a server still loading its data fails and is retried like any other (maxRetriesPerRequest).
      enableReadyCheck: false,
      ...(redis.username ? { username: redis.username, password: redis.password } : {}),
    };
    let c: RedisClient;
    if (!redis.cluster) {
      c = new Redis(redis.url, common);
    } else {
      const url = new URL(redis.url);
      c = new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], {
        dnsLookup: (address, callback) => callback(null, address),
        redisOptions: { ...common, tls: url.protocol === 'rediss:' ? {} : undefined },
      });
    }
    // ioredis reconnects by itself; a command sent meanwhile fails with an error its caller sees.
    // Without a listener, the connection errors it also emits would end the process.
    c.on('error', () => undefined);
    return c;
  });
  return client;
}

export async function closeRedis(): Promise<void> {
  const current = client;
  client = undefined;
  if (current) (await current).disconnect();
}
