/**
 * Who may do what (functions/identities.ts), checked against every name the topology declares:
 * each broker user's regular expressions reach exactly the exchanges and queues of its work; each
 * Redis user's key patterns exactly its use's keys; the catalog names an identity for everything a
 * function uses; and the pure rules around them (the sender of an event, the sender of a parked
 * message, the words of a refusal, the local credentials).
 */
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/catalog';
import { NOTHING, brokerUsers, databaseRoleOf, redisAccessString, redisUsers } from '../../functions/identities';
import type { BrokerUserRole } from '../../functions/identities';
import { notificationKeys } from '../../functions/notification/redis-keys';
import { resolveTopology, uniformLayout } from '../../functions/topology';
import { resolveConfig } from '../../shared/config';
import { createEvent } from '../../shared/events/envelope';
import { rateLimitKey } from '../../shared/http/rate-limits';
import { originalSender } from '../../shared/messaging/dlq';
import { BrokerLoginRefused, BrokerRefusal, brokerUserName, explainBrokerRefusal } from '../../shared/messaging/identity';
import { senderProblem } from '../../shared/messaging/sender';
import { isTransient } from '../../shared/messaging/errors';
import { localPassword, redisPasswordHash, scramVerifier } from '../../local/identities/credentials';
import { functionEnvironment } from '../../local/identities/environment';

const ns = 'ns1';
// Two layouts: permissions must not depend on how many partitions a queue has.
const topologies = [resolveTopology(ns, uniformLayout(2)), resolveTopology(ns, { order: 4, payment: 8, inventory: 1, notification: 1 })];
const exchanges = [...new Set(topologies.flatMap((t) => t.exchanges.map((e) => e.name))), 'amq.default', 'amq.topic', 'other.order_exchange'];
const queues = [...new Set(topologies.flatMap((t) => t.queues.map((q) => q.name))), 'other.order_queue', 'ns1.order_queue.extra'];
const user = (role: BrokerUserRole) => brokerUsers(ns).find((u) => u.role === role)!;
const matching = (pattern: string, names: string[]) => names.filter((n) => new RegExp(pattern).test(n)).sort();

describe('broker users', () => {
  it('configure nothing, whoever they are', () => {
    for (const u of brokerUsers(ns)) {
      expect(u.permissions.configure, u.role).toBe(NOTHING);
      expect(matching(u.permissions.configure, [...exchanges, ...queues]), u.role).toEqual([]);
    }
  });

  it("let a service write only to its own exchange and its queue's parking exchange, and read nothing", () => {
    expect(matching(user('payment').permissions.write, exchanges)).toEqual(['ns1.payment_exchange', 'ns1.payment_queue.park']);
    expect(matching(user('order').permissions.write, exchanges)).toEqual(['ns1.order_exchange', 'ns1.order_queue.park']);
    expect(matching(user('inventory').permissions.write, exchanges)).toEqual(['ns1.inventory_exchange', 'ns1.inventory_queue.park']);
    // The notification service publishes nothing: it only parks what its queue cannot take.
    expect(matching(user('notification').permissions.write, exchanges)).toEqual(['ns1.notification_queue.park']);
    for (const role of ['order', 'payment', 'inventory', 'notification'] as const) expect(matching(user(role).permissions.read, queues), role).toEqual([]);
  });

  it("let an event source user read its own queue's partitions, of any layout, and nothing else", () => {
    // One layout splits inventory in two, the other not at all; payment in two and in eight.
    expect(matching(user('inventory-source').permissions.read, queues)).toEqual(['ns1.inventory_queue', 'ns1.inventory_queue.p0', 'ns1.inventory_queue.p1']);
    expect(matching(user('payment-source').permissions.read, queues)).toEqual(Array.from({ length: 8 }, (_, i) => `ns1.payment_queue.p${i}`));
    expect(matching(user('payment-source').permissions.read, ['ns1.payment_queue.dlq', 'ns1.order_queue.p0', 'ns1.payment_queue.p0x'])).toEqual([]);
    expect(matching(user('payment-source').permissions.write, exchanges)).toEqual([]);
  });

  it('let the DLQ tools read the DLQs and the service queues, and write only to the redrive exchanges, as any sender', () => {
    const operator = user('operator');
    expect(matching(operator.permissions.read, queues)).toEqual(queues.filter((q) => q.startsWith('ns1.') && q !== 'ns1.order_queue.extra').sort());
    expect(matching(operator.permissions.write, exchanges)).toEqual(['ns1.inventory_queue.redrive', 'ns1.notification_queue.redrive', 'ns1.order_queue.redrive', 'ns1.payment_queue.redrive']);
    expect(operator.tags).toEqual(['impersonator']);
  });

  it('let the monitor do nothing but look', () => {
    const monitor = user('monitor');
    expect([monitor.permissions.write, monitor.permissions.read]).toEqual([NOTHING, NOTHING]);
    expect(monitor.tags).toEqual(['monitoring']);
  });

  it('name users after their namespace, so that namespaces on one broker never share one', () => {
    expect(brokerUsers('').map((u) => u.name)).toContain('eventflow-order');
    expect(brokerUsers(ns).map((u) => u.name)).toContain('eventflow-ns1-order-source');
    for (const u of brokerUsers('')) expect(u.name).toMatch(/^[A-Za-z0-9._-]{2,100}$/); // Amazon MQ's rule
  });
});

