/**
 * Who may do what: every identity EventFlow's functions and event source mappings use on the
 * broker, Redis and PostgreSQL, and exactly what each may do there. Pure data, derived from the
 * function catalog and the topology; the local runtime creates these identities (local/identities.ts)
 * and the CDK app deploys them (lib/broker.ts, lib/cache.ts, the topology hook), so both run the
 * same rules. README "Security" says the same in words.
 *
 * RabbitMQ checks three permissions per resource, each a regular expression on the names of
 * exchanges and queues: configure (declare, delete), write (publish to an exchange, bind a queue)
 * and read (consume or get from a queue, bind from an exchange); acknowledging a delivery needs
 * none, nor does a passive declaration
 * (https://www.rabbitmq.com/docs/access-control#permissions, "How Permissions Work").
 */
import { brokerName, type ServiceName } from '../shared/config';
import { historyRunKeys } from '../shared/history/redis-runs';
import { rateLimitPrefix } from '../shared/http/rate-limits';
import { brokerUserName } from '../shared/messaging/identity';
import { EXCHANGES, parkExchangeOf, redriveExchangeOf } from '../shared/messaging/topology';
import type { BrokerRole, RedisRole } from './catalog';
import { notificationKeys } from './notification/redis-keys';
import { QUEUES, QUEUE_IDS } from './subscriptions';
import type { QueueId } from './subscriptions';

export type { BrokerRole, RedisRole };

/** The broker users EventFlow creates: the catalog's roles (but the deploy-time administrator) and one per service queue's event source mappings. */
export type BrokerUserRole = Exclude<BrokerRole, 'deploy'> | `${QueueId}-source`;

export interface BrokerPermissions {
  configure: string;
  write: string;
  read: string;
}

export interface BrokerUserSpec {
  role: BrokerUserRole;
  /** Its name on the broker, in the namespace. */
  name: string;
  /** RabbitMQ user tags: `impersonator` lets the DLQ tools send a message back as its original sender; `monitoring` lets the watch read queue and node statistics. */
  tags: string[];
  /** On the default virtual host. */
  permissions: BrokerPermissions;
  /** What it is for, in words (README, logs). */
  purpose: string;
}

/** Nothing: the regular expression that matches no resource name. */
export const NOTHING = '^$';

const escape = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const anyOf = (names: string[]) => (names.length === 1 ? `^${escape(names[0]!)}$` : `^(${names.map(escape).join('|')})$`);
/** A service queue, any of its partitions (of any layout: a queue of an earlier layout can still be drained), and optionally its DLQ. */
const queuePattern = (names: string[], dlq: boolean) => `^(${names.map(escape).join('|')})(\\.p[0-9]+${dlq ? '|\\.dlq' : ''})?$`;

/** The broker user of a role in a namespace. */
export const brokerUserOf = (role: BrokerUserRole, namespace = '') => brokerUserName(role, namespace);

/** The broker user that feeds a service queue's consumer (its event source mappings). */
export const sourceRoleOf = (queue: QueueId): BrokerUserRole => `${queue}-source`;

/**
 * Every broker user and its permissions in a namespace. Nobody but the deploy-time administrator
 * configures anything, so no function can declare, delete or rebind a queue or exchange.
 */
export function brokerUsers(namespace = ''): BrokerUserSpec[] {
  const queue = (id: QueueId) => brokerName(QUEUES[id].name, namespace);
  const services: (ServiceName | 'notification')[] = ['order', 'payment', 'inventory', 'notification'];
  const functionUsers = services.map((service): BrokerUserSpec => {
    // A service publishes its own events (notification publishes none) and parks its queue's poison messages.
    const writes = [...(service === 'notification' ? [] : [brokerName(EXCHANGES[service], namespace)]), parkExchangeOf(queue(service))];
    return {
      role: service,
      name: brokerUserOf(service, namespace),
      tags: [],
      permissions: { configure: NOTHING, write: anyOf(writes), read: NOTHING },
      purpose: service === 'notification' ? 'the notification service: parks what its queue cannot take' : `the ${service} service: publishes its events, parks what its queue cannot take`,
    };
  });
  const sourceUsers = QUEUE_IDS.map(
    (id): BrokerUserSpec => ({
      role: sourceRoleOf(id),
      name: brokerUserOf(sourceRoleOf(id), namespace),
      tags: [],
      // basic.consume needs read on the queue; acks, nacks and basic.qos need nothing.
      permissions: { configure: NOTHING, write: NOTHING, read: queuePattern([queue(id)], false) },
      purpose: `the event source mappings of ${QUEUES[id].name}: consume its partitions`,
    }),
  );
  const all = QUEUE_IDS.map(queue);
  return [
    ...functionUsers,
    ...sourceUsers,
    {
      role: 'operator',
      name: brokerUserOf('operator', namespace),
      tags: ['impersonator'],
      permissions: { configure: NOTHING, write: anyOf(all.map(redriveExchangeOf)), read: queuePattern(all, true) },
      purpose: 'the DLQ tools: read the DLQs and the service queues, send messages back through the queues\' redrive exchanges as their original senders',
    },
    {
      role: 'monitor',
      name: brokerUserOf('monitor', namespace),
      tags: ['monitoring'],
      permissions: { configure: NOTHING, write: NOTHING, read: NOTHING },
      purpose: 'health checks and queue statistics: passive declarations and the management API, nothing else',
    },
  ];
}

