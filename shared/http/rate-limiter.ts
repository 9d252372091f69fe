/**
 * The rate limiter: one token bucket per principal and limit, kept in Redis so every Lambda
 * environment counts against the same bucket. Each check is one Lua script on one key (GCRA: the
 * key holds the time the bucket is next empty), so it is atomic, one round trip, and valid on a
 * cluster (ElastiCache Serverless). Time is Redis's own (TIME), so clocks of environments do not
 * matter.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { getConfig } from '../config';
import { getRedis } from '../redis';
import type { RedisClient } from '../redis';
import { trackSilence } from '../silence';
import { HttpProblem } from './problem';
import { bucketOf, principalKey, rateLimitKey, retryAfterSeconds } from './rate-limits';
import type { Limit, RateLimits } from './rate-limits';

// KEYS[1]: the bucket. ARGV[1]: ms between tokens; ARGV[2]: burst.
// Returns {1, 0} when allowed, {0, ms until one token is back} when not.
const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next_tat = tat + interval
local wait = next_tat - burst * interval - now
if wait > 0 then return {0, math.ceil(wait)} end
redis.call('SET', KEYS[1], string.format('%.3f', next_tat), 'PX', math.max(1, math.ceil(next_tat - now)))
return {1, 0}
`;

/**
 * How long a check may take before the request goes on unchecked (see docs/decisions.md): long on
 * a connection still being made (a cold start), short on one that is up.
 */
const CHECK_TIMEOUT_MS = { connecting: 3_500, ready: 1_000 };
/** At most one "not checked" log line per environment this often, so an outage does not flood the logs. */
const LOG_EVERY_MS = 10_000;
/**
 * Once a check found Redis away, requests go on unchecked at once, and at most this often one check
 * runs behind a request, unawaited: its answer says Redis is back. A link that drops packets leaves
 * the client "ready" (nothing tells it otherwise), so without this every request would wait out
 * CHECK_TIMEOUT_MS.ready; with it, only the request that found the outage does.
 */
export const PROBE_EVERY_MS = 1_000;

type LimitedRedis = RedisClient & { eventflowRateLimit(key: string, intervalMs: number, burst: number): Promise<[number, number]> };

const scripted = new WeakSet<RedisClient>();

function withScript(redis: RedisClient): LimitedRedis {
  if (!scripted.has(redis)) {
    // defineCommand sends EVALSHA and falls back to EVAL once after a NOSCRIPT (a failover, a flush).
    redis.defineCommand('eventflowRateLimit', { numberOfKeys: 1, lua: GCRA });
    scripted.add(redis);
  }
  return redis as LimitedRedis;
}

export interface RateLimitedRequest {
  routeKey: string;
  /** The verified subject, when the request carries a token. */
  sub?: string;
  sourceIp?: string;
}

export function createRateLimiter(limits: RateLimits, logger: Logger) {
  let lastLogged = 0;
  const redisAway = trackSilence(PROBE_EVERY_MS);

  async function take(redis: RedisClient, key: string, limit: Limit): Promise<number> {
    const [allowed, waitMs] = await withScript(redis).eventflowRateLimit(key, 1000 / limit.perSecond, limit.burst);
    return allowed === 1 ? 0 : waitMs;
  }

  /** One check within its bound: the wait until a token is back (0: allowed); throws when Redis does not answer in time. */
  async function bounded(key: string, limit: Limit): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const redis = await getRedis();
      const status = redis.status;
      if (status !== 'ready' && status !== 'connecting' && status !== 'connect' && status !== 'wait') {
        throw new Error(`Redis connection is ${status}`);
      }
      const timeoutMs = status === 'ready' ? CHECK_TIMEOUT_MS.ready : CHECK_TIMEOUT_MS.connecting;
      return await Promise.race([
        take(redis, key, limit),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer from Redis within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Throws a 429 problem when the request's principal is over its limit. */
  return async function check(req: RateLimitedRequest): Promise<void> {
    const bucket = bucketOf(req.routeKey);
    const limit = limits[bucket];
    const { namespace } = await getConfig();
    const key = rateLimitKey(namespace, bucket, principalKey(req.sub, req.sourceIp));
    if (redisAway.silent) {
      redisAway.probeIfDue(
        () => bounded(key, limit),
        () => logger.info('rate limits checked again: Redis answers'),
      );
      return;
    }
    let waitMs: number;
    try {
      waitMs = await bounded(key, limit);
    } catch (error) {
      // Fail open: the limit guards capacity, and Redis being away must not take the API with it.
      redisAway.markSilent();
      if (Date.now() - lastLogged > LOG_EVERY_MS) {
        lastLogged = Date.now();
        logger.warn('rate limit not checked: Redis unavailable; requests pass unchecked', { error: error as Error });
      }
      return;
    }
    if (waitMs > 0) {
      const seconds = retryAfterSeconds(waitMs);
      throw new HttpProblem(
        429,
        'Too Many Requests',
        `more than ${limit.perSecond} requests per second (bursts of ${limit.burst}) for ${bucket === 'orders' ? 'POST /orders' : 'this API'}; retry after ${seconds} s`,
        undefined,
        'rate-limited',
        { 'retry-after': String(seconds) },
      );
    }
  };
}