describe('the catalog', () => {
  it('names a broker identity for every function that uses the broker, a Redis one for every Redis user, and none otherwise', () => {
    for (const spec of FUNCTIONS) {
      expect(spec.identity.broker !== undefined, spec.id).toBe(spec.uses.broker || Boolean(spec.uses.brokerManagement));
      expect(spec.identity.redis !== undefined, spec.id).toBe(spec.uses.redis);
    }
    // Only the deploy-time hook is the administrator.
    expect(FUNCTIONS.filter((f) => f.identity.broker === 'deploy').map((f) => f.id)).toEqual(['platform-topology']);
  });

  it('gives a local function environment its own identities and withholds the administrators', async () => {
    const config = await resolveConfig({ EVENTFLOW_NAMESPACE: ns });
    const consumer = functionEnvironment(FUNCTIONS.find((f) => f.id === 'payment-consumer')!, config);
    expect(new URL(consumer.RABBITMQ_URL!).username).toBe('eventflow-ns1-payment');
    expect(new URL(consumer.PAYMENT_DATABASE_URL!).username).toBe(databaseRoleOf('payment', ns));
    expect([consumer.ORDER_DATABASE_URL, consumer.INVENTORY_DATABASE_URL, consumer.DATABASE_URL, consumer.REDIS_URL, consumer.RABBITMQ_MANAGEMENT_URL]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    const ws = functionEnvironment(FUNCTIONS.find((f) => f.id === 'notification-websocket')!, config);
    expect(new URL(ws.REDIS_URL!).username).toBe('eventflow-ns1-websocket');
    expect(ws.RABBITMQ_URL).toBeUndefined();

    // What such an environment resolves: the databases it does not use are refused, not defaulted.
    const inside = await resolveConfig({ ...consumer, EVENTFLOW_NAMESPACE: ns, AWS_LAMBDA_FUNCTION_NAME: 'payment-consumer' } as NodeJS.ProcessEnv);
    expect(inside.databaseUrls.payment).toBe(consumer.PAYMENT_DATABASE_URL);
    expect(() => inside.databaseUrls.order).toThrow(/payment-consumer is not configured for the order database/);
    expect(() => inside.redis).toThrow(/payment-consumer is not configured for Redis/);
  });
});

/** Redis's glob, as far as these patterns use it (`*` only). */
const glob = (pattern: string, key: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(key);
const reaches = (role: string, key: string) => redisUsers(ns).find((u) => u.role === role)!.keys.some((p) => glob(p, key));

describe('Redis users', () => {
  const n = notificationKeys(ns);
  const limit = rateLimitKey(ns, 'orders', 'sub:someone');

  it('reach only the keys of their use', () => {
    expect(reaches('rate-limits', limit)).toBe(true);
    expect(reaches('rate-limits', n.connections)).toBe(false);
    for (const key of [n.connections, n.subscriptions('c1'), n.recentEvents, n.orderEvents('o1'), n.orderOwner('o1')]) {
      expect(reaches('websocket', key), key).toBe(true);
      expect(reaches('notifications', key), key).toBe(true);
    }
    for (const role of ['websocket', 'notifications']) {
      expect(reaches(role, limit), role).toBe(false);
      expect(reaches(role, notificationKeys('other').connections), role).toBe(false);
    }
    expect(reaches('rate-limits', rateLimitKey('other', 'orders', 'sub:someone'))).toBe(false);
  });

  it('deny every command but their own, with one access string for ElastiCache and the local ACL', () => {
    for (const u of redisUsers(ns)) {
      const rules = redisAccessString(u);
      expect(rules, u.role).toMatch(/^on ~\S+( ~\S+)* -@all( \+\S+)+$/);
      expect(rules, u.role).not.toMatch(/flushall|flushdb|\+@|keys|config|acl|allkeys|~\*/i);
    }
    expect(redisUsers(ns).find((u) => u.role === 'rate-limits')!.commands).toEqual(expect.arrayContaining(['evalsha', 'eval', 'get', 'set', 'time']));
  });
});

describe('the sender of an event', () => {
  const cause = { correlationId: 'c', causationId: null };
  const processed = createEvent('payment.processed', { orderId: crypto.randomUUID(), orderVersion: 1, paymentId: crypto.randomUUID(), amountCents: 1, currency: 'USD' }, cause);

  it('must be the broker user of the service that owns its type', () => {
    expect(senderProblem(processed, 'eventflow-ns1-payment', ns)).toBeNull();
    expect(senderProblem(processed, 'eventflow-ns1-inventory', ns)).toBe('payment.processed was sent by eventflow-ns1-inventory; only eventflow-ns1-payment may publish it');
    expect(senderProblem(processed, 'eventflow-payment', ns)).toMatch(/only eventflow-ns1-payment/); // another namespace's
    expect(senderProblem(processed, undefined, ns)).toMatch(/carries no user-id/);
    expect(senderProblem(processed, 'eventflow-payment', '')).toBeNull();
  });

  it('of a parked message is the broker-validated user-id, or, when its consumer parked it, the sender it recorded', () => {
    const parker = 'eventflow-ns1-inventory';
    // Dead-lettered by the broker: its own user-id, whatever a header claims.
    expect(originalSender({ userId: 'eventflow-ns1-order', headers: { 'x-eventflow-sender': 'eventflow-ns1-payment' } }, parker)).toBe('eventflow-ns1-order');
    // Parked by the queue's consumer: what it read from the delivery.
    expect(originalSender({ userId: parker, headers: { 'x-eventflow-sender': 'eventflow-ns1-order' } }, parker)).toBe('eventflow-ns1-order');
    expect(originalSender({ userId: parker, headers: { 'x-eventflow-sender': '' } }, parker)).toBeUndefined();
    expect(originalSender({ headers: {} }, parker)).toBeUndefined();
  });
});

describe("the broker's refusals, in words", () => {
  it('name the user and what it lacks', () => {
    const write = explainBrokerRefusal(
      new Error(`Channel closed by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - access to exchange 'ns1.order_exchange' in vhost '/' refused for user 'eventflow-ns1-payment'"`),
      'eventflow-ns1-payment',
      'write',
    );
    expect(write).toBeInstanceOf(BrokerRefusal);
    expect(write!.message).toMatch(/^broker user eventflow-ns1-payment lacks the write permission on exchange ns1.order_exchange/);
    expect(isTransient(write)).toBe(false);
    const userId = explainBrokerRefusal(new Error("PRECONDITION_FAILED - user_id property set to 'eventflow-order' but authenticated user was 'eventflow-payment'"), 'eventflow-payment');
    expect(userId!.message).toMatch(/^broker user eventflow-payment may not publish as eventflow-order/);
    const login = explainBrokerRefusal(new Error('Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN."'), 'eventflow-order');
    expect(login).toBeInstanceOf(BrokerLoginRefused);
    expect(login!.message).toMatch(/^broker user eventflow-order was refused at login: wrong password, or the user does not exist/);
    expect(isTransient(login)).toBe(false);
    expect(explainBrokerRefusal(new Error('connect ECONNREFUSED 127.0.0.1:5672'), 'x')).toBeNull();
  });

  it("count a Redis login refused as passing (a restarted local Redis until its users are set again), a missing Redis permission as not", () => {
    expect(isTransient(new Error('WRONGPASS invalid username-password pair or user is disabled.'))).toBe(true);
    expect(isTransient(new Error("NOPERM this user has no permissions to run the 'flushall' command"))).toBe(false);
  });
});

describe('local credentials', () => {
  it('are the same wherever derived, letters and digits, and differ per server and user', () => {
    const a = localPassword('broker', brokerUserName('order', ns));
    expect(a).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(localPassword('broker', brokerUserName('order', ns))).toBe(a);
    expect(localPassword('redis', brokerUserName('order', ns))).not.toBe(a);
    expect(localPassword('broker', brokerUserName('payment', ns))).not.toBe(a);
  });

  it("reach the servers only as hashes: Redis's SHA-256 and PostgreSQL's SCRAM-SHA-256 verifier", () => {
    expect(redisPasswordHash('secret')).toBe('#2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b');
    const verifier = scramVerifier('secret', 'eventflow_ns1_order');
    expect(verifier).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
    expect(scramVerifier('secret', 'eventflow_ns1_order')).toBe(verifier);
    expect(verifier).not.toContain('secret');
  });
});