export interface RedisUserSpec {
  role: RedisRole;
  name: string;
  /** Key patterns it may touch (`~pattern`). */
  keys: string[];
  /** The only commands it may run (after `-@all`). */
  commands: string[];
  purpose: string;
}

// ioredis's cluster client (ElastiCache Serverless) discovers the slots and checks the cluster's state.
const CLUSTER = ['cluster|slots', 'cluster|info'];
// The rate limiter is one Lua script (EVALSHA, EVAL after a NOSCRIPT) that runs TIME, GET and SET; scripts run as their caller.
const RATE_LIMIT_COMMANDS = ['ping', 'evalsha', 'eval', 'time', 'get', 'set'];

/**
 * Every Redis user and its access in a namespace: a key pattern per use, `-@all` and then only the
 * commands that use runs. The syntax is Redis 6's (`~pattern`, `+command`, `-@category`), which
 * ElastiCache's RBAC access strings take too; Redis 7's read-only key permissions (`%R~`) are not
 * used, so one access string serves both places.
 */
export function redisUsers(namespace = ''): RedisUserSpec[] {
  const n = notificationKeys(namespace);
  const h = historyRunKeys(namespace);
  return [
    {
      role: 'rate-limits',
      name: brokerUserName('rate-limits', namespace),
      keys: [`${rateLimitPrefix(namespace)}*`],
      commands: [...RATE_LIMIT_COMMANDS, ...CLUSTER],
      purpose: 'the HTTP functions: their rate-limit buckets',
    },
    {
      role: 'operations',
      name: brokerUserName('operations', namespace),
      keys: [`${rateLimitPrefix(namespace)}*`, h.all],
      // The rate limiter's, and the run records of the recent-event log's rebuilds and checks (shared/history/redis-runs.ts).
      commands: [...RATE_LIMIT_COMMANDS, 'lpush', 'ltrim', 'lrange', 'del', ...CLUSTER],
      purpose: 'the operators\' HTTP routes: their rate-limit buckets, and requests for a rebuild of the recent-event log',
    },
    {
      role: 'websocket',
      name: brokerUserName('websocket', namespace),
      keys: [n.connections, n.subscriptions('*'), n.recentEvents, n.orderEvents('*'), n.orderOwner('*')],
      // Its own records (connections, subscriptions) and the reads of a catch-up (the event logs, the orders' owners).
      commands: ['ping', 'multi', 'exec', 'hset', 'hget', 'hdel', 'pexpire', 'sadd', 'srem', 'scard', 'smembers', 'del', 'lrange', 'xrevrange', 'mget', ...CLUSTER],
      purpose: 'the WebSocket API: connections and subscriptions, and the event logs it catches clients up from',
    },
    {
      role: 'notifications',
      name: brokerUserName('notifications', namespace),
      keys: [n.all],
      commands: ['ping', 'multi', 'exec', 'xadd', 'expire', 'set', 'rpush', 'ltrim', 'hgetall', 'smembers', 'hdel', 'del', 'mget', ...CLUSTER],
      purpose: 'the notification consumer: appends the event logs and reads who is connected',
    },
    {
      role: 'notification-history',
      name: brokerUserName('notification-history', namespace),
      keys: [n.all, h.all],
      // functions/notification/history.ts: reads the live log, writes a shadow and swaps it in by a
      // script (scripts run their commands as the caller, so those are listed too), fills the
      // owners and the orders' logs that are gone; and keeps its run records.
      commands: [
        'ping', 'multi', 'exec', 'get', 'set', 'del', 'lpush', 'ltrim', 'lrange', 'eval', 'evalsha',
        'xadd', 'xrange', 'xrevrange', 'sadd', 'sismember', 'exists', 'rename', 'expire', 'rpush', ...CLUSTER,
      ],
      purpose: 'the recent-event log\'s rebuilds and checks: rewrites that log from the services\' event logs',
    },
  ];
}

/** A Redis user's access as an ACL rule list / ElastiCache access string (without password). */
export function redisAccessString(user: Pick<RedisUserSpec, 'keys' | 'commands'>): string {
  return ['on', ...user.keys.map((k) => `~${k}`), '-@all', ...user.commands.map((c) => `+${c}`)].join(' ');
}

/** The PostgreSQL role that owns a service's database in a namespace (locally; on AWS each instance's own user). */
export function databaseRoleOf(service: ServiceName, namespace = ''): string {
  return namespace ? `eventflow_${namespace}_${service}` : `eventflow_${service}`;
}
