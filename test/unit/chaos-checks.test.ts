import { describe, expect, it } from 'vitest';
import { parseChaosArgs } from '../../bench/chaos/args';
import { checkDeadLetters, checkDeadlines, checkGatewayBooks, checkPolicies, checkReservationsOnce, checkStatusHistory, columnOf, tally } from '../../bench/chaos/checks';
import { brokerPolicies, parseBrokerVersion } from '../../shared/messaging/policies';
import { resolveTopology } from '../../functions/topology';
import { FAULT_IDS } from '../../bench/chaos/faults';
import { EXPECTED_WHILE_BLOCKED, EXPECTED_WHILE_READ_ONLY, healthTimeline } from '../../bench/chaos/health';
import type { HealthBody } from '../../bench/chaos/health';
import { formatTable } from '../../bench/chaos/report';
import { refundKeyOf } from '../../functions/payment/domain/gateway';
import { BACKLOG_GONE_WITHIN_S, REFUSED_WITHIN_MS, cpuByPart, judgeOverload, overloadFigures } from '../../bench/chaos/overload';
import type { OrderRecord } from '../../bench/load';

describe('fault run: order history', () => {
  it('accepts the saga\'s transitions, a confirmed order cancelled afterwards included', () => {
    expect(
      checkStatusHistory([
        { orderId: 'o1', previous: 'PENDING', status: 'CONFIRMED' },
        { orderId: 'o1', previous: 'CONFIRMED', status: 'CANCELLED' },
        { orderId: 'o2', previous: 'PENDING', status: 'FAILED' },
      ]),
    ).toEqual([]);
  });

  it('finds a terminal status that changed, and an order confirmed twice', () => {
    const v = checkStatusHistory([
      { orderId: 'o1', previous: 'PENDING', status: 'FAILED' },
      { orderId: 'o1', previous: 'FAILED', status: 'CONFIRMED' },
      { orderId: 'o2', previous: 'PENDING', status: 'CANCELLED' },
      { orderId: 'o2', previous: 'CANCELLED', status: 'CANCELLED' },
      { orderId: 'o3', previous: 'PENDING', status: 'CONFIRMED' },
      { orderId: 'o3', previous: 'PENDING', status: 'CONFIRMED' },
    ]);
    expect(v.map((x) => `${x.rule} ${x.subject}`)).toEqual([
      'a terminal status never changes o1',
      'a terminal status never changes o2',
      'an order is confirmed once o3',
    ]);
    expect(tally(v)).toEqual({ lost: 0, duplicated: 3, other: 0 });
  });
});

describe('fault run: the gateway\'s books', () => {
  const payments = [
    { id: 'p1', orderId: 'o1', status: 'PROCESSED' },
    { id: 'p2', orderId: 'o2', status: 'REFUNDED' },
    { id: 'p3', orderId: 'o3', status: 'FAILED' },
  ];
  const books = [
    { key: 'p1', kind: 'charge' as const, succeeded: true },
    { key: 'p2', kind: 'charge' as const, succeeded: true },
    { key: refundKeyOf('p2'), kind: 'refund' as const, succeeded: true },
    { key: 'p3', kind: 'charge' as const, succeeded: false },
  ];

  it('agree with the payment records', () => {
    expect(checkGatewayBooks(books, payments, refundKeyOf)).toEqual([]);
  });

  it('find a charge nobody recorded, a refund without a charge, and records that disagree', () => {
    const v = checkGatewayBooks(
      [
        ...books,
        { key: 'p9', kind: 'charge', succeeded: true },
        { key: refundKeyOf('p3'), kind: 'refund', succeeded: true },
      ],
      [...payments, { id: 'p4', orderId: 'o4', status: 'PROCESSED' }],
      refundKeyOf,
    );
    expect(v.map((x) => `${x.rule} ${x.subject}`).sort()).toEqual([
      'every charge has its payment p9',
      'every refund follows a charge o3',
      'payments agree with the gateway o4',
    ]);
    expect(tally(v)).toEqual({ lost: 1, duplicated: 2, other: 0 });
  });

  it('find a refund the records do not show', () => {
    const v = checkGatewayBooks([...books, { key: refundKeyOf('p1'), kind: 'refund', succeeded: true }], payments, refundKeyOf);
    expect(v).toEqual([{ rule: 'payments agree with the gateway', subject: 'o1', detail: 'refunded, but the payment is PROCESSED' }]);
  });
});

