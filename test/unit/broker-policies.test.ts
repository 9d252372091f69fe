import { describe, expect, it } from 'vitest';
import { brokerAdmin } from '../../shared/messaging/broker-admin';
import { brokerPolicies, parseBrokerVersion, policyPrefix } from '../../shared/messaging/policies';
import { DELIVERY_LIMIT, dlqOf } from '../../shared/messaging/topology';
import { partitionQueues, resolveTopology, uniformLayout } from '../../functions/topology';

const v310 = parseBrokerVersion('3.10.8');
const v42 = parseBrokerVersion('4.2.1');
const policiesOf = (namespace: string, version = v42) => brokerPolicies(resolveTopology(namespace), namespace, version);

describe('broker policies', () => {
  it('reads versions as the AMQP server properties and Amazon MQ give them', () => {
    expect(parseBrokerVersion('3.10.8')).toEqual({ major: 3, minor: 10, patch: 8 });
    expect(parseBrokerVersion('4.2')).toEqual({ major: 4, minor: 2, patch: 0 });
    expect(() => parseBrokerVersion('')).toThrow(/RabbitMQ version/);
  });

  it('gives every work queue its delivery limit and at-least-once dead-lettering into its own DLQ', () => {
    const topology = resolveTopology('t1');
    const work = topology.queues.filter((q) => q.policy.kind === 'work');
    for (const version of [v310, v42]) {
      const policies = brokerPolicies(topology, 't1', version);
      for (const q of work) {
        const matching = policies.filter((p) => new RegExp(p.pattern).test(q.name));
        expect(matching, q.name).toHaveLength(1);
        expect(matching[0]!.definition).toEqual({
          'delivery-limit': DELIVERY_LIMIT,
          'dead-letter-exchange': '',
          'dead-letter-routing-key': dlqOf(q.name),
          'dead-letter-strategy': 'at-least-once',
          overflow: 'reject-publish',
        });
      }
    }
  });

  it('lets nothing drop a message from a DLQ: no delivery limit on 4.x, where quorum queues default to 20', () => {
    const dlqs = resolveTopology('t1').queues.filter((q) => q.policy.kind === 'dead-letter');
    const on = (version: typeof v42) => {
      const policies = brokerPolicies(resolveTopology('t1'), 't1', version);
      return dlqs.map((q) => policies.filter((p) => new RegExp(p.pattern).test(q.name)).map((p) => p.definition));
    };
    for (const defs of on(v42)) expect(defs).toEqual([{ overflow: 'reject-publish', 'delivery-limit': -1 }]);
    // 3.x refuses a negative limit and has no default one.
    for (const defs of on(v310)) expect(defs).toEqual([{ overflow: 'reject-publish' }]);
  });

  it('applies to quorum queues where the broker knows the word (3.12+), to queues before', () => {
    expect(new Set(policiesOf('t1', v42).map((p) => p.applyTo))).toEqual(new Set(['quorum_queues']));
    expect(new Set(policiesOf('t1', parseBrokerVersion('3.13.7')).map((p) => p.applyTo))).toEqual(new Set(['quorum_queues']));
    expect(new Set(policiesOf('t1', v310).map((p) => p.applyTo))).toEqual(new Set(['queues']));
  });

  it("matches exactly a namespace's own queues, never another namespace's", () => {
    const namespaces = ['', 't1', 't10', 'order'];
    for (const ns of namespaces) {
      const patterns = policiesOf(ns).map((p) => new RegExp(p.pattern));
      for (const other of namespaces) {
        for (const q of resolveTopology(other).queues) {
          const matched = patterns.some((re) => re.test(q.name));
          expect(matched, `${ns || '(none)'} policies vs ${q.name}`).toBe(ns === other);
        }
      }
      expect(policiesOf(ns).every((p) => p.name.startsWith(policyPrefix(ns)))).toBe(true);
    }
    // No namespace's policy names fall under another namespace's prefix.
    for (const a of namespaces) for (const b of namespaces) if (a !== b) expect(policyPrefix(a).startsWith(policyPrefix(b))).toBe(false);
  });

  it('gives each partition of a service queue its own policy, dead-lettering into the service DLQ', () => {
    const layout = { ...uniformLayout(2), order: 4 };
    const topology = resolveTopology('t1', layout);
    const policies = brokerPolicies(topology, 't1', v42);
    for (const q of partitionQueues('order', 't1', layout)) {
      const matching = policies.filter((p) => new RegExp(p.pattern).test(q));
      expect(matching, q).toHaveLength(1);
      expect(matching[0]!.definition['dead-letter-routing-key']).toBe('t1.order_queue.dlq');
    }
  });

  it('outranks the broker defaults Amazon MQ creates (priority 0 and 1)', () => {
    for (const p of policiesOf('')) expect(p.priority).toBeGreaterThan(1);
  });
});

describe('who administers the broker', () => {
  it('uses the management API when one is configured', () => {
    expect(brokerAdmin({ amqpUrl: 'amqp://127.0.0.1:40123', managementUrl: 'http://guest:guest@127.0.0.1:40124' }, {}).description).toMatch(/management API/);
  });

  it('uses rabbitmqctl for the default node on this machine', () => {
    expect(brokerAdmin({ amqpUrl: 'amqp://guest:guest@127.0.0.1:5672' }, {}).description).toBe('rabbitmqctl');
    expect(brokerAdmin({ amqpUrl: 'amqp://localhost' }, {}).description).toBe('rabbitmqctl');
  });

  it('refuses rabbitmqctl for a node on another port, which it would not reach (it would set the default node\'s policies)', () => {
    expect(() => brokerAdmin({ amqpUrl: 'amqp://guest:guest@127.0.0.1:40123' }, {})).toThrow(/RABBITMQ_MANAGEMENT_URL/);
    expect(brokerAdmin({ amqpUrl: 'amqp://127.0.0.1:40123' }, { RABBITMQ_NODENAME: 'other@localhost' }).description).toBe('rabbitmqctl');
  });

  it('refuses rabbitmqctl for a broker on another machine', () => {
    expect(() => brokerAdmin({ amqpUrl: 'amqps://b-1.mq.eu-west-1.amazonaws.com:5671' }, {})).toThrow(/management API/);
  });
});
