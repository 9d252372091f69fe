import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { adviceFor } from '../../local/console/advice';
import { consoleMode, createConsole, isSummarised, useColor } from '../../local/console/console';
import { formatEntry, parseLogLine, shownFields } from '../../local/console/format';
import { countOrders, formatStatus, isIdle, percentileOf } from '../../local/console/summary';
import type { StatusWindow } from '../../local/console/summary';

/** A line as Powertools writes it on Lambda and locally. */
const powertools = (level: string, message: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    level,
    message,
    timestamp: '2030-01-01T12:03:07.215Z',
    service: 'order',
    cold_start: false,
    function_arn: 'arn:aws:lambda:local:000000000000:function:order-api',
    function_memory_size: '512',
    function_name: 'order-api',
    function_request_id: 'b9c1e1a0-0000-4000-8000-000000000001',
    sampling_rate: 0,
    correlationId: 'c-123',
    ...extra,
  });

const ctx = {
  services: [
    { name: 'PostgreSQL', host: '127.0.0.1', port: 5432, startHint: 'pg_ctlcluster <version> main start' },
    { name: 'RabbitMQ', host: '127.0.0.1', port: 5672, startHint: 'rabbitmq-server -detached' },
    { name: 'Redis', host: '127.0.0.1', port: 6379, startHint: 'redis-server --daemonize yes' },
  ],
  ports: [
    { variable: 'HTTP_PORT', port: 3001 },
    { variable: 'OIDC_PORT', port: 3006 },
  ],
};