describe('fault run: reservations and DLQs', () => {
  it('finds an order reserved twice', () => {
    expect(checkReservationsOnce([{ orderId: 'o1' }, { orderId: 'o2' }])).toEqual([]);
    expect(checkReservationsOnce([{ orderId: 'o1' }, { orderId: 'o1' }])).toHaveLength(1);
  });

  it('wants each malformed message in the DLQ of every queue it reached, and nothing else there', () => {
    const sent = [
      { mark: 'm1', dlqs: ['payment_queue.dlq', 'notification_queue.dlq'] },
      { mark: 'm2', dlqs: ['notification_queue.dlq'] },
    ];
    const parked = [
      { dlq: 'payment_queue.dlq', mark: 'm1', reason: 'body is not valid JSON' },
      { dlq: 'notification_queue.dlq', mark: 'm1', reason: 'body is not valid JSON' },
      { dlq: 'notification_queue.dlq', mark: 'm2', reason: 'invalid envelope' },
    ];
    expect(checkDeadLetters(parked, sent)).toEqual([]);
    // At least once: a message parked twice is still only a malformed message.
    expect(checkDeadLetters([...parked, parked[0]!], sent)).toEqual([]);
    const v = checkDeadLetters([...parked.slice(1), { dlq: 'order_queue.dlq', mark: null, reason: 'processing failed: boom' }], sent);
    expect(v.map((x) => x.rule).sort()).toEqual(['a DLQ holds only the malformed messages', 'a malformed message is parked']);
    expect(tally(v)).toEqual({ lost: 0, duplicated: 0, other: 2 });
  });

  it('wants the broker to apply every policy of the namespace as the topology says', () => {
    const wanted = brokerPolicies(resolveTopology('c1'), 'c1', parseBrokerVersion('3.10.8'));
    // The management API lists a definition's keys in its own order.
    const applied = wanted.map((p) => ({ ...p, definition: Object.fromEntries(Object.entries(p.definition).reverse()) }));
    expect(checkPolicies(wanted, applied)).toEqual([]);
    expect(checkPolicies(wanted, applied.slice(1))).toEqual([{ rule: "the broker applies the queues' policies", subject: wanted[0]!.name, detail: 'missing' }]);
    const loosened = applied.map((p, i) => (i === 0 ? { ...p, definition: { ...p.definition, 'delivery-limit': 1000 } } : p));
    expect(checkPolicies(wanted, loosened)).toHaveLength(1);
    expect(columnOf("the broker applies the queues' policies")).toBe('other');
    for (const rule of ['token expiry holds with a skewed clock', 'no order is cancelled before its deadline', 'reads go on while writes fail', 'a full disk is noticed']) expect(columnOf(rule), rule).toBe('other');
  });

  it('counts unsettled orders and unconserved stock as lost', () => {
    expect(columnOf('every order settled')).toBe('lost');
    expect(columnOf('initial stock = stock + shipped')).toBe('lost');
    expect(columnOf('FAILED or CANCELLED orders are refunded')).toBe('lost');
    expect(columnOf('at most one processed payment per order')).toBe('duplicated');
  });

  it('counts a timeline that contradicts its order neither as lost nor as duplicated', () => {
    expect(columnOf("timeline ends in the order's status")).toBe('other');
    expect(columnOf('timeline previousStatus is the status before it')).toBe('other');
  });
});

