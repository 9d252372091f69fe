import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { invocationRatesOf } from '../../bench/analyze';
import { countInvocation, eventsIn, startInvocationReports } from '../../local/invocation-report';
import type { InvocationCounts } from '../../local/invocation-report';

const dir = mkdtempSync(path.join(os.tmpdir(), 'eventflow-invocations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('invocation counts', () => {
  it('counts a queue batch by its messages and anything else as one event', () => {
    expect(eventsIn({ eventSource: 'aws:rmq', rmqMessagesByQueue: { 'q::/': [{}, {}, {}] } })).toBe(3);
    expect(eventsIn({ version: '2.0', routeKey: 'POST /orders' })).toBe(1);
    const counts: InvocationCounts = {};
    countInvocation(counts, 'order-consumer', { rmqMessagesByQueue: { 'a::/': [{}, {}], 'b::/': [{}] } });
    countInvocation(counts, 'order-consumer', { rmqMessagesByQueue: { 'a::/': [{}] } });
    countInvocation(counts, 'order-api', {});
    expect(counts).toEqual({ 'order-consumer': { invocations: 2, events: 4 }, 'order-api': { invocations: 1, events: 1 } });
  });

  it('writes the running totals to its file, and once more when stopped', () => {
    const file = path.join(dir, 'counts.json');
    const counts: InvocationCounts = {};
    const stop = startInvocationReports(file, counts, 60_000);
    expect(JSON.parse(readFileSync(file, 'utf8')).counts).toEqual({});
    countInvocation(counts, 'order-api', {});
    stop();
    expect(JSON.parse(readFileSync(file, 'utf8')).counts).toEqual({ 'order-api': { invocations: 1, events: 1 } });
  });

  it("gives per-second rates between the window's first and last totals, a function first seen late counting from zero", () => {
    const rates = invocationRatesOf([
      { t: 0 },
      { t: 1_000, invocations: { 'order-api': { invocations: 10, events: 10 } } },
      { t: 3_000, invocations: { 'order-api': { invocations: 50, events: 50 }, 'payment-consumer': { invocations: 4, events: 30 } } },
    ]);
    expect(rates).toEqual({ 'order-api': { invocations: 20, events: 20 }, 'payment-consumer': { invocations: 2, events: 15 } });
    expect(invocationRatesOf([{ t: 0 }])).toEqual({});
  });
});
