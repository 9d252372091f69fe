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
      ...(redis.username ? { username: redis.username, password: redis.password } : {}),
    };
    if (!redis.cluster) return new Redis(redis.url, common);
    const url = new URL(redis.url);
    return new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], {
      dnsLookup: (address, callback) => callback(null, address),
      redisOptions: { ...common, tls: url.protocol === 'rediss:' ? {} : undefined },
    });
  });
  return client;
}

export async function closeRedis(): Promise<void> {
  const current = client;
  client = undefined;
  if (current) (await current).disconnect();
}