describe('fault run: command line, health, table', () => {
  it('runs every fault by default and refuses unknown ones', () => {
    const parsed = parseChaosArgs([]);
    expect(parsed.kind === 'run' && parsed.options.faults).toEqual([...FAULT_IDS]);
    const some = parseChaosArgs(['--rate', '30', '--seconds', '6', '--faults', 'redis-stop,malformed-burst']);
    expect(some.kind === 'run' && [some.options.rate, some.options.seconds, some.options.faults]).toEqual([30, 6, ['redis-stop', 'malformed-burst']]);
    expect(() => parseChaosArgs(['--faults', 'meteor'])).toThrow(/not one of/);
    expect(parseChaosArgs(['--help']).kind).toBe('help');
  });

  it('tells what /health said through a fault', () => {
    const body = (status: HealthBody['status'], redis: 'up' | 'down'): HealthBody => ({
      status,
      checks: { postgres: { order: { status: 'up' } }, rabbitmq: { status: 'up' }, redis: { status: redis } },
    });
    const samples = [
      { at: 0, body: body('ok', 'up') },
      { at: 1000, body: body('degraded', 'down') },
      { at: 2500, body: body('degraded', 'down') },
      { at: 3000, body: 'unreachable' as const },
      { at: 4000, body: body('ok', 'up') },
    ];
    expect(healthTimeline(samples, 500)).toBe('degraded (redis) 2.0 s → unreachable 1.0 s → ok');
  });

  it('names a database that takes no writes and a broker that blocks publishers, and expects /health to', () => {
    const readOnly: HealthBody = {
      status: 'down',
      checks: { postgres: { order: { status: 'up' }, payment: { status: 'down', error: 'read-only: default_transaction_read_only is on' } }, rabbitmq: { status: 'up' }, redis: { status: 'up' } },
    };
    const blocked: HealthBody = {
      status: 'down',
      checks: { postgres: { order: { status: 'up' } }, rabbitmq: { status: 'down', error: 'blocked: memory alarm on rabbit@a; the broker blocks publishers' }, redis: { status: 'up' } },
    };
    const unreachable: HealthBody = { ...blocked, checks: { ...blocked.checks, rabbitmq: { status: 'down', error: 'connect ECONNREFUSED' } } };
    expect(healthTimeline([{ at: 0, body: readOnly }, { at: 1000, body: blocked }, { at: 2000, body: unreachable }], 0)).toBe(
      'down (postgres payment read-only) 1.0 s → down (rabbitmq blocked) 1.0 s → down (rabbitmq)',
    );
    expect(EXPECTED_WHILE_READ_ONLY('payment')(readOnly)).toBe(true);
    expect(EXPECTED_WHILE_READ_ONLY('order')(readOnly)).toBe(false);
    expect(EXPECTED_WHILE_BLOCKED(blocked)).toBe(true);
    // A broker that is simply away is not one that blocks publishers.
    expect(EXPECTED_WHILE_BLOCKED(unreachable)).toBe(false);
  });

  it('prints a markdown table', () => {
    const table = formatTable([
      {
        fault: 'redis-stop',
        title: 'Redis stopped and started',
        accepted: 10,
        postErrors: 3,
        refused: 2,
        acceptedPostP99Ms: 812.4,
        postOutcomes: {},
        lost: 0,
        duplicated: 0,
        violations: 0,
        downSeconds: 5.25,
        detectSeconds: 0.75,
        recoverySeconds: 1.5,
        drainSeconds: 1,
        drained: true,
        note: '',
        health: 'degraded (redis) 5.0 s → ok',
        examples: [],
      },
    ]);
    expect(table.split('\n')[2]).toBe('| Redis stopped and started | 10 | 812 | 3 | 2 | 0 | 0 | 0 | 5.3 | 0.8 | 1.5 | 1.0 | degraded (redis) 5.0 s → ok |');
  });
});

describe('fault run: deadlines', () => {
  it('finds an order cancelled at its deadline before the deadline had passed, by the database clock', () => {
    const cancelled = [
      { orderId: 'a', seconds: 300.2 },
      { orderId: 'b', seconds: 12.5 },
    ];
    expect(checkDeadlines(cancelled, 300)).toEqual([
      { rule: 'no order is cancelled before its deadline', subject: 'b', detail: 'cancelled 12.5 s after creation; the deadline is 300 s' },
    ]);
    expect(checkDeadlines([{ orderId: 'a', seconds: 300 }], 300)).toEqual([]);
  });
});