describe('console: which format', () => {
  it('is pretty on a terminal and JSON elsewhere, unless LOG_FORMAT says', () => {
    expect(consoleMode({}, true)).toBe('pretty');
    expect(consoleMode({}, false)).toBe('json');
    expect(consoleMode({ LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(consoleMode({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(() => consoleMode({ LOG_FORMAT: 'yaml' }, true)).toThrow(/LOG_FORMAT must be "pretty" or "json"/);
  });

  it('colours a terminal unless NO_COLOR; FORCE_COLOR colours a pipe', () => {
    expect(useColor({}, true)).toBe(true);
    expect(useColor({ NO_COLOR: '1' }, true)).toBe(false);
    expect(useColor({}, false)).toBe(false);
    expect(useColor({ FORCE_COLOR: '1' }, false)).toBe(true);
  });
});

describe('console: one line per entry', () => {
  it('reads a Powertools line and prints time, level, function, message and the fields that matter', () => {
    const entry = parseLogLine(powertools('INFO', 'order created', { orderId: 'a11ce000-0000-4000-8000-000000000002' }))!;
    expect(entry).toMatchObject({ level: 'INFO', message: 'order created', at: Date.parse('2030-01-01T12:03:07.215Z') });
    const line = formatEntry(entry, 'order-api', { color: false });
    expect(line).toMatch(/^\d\d:\d\d:07\.215 INFO     order-api               order created  orderId=a11ce000-0000-4000-8000-000000000002$/);
    // No Powertools boilerplate, no correlation id.
    expect(line).not.toMatch(/cold_start|function_arn|sampling_rate|c-123/);
  });

  it('puts ids, counts and reasons first, shortens long values, quotes values with spaces, and shows an error by its message', () => {
    expect(shownFields({ connections: 3, events: 12, orderId: 'o-1', extra: 'x'.repeat(500) })).toEqual(['orderId=o-1', 'events=12', 'connections=3', `extra=${'x'.repeat(119)}…`]);
    expect(shownFields({ reason: 'body is not valid JSON', error: { name: 'Error', message: 'boom', stack: '…' } })).toEqual(['reason="body is not valid JSON"', 'error=boom']);
    expect(shownFields({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 })).toHaveLength(6);
  });

  it('colours the level when asked', () => {
    const entry = parseLogLine(powertools('ERROR', 'boom'))!;
    expect(formatEntry(entry, 'order-api', { color: true })).toContain('\x1b[31mERROR');
    expect(formatEntry(entry, 'order-api', { color: false })).not.toContain('\x1b[');
  });

  it('leaves lines that are not log entries alone', () => {
    expect(parseLogLine('    at Object.<anonymous> (file.js:1:1)')).toBeNull();
    expect(parseLogLine('{"not":"a log entry"}')).toBeNull();
    expect(parseLogLine('{broken')).toBeNull();
  });
});

describe('console: what is summarised', () => {
  const info = (extra: Record<string, unknown> = {}) => parseLogLine(powertools('INFO', 'x', extra))!;
  it('summarises INFO about one order or event, and every INFO of a consumer or a schedule', () => {
    expect(isSummarised(info({ orderId: 'o' }), 'http', false)).toBe(true);
    expect(isSummarised(info({ eventId: 'e' }), 'http', false)).toBe(true);
    expect(isSummarised(info({ events: 3 }), 'queue', false)).toBe(true);
    expect(isSummarised(info({ published: 3 }), 'schedule', false)).toBe(true);
  });

  it('shows other INFO, every warning and error, and everything with LOG_LEVEL=DEBUG', () => {
    expect(isSummarised(info({ queue: 'order_queue', moved: 3 }), 'http', false)).toBe(false);
    expect(isSummarised(parseLogLine(powertools('WARN', 'x', { orderId: 'o' }))!, 'queue', false)).toBe(false);
    expect(isSummarised(parseLogLine(powertools('ERROR', 'x'))!, 'queue', false)).toBe(false);
    expect(isSummarised(info({ orderId: 'o' }), 'queue', true)).toBe(false);
  });
});

describe('console: what to do', () => {
  it('names a dependency that does not answer, with how to start it', () => {
    expect(adviceFor('connect ECONNREFUSED 127.0.0.1:5432', ctx)).toBe('PostgreSQL (127.0.0.1:5432) does not answer: start it (pg_ctlcluster <version> main start); the runtime reconnects by itself');
    expect(adviceFor('broker not reachable (connect ECONNREFUSED 127.0.0.1:5672); retrying', ctx)).toMatch(/^RabbitMQ \(127\.0\.0\.1:5672\) does not answer: start it \(rabbitmq-server -detached\)/);
    expect(adviceFor('MaxRetriesPerRequestError: Reached the max retries per request limit', ctx)).toMatch(/^Redis does not answer: start it \(redis-server --daemonize yes\)/);
  });

  it('names a port already taken, and the setting that moves it', () => {
    expect(adviceFor('failed to start: listen EADDRINUSE: address already in use 127.0.0.1:3006', ctx)).toBe(
      'port 3006 (OIDC_PORT) is taken: is another `npm run dev` running? Stop it, or choose another port: OIDC_PORT=3106 npm run dev',
    );
    expect(adviceFor('listen EADDRINUSE: address already in use :::4000', ctx)).toMatch(/^port 4000 is taken: stop what listens on it/);
  });

  it('says nothing when the cause is not known', () => {
    expect(adviceFor('handler failed: Cannot read properties of undefined', ctx)).toBeNull();
    expect(adviceFor('connect ECONNREFUSED 127.0.0.1:9999', ctx)).toBeNull();
  });
});

describe('console: the status line', () => {
  const placedAt = Date.parse('2030-01-01T12:00:00.000Z');
  const row = (type: string, ms: number, status: string | null = null, previousStatus: string | null = null) => ({
    type,
    occurredAt: new Date(placedAt + ms).toISOString(),
    status,
    previousStatus,
    orderCreatedAt: placedAt,
  });

  it("counts orders with the overview's rules: settle time from placed to confirmed or failed", () => {
    const counts = countOrders([
      row('order.created', 0),
      row('order.updated', 120, 'CONFIRMED', 'PENDING'),
      row('order.updated', 300, 'FAILED', 'PENDING'),
      row('order.cancelled', 900, null, 'PENDING'),
      row('order.updated', 5_000, 'PROCESSING', 'CONFIRMED'),
    ]);
    expect(counts).toEqual({ placed: 1, confirmed: 1, failed: 1, cancelled: 1, settleMs: [120, 300] });
    expect(percentileOf([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(percentileOf([5, 1, 4, 2, 3], 0.95)).toBe(5);
    expect(percentileOf([], 0.5)).toBeNull();
  });

  const window = (over: Partial<StatusWindow> = {}): StatusWindow => ({
    seconds: 10,
    orders: { placed: 120, confirmed: 110, failed: 5, cancelled: 3, settleMs: [100, 200, 300, 1_500] },
    queues: [
      { name: 'order', depth: 0 },
      { name: 'payment', depth: 3 },
    ],
    deadLetters: [],
    throttled: 2,
    rateLimited: 0,
    environments: { busy: 6, total: 14 },
    summarised: 231,
    ...over,
  });

  it('says it all on one line', () => {
    expect(formatStatus(window())).toBe(
      '10 s: 120 placed, 110 confirmed, 5 failed, 3 cancelled; settle p50 200 ms p95 1.5 s · queues order 0, payment 3 · throttled 2 · environments 6/14 busy · 231 info lines summarised (LOG_LEVEL=DEBUG shows them)',
    );
    expect(formatStatus(window({ orders: null, queues: null, deadLetters: [{ name: 'inventory', depth: 4 }], rateLimited: 7, summarised: 0 }))).toBe(
      'orders: the order database does not answer · queues: the broker does not answer · DLQ inventory 4 (npm run dlq) · throttled 2, rate-limited 7 · environments 6/14 busy',
    );
  });

  it('is idle when nothing happened and nothing waits, busy schedules or not', () => {
    const quiet = window({ orders: { placed: 0, confirmed: 0, failed: 0, cancelled: 0, settleMs: [] }, queues: [{ name: 'order', depth: 0 }], throttled: 0, summarised: 0 });
    expect(isIdle(quiet)).toBe(true);
    expect(isIdle({ ...quiet, environments: { busy: 3, total: 9 } })).toBe(true);
    expect(isIdle({ ...quiet, queues: [{ name: 'order', depth: 1 }] })).toBe(false);
    expect(isIdle({ ...quiet, summarised: 1 })).toBe(false);
    expect(isIdle({ ...quiet, orders: null })).toBe(false);
  });
});

describe('console: the runtime side', () => {
  function capture(mode: 'json' | 'pretty', debug = false) {
    const out: string[] = [];
    const err: string[] = [];
    const c = createConsole({ mode, color: false, debug, out: (l) => out.push(l), err: (l) => err.push(l) });
    c.setAdviceContext(ctx);
    return { c, out, err };
  }
  const flush = () => new Promise((r) => setImmediate(r));

  it('in JSON mode, writes what it always wrote and reads no environment', () => {
    const { c, out, err } = capture('json');
    c.log('all dependencies reachable');
    c.logError('failed to start', Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:3001'), { stack: 'Error: listen EADDRINUSE\n    at x' }));
    expect(err).toEqual(['[eventflow] all dependencies reachable', '[eventflow] failed to start: Error: listen EADDRINUSE\n    at x']);
    expect(out).toEqual([]);
    expect(c.environmentOutput).toBeUndefined();
  });

  it('in pretty mode, formats the environments and its own lines, counts what it summarises, and advises on errors', async () => {
    const { c, out, err } = capture('pretty');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    c.environmentOutput!('order-api', 'http', stdout, stderr);
    stdout.write(`${powertools('INFO', 'order created', { orderId: 'o-1' })}\n`);
    stdout.write(`${powertools('INFO', 'dead letters redriven', { queue: 'order_queue', moved: 2 })}\n`);
    stderr.write(`${powertools('ERROR', 'statement failed', { error: { name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:5432' } })}\n`);
    stderr.write('    at somewhere (file.js:1:1)\n');
    await flush();
    c.logError('failed to start', new Error('listen EADDRINUSE: address already in use 127.0.0.1:3001'));
    expect(out.map((l) => l.replace(/^\d\d:\d\d:\d\d\.\d{3} /, 'T '))).toEqual([
      'T INFO     order-api               dead letters redriven  queue=order_queue moved=2',
      'T ERROR    order-api               statement failed  error="connect ECONNREFUSED 127.0.0.1:5432"',
      `${' '.repeat(46)}→ PostgreSQL (127.0.0.1:5432) does not answer: start it (pg_ctlcluster <version> main start); the runtime reconnects by itself`,
      'T ERROR    runtime                 failed to start: listen EADDRINUSE: address already in use 127.0.0.1:3001',
      `${' '.repeat(46)}→ port 3001 (HTTP_PORT) is taken: is another \`npm run dev\` running? Stop it, or choose another port: HTTP_PORT=3101 npm run dev`,
    ]);
    expect(err).toEqual(['    at somewhere (file.js:1:1)']);
    expect(c.takeCounters()).toEqual({ throttled: 0, rateLimited: 0, summarised: 1 });
    c.throttled();
    c.rateLimited();
    expect(c.takeCounters()).toEqual({ throttled: 1, rateLimited: 1, summarised: 0 });
  });

  it('with LOG_LEVEL=DEBUG, shows the per-order lines too', async () => {
    const { c, out } = capture('pretty', true);
    const stdout = new PassThrough();
    c.environmentOutput!('order-consumer', 'queue', stdout, new PassThrough());
    stdout.write(`${powertools('INFO', 'late payment_processed for a CANCELLED order, recorded', { orderId: 'o-1' })}\n${powertools('DEBUG', 'payments settled', { settled: 3 })}\n`);
    await flush();
    expect(out.map((l) => l.slice(13))).toEqual([
      'INFO     order-consumer          late payment_processed for a CANCELLED order, recorded  orderId=o-1',
      'DEBUG    order-consumer          payments settled  settled=3',
    ]);
  });
});
