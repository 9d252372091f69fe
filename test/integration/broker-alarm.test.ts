/**
 * A broker in a resource alarm, on a RabbitMQ node of this file's own (scripts/private-stack.ts:
 * an alarm on the shared broker would block every other test): its memory high watermark lowered
 * at run time, so the node blocks every connection that publishes. A publish then fails at once
 * (BrokerBlocked) instead of waiting for confirms that never come; the blocked connection is kept,
 * one, not one more per failed publish; HTTP commands get 503 with Retry-After without running;
 * and once the alarm clears the same connection publishes again.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateStack } from '../../scripts/private-stack';
import type { PrivateStack } from '../../scripts/private-stack';
import { waitFor } from '../support/wait';

let stack: PrivateStack;
let broker: typeof import('../../shared/messaging/broker');
let http: typeof import('../../shared/http/api');
let admin: import('../../shared/messaging/broker-admin').ManagementApi;

beforeAll(async () => {
  stack = await startPrivateStack();
  // This file's process publishes to the private node (its configuration is read once, at first use).
  process.env.RABBITMQ_URL = stack.env.RABBITMQ_URL;
  process.env.REDIS_URL = stack.env.REDIS_URL;
  broker = await import('../../shared/messaging/broker');
  http = await import('../../shared/http/api');
  const { ManagementApi } = await import('../../shared/messaging/broker-admin');
  admin = new ManagementApi(stack.env.RABBITMQ_MANAGEMENT_URL, '/');
}, 240_000);

afterAll(async () => {
  await broker?.closeBroker();
  await stack?.close();
}, 120_000);

const send = () => broker.sendToExchange('amq.fanout', Buffer.from('probe'), {});

/** The node's open AMQP connections, from the node itself (the management API's list lags). */
async function connections(): Promise<number> {
  return (await stack.rabbitmqctl(['list_connections', '--quiet', '--no-table-headers', 'pid'])).split('\n').filter((l) => l.trim()).length;
}

const event = (routeKey: string): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey,
    rawPath: '/things',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    isBase64Encoded: false,
    requestContext: { requestId: 'r-1', http: { method: routeKey.split(' ')[0], path: '/things', sourceIp: '127.0.0.1' } },
  }) as unknown as APIGatewayProxyEventV2;
const context = { functionName: 'test', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

describe('a broker in a memory alarm', () => {
  it('fails publishes at once on one kept connection, refuses commands with 503, and publishes again once it clears', async () => {
    await send(); // not blocked yet: confirmed
    expect(broker.brokerBlocked()).toBeNull();
    expect(await connections()).toBe(1);

    await stack.rabbitmqctl(['set_vm_memory_high_watermark', '0.0001']);
    await waitFor(async () => (await admin.listNodes()).some((n) => n.alarms.includes('memory')), 'the memory alarm', 60_000);

    // The broker blocks the connection on its first publish and says so: that publish fails as blocked, not as a timeout.
    await expect(send()).rejects.toMatchObject({ name: 'BrokerBlocked' });
    expect(broker.brokerBlocked()).toMatch(/memory/);
    // Later publishes fail without being sent, on the same connection: none is opened per failure.
    for (let i = 0; i < 3; i++) await expect(send()).rejects.toMatchObject({ name: 'BrokerBlocked' });
    expect(await connections()).toBe(1);

    // A command is refused before its handler runs; a read still runs.
    let ran = 0;
    const { createLogger } = await import('../../shared/logger');
    const api = http.createHttpApi({
      logger: createLogger('platform'),
      routes: { 'POST /things': async () => (ran++, { status: 201, body: {} }), 'GET /things': async () => (ran++, { status: 200, body: {} }) },
      rules: { access: () => 'public', queryParams: () => [] },
    });
    const refused = await api(event('POST /things'), context);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers?.['retry-after']).toBe(String(http.BROKER_BLOCKED_RETRY_AFTER_SECONDS));
    expect(refused.headers?.['content-type']).toBe('application/problem+json');
    expect(JSON.parse(String(refused.body)).type).toBe('urn:eventflow:problem:broker-blocked');
    expect(ran).toBe(0);
    expect((await api(event('GET /things'), context)).statusCode).toBe(200);
    expect(ran).toBe(1);

    await stack.rabbitmqctl(['set_vm_memory_high_watermark', '0.4']);
    await waitFor(async () => broker.brokerBlocked() === null, 'the connection to be unblocked', 60_000);
    await send(); // the same connection, confirmed again
    expect(await connections()).toBe(1);
    expect((await api(event('POST /things'), context)).statusCode).toBe(201);
  }, 300_000);
});