describe('fault run: the tenfold burst', () => {
  // As the load leaves them: a settled order's first final status, and when (bench/load.ts).
  const rec = (over: Partial<OrderRecord>): OrderRecord =>
    ({ seq: 0, warmup: false, scheduledAt: 0, startedAt: 1_000, lateMs: 0, scarce: false, declined: false, cancelAfterMs: null, finals: {}, ...over }) as OrderRecord;
  const steady = [rec({ postOutcome: 201, startedAt: 0, finals: { CONFIRMED: 100 }, doneAt: 100, doneStatus: 'CONFIRMED' }), rec({ postOutcome: 201, startedAt: 0, finals: { FAILED: 200 }, doneAt: 200, doneStatus: 'FAILED' })];

  it('measures accepted and refused orders, their p99s, and when the backlog was gone', () => {
    const burst = [
      rec({ postOutcome: 201, finals: { CONFIRMED: 1_300 }, doneAt: 1_300, doneStatus: 'CONFIRMED' }),
      rec({ postOutcome: 201, finals: { CONFIRMED: 11_000 }, doneAt: 11_000, doneStatus: 'CONFIRMED' }),
      rec({ postOutcome: 503, postMs: 900, retryAfterMs: 1_000 }),
      rec({ postOutcome: 503, postMs: 1_100 }),
      rec({ postOutcome: 'timeout' }),
    ];
    const f = overloadFigures({ burst, steadyBefore: steady, seconds: 2, burstEndedAt: 3_000, rssBeforeMiB: 500, rssPeakMiB: 800 });
    expect(f).toMatchObject({ offered: 5, accepted: 2, acceptedPerSec: 1, refused: 2, refusedWithoutRetryAfter: 1, refusedP99Ms: 1_100, otherErrors: 1 });
    expect(f.acceptedSettleP99Ms).toBe(10_000);
    expect(f.steadySettleP99Ms).toBe(200);
    expect(f.backlogGoneSeconds).toBe(8);
    expect(judgeOverload(f).map((v) => v.rule)).toEqual(['overload: a refusal says when to come back', 'overload: accepted orders keep their pace']);
  });

  it('holds a burst that keeps its pace, refuses at once and clears its backlog in time, and finds one that does not', () => {
    const good = overloadFigures({
      burst: [rec({ postOutcome: 201, finals: { CONFIRMED: 1_300 }, doneAt: 1_300, doneStatus: 'CONFIRMED' }), rec({ postOutcome: 503, postMs: 1_000, retryAfterMs: 1_000 })],
      steadyBefore: steady,
      seconds: 1,
      burstEndedAt: 2_000,
      rssBeforeMiB: 1,
      rssPeakMiB: 1,
    });
    expect(good.backlogGoneSeconds).toBe(0);
    expect(judgeOverload(good)).toEqual([]);
    const slow = { ...good, refusedP99Ms: REFUSED_WITHIN_MS + 1, backlogGoneSeconds: BACKLOG_GONE_WITHIN_S + 1 };
    expect(judgeOverload(slow).map((v) => v.rule)).toEqual(['overload: the excess is refused at once', 'overload: the backlog is gone within a minute']);
    expect(judgeOverload({ ...good, backlogGoneSeconds: null }).map((v) => v.rule)).toEqual(['overload: the backlog is gone within a minute']);
  });
});

describe('fault run: where the CPU went during the burst', () => {
  it('averages busy cores per part: the gateway apart, every environment together, PostgreSQL by server', () => {
    const samples: { cpu: Record<string, number> }[] = [
      { cpu: { 'runtime: main': 0.9, 'runtime: order-api': 0.2, 'runtime: payment-consumer': 0.1, 'postgres: order': 0.1, 'postgres: background': 0.1, 'load generator': 0.5 } },
      { cpu: { 'runtime: main': 0.7, 'runtime: order-api': 0.4, 'postgres: order': 0.3, 'load generator': 0.7, rabbitmq: 0.2 } },
    ];
    expect(cpuByPart(samples)).toEqual({
      'gateway (runtime main process)': expect.closeTo(0.8),
      'load generator': expect.closeTo(0.6),
      'function environments': expect.closeTo(0.35),
      postgres: expect.closeTo(0.25),
      rabbitmq: expect.closeTo(0.1),
    });
    expect(Object.keys(cpuByPart(samples))[0]).toBe('gateway (runtime main process)');
  });
});
