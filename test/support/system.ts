import { randomUUID } from 'node:crypto';
import { connectAmqp } from '../../shared/messaging/broker';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import pg from 'pg';
import { inject } from 'vitest';
import { waitFor } from './wait';
import { DEFAULTS, brokerName, databaseName, withDatabase } from '../../shared/config';
import type { ServiceName } from '../../shared/config';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { routingKeyOf } from '../../shared/messaging/routing';
import { EXCHANGES, parkExchangeOf } from '../../shared/messaging/topology';
import { brokerUserOf } from '../../functions/identities';
import type { BrokerUserRole } from '../../functions/identities';
import { brokerUrlOf } from '../../local/identities/urls';
import { QUEUES, deploymentLayout, partitionQueues } from '../../functions/topology';
import type { QueueId } from '../../functions/topology';
import type { Principal } from '../../shared/auth/principal';
import { OPERATOR, bearer, tokenFor } from './auth';

export { waitFor };
export { ALICE, BOB, OPERATOR } from './auth';

/** Access to the system under test: its HTTP API, its databases and its broker, all in its namespace. */
export const system = () => inject('system');

export interface Response<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** An access token of the suite's runtime for a principal. */
export const tokenOf = (principal: Principal) => tokenFor(system().issuerUrl, principal);

/** Headers that make a request as this principal. */
export const as = async (principal: Principal) => bearer(await tokenOf(principal));

/**
 * A request to the HTTP API, as the operator unless the headers carry an authorization of their
 * own (`as(ALICE)`, or `{ authorization: '' }` for none).
 */
export async function api<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response<T>> {
  const auth = 'authorization' in headers ? {} : await as(OPERATOR);
  const all: Record<string, string> = { ...auth, ...headers };
  if (all.authorization === '') delete all.authorization;
  const res = await fetch(`${system().httpUrl}${path}`, {
    method,
    headers: body === undefined ? all : { 'content-type': 'application/json', ...all },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

const pools = new Map<ServiceName, pg.Pool>();

/** A pool on a service's database in the test namespace, for checking invariants directly. */
export function db(service: ServiceName): pg.Pool {
  let pool = pools.get(service);
  if (!pool) {
    const url = withDatabase(process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl, databaseName(service, system().namespace));
    pool = new pg.Pool({ connectionString: url, max: 3 });
    // An idle client whose server ended it (a test ending sessions): dropped, not a crash of the run.
    pool.on('error', () => undefined);
    pools.set(service, pool);
  }
  return pool;
}

let broker: Promise<{ connection: ChannelModel; channel: ConfirmChannel }> | undefined;

/** The broker as its administrator: to look into queues, purge them, and clean up. */
export function rabbit() {
  broker ??= (async () => {
    const connection = await connectAmqp(process.env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl);
    return { connection, channel: await connection.createConfirmChannel() };
  })();
  return broker;
}

const asUsers = new Map<BrokerUserRole, Promise<{ connection: ChannelModel; channel: ConfirmChannel; user: string }>>();

/** The broker as one of the runtime's own users (functions/identities.ts): to publish as a service would. */
export function rabbitAs(role: BrokerUserRole) {
  let session = asUsers.get(role);
  if (!session) {
    const where = { rabbitmqUrl: process.env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl, namespace: system().namespace };
    session = (async () => {
      const connection = await connectAmqp(brokerUrlOf(where, role));
      return { connection, channel: await connection.createConfirmChannel(), user: brokerUserOf(role, where.namespace) };
    })();
    asUsers.set(role, session);
  }
  return session;
}

/** A service queue's name (what its DLQ is named after) and the partitions it is split into. */
export const queueName = (id: QueueId) => brokerName(QUEUES[id].name, system().namespace);
export const partitionsOf = (id: QueueId) => partitionQueues(id, system().namespace, deploymentLayout());
export const exchangeName = (publisher: keyof typeof EXCHANGES) => brokerName(EXCHANGES[publisher], system().namespace);

/**
 * Publishes raw bytes to a service exchange as that service (its broker user, its user-id), as a
 * misbehaving or replaying publisher of that service would.
 */
export async function publishRaw(publisher: keyof typeof EXCHANGES, routingKey: string, body: Buffer | string) {
  const { channel, user } = await rabbitAs(publisher);
  channel.publish(exchangeName(publisher), routingKey, Buffer.isBuffer(body) ? body : Buffer.from(body), { persistent: true, userId: user });
  await channel.waitForConfirms();
}

export async function publishEnvelope(event: AnyEnvelope) {
  await publishRaw(event.source, routingKeyOf(event), JSON.stringify(event));
}

/**
 * Puts a message in a service queue's DLQ as its consumer parks one: as the queue's service, through
 * the queue's parking exchange, with the original sender (a broker user role, or none) beside it.
 */
export async function parkRaw(queue: QueueId, body: Buffer | string, headers: Record<string, unknown>, sender?: BrokerUserRole) {
  const { channel, user } = await rabbitAs(queue);
  channel.publish(parkExchangeOf(queueName(queue)), '', Buffer.isBuffer(body) ? body : Buffer.from(body), {
    persistent: true,
    userId: user,
    headers: { ...headers, 'x-eventflow-sender': sender ? brokerUserOf(sender, system().namespace) : '' },
  });
  await channel.waitForConfirms();
}

export async function closeTestClients() {
  await Promise.all([...pools.values()].map((p) => p.end()));
  pools.clear();
  if (broker) await (await broker).connection.close();
  broker = undefined;
  for (const session of asUsers.values()) await (await session).connection.close().catch(() => undefined);
  asUsers.clear();
}

export const customer = () => randomUUID();

export interface ProductInput {
  name?: string;
  priceCents?: number;
  stock?: number;
  lowStockThreshold?: number;
}

/** Creates a product and waits until the order service's catalog copy knows it. */
export async function createProduct(input: ProductInput = {}) {
  const res = await api('POST', '/products', {
    sku: `T-${randomUUID().slice(0, 8)}`,
    name: input.name ?? 'Test product',
    priceCents: input.priceCents ?? 1000,
    stock: input.stock ?? 10,
    lowStockThreshold: input.lowStockThreshold ?? 0,
  });
  if (res.status !== 201) throw new Error(`product not created: ${res.status} ${JSON.stringify(res.body)}`);
  await waitFor(
    async () => (await db('order').query('SELECT 1 FROM catalog_products WHERE id = $1', [res.body.id])).rowCount,
    'the order service to learn of the product',
  );
  return res.body as { id: string; sku: string; priceCents: number; stock: number };
}

export async function placeOrder(items: { productId: string; quantity: number }[], paymentToken = 'tok_visa', headers: Record<string, string> = {}) {
  return api('POST', '/orders', { customerId: customer(), items, paymentToken }, headers);
}

export const TERMINAL = ['CONFIRMED', 'FAILED', 'CANCELLED'];

export async function waitForStatus(orderId: string, statuses: string[] = TERMINAL, timeoutMs = 15_000) {
  return waitFor(async () => {
    const res = await api('GET', `/orders/${orderId}`);
    return statuses.includes(res.body.status) ? res.body : null;
  }, `order ${orderId} to reach ${statuses.join('/')}`, timeoutMs);
}

export async function product(id: string) {
  return (await api('GET', `/products/${id}`)).body as { stock: number; reserved: number; available: number; version: number };
}

export async function reservationOf(orderId: string) {
  const { rows } = await db('inventory').query('SELECT status, items FROM reservations WHERE order_id = $1', [orderId]);
  return rows[0] as { status: string; items: { productId: string; quantity: number }[] } | undefined;
}

export async function paymentsOf(orderId: string) {
  const { rows } = await db('payment').query('SELECT status, amount_cents::int AS amount_cents FROM payments WHERE order_id = $1', [orderId]);
  return rows as { status: string; amount_cents: number }[];
}

/**
 * The saga's invariants for one settled order: CONFIRMED holds one active reservation and one
 * processed payment; FAILED or CANCELLED holds no active reservation and no unrefunded payment.
 * Compensations are asynchronous, so this waits for them to settle.
 */
export async function expectSettled(orderId: string) {
  return waitFor(async () => {
    const order = (await api('GET', `/orders/${orderId}`)).body;
    const reservation = await reservationOf(orderId);
    const payments = await paymentsOf(orderId);
    if (order.status === 'CONFIRMED') {
      return reservation?.status === 'ACTIVE' && payments.length === 1 && payments[0]!.status === 'PROCESSED' && order;
    }
    if (order.status === 'FAILED' || order.status === 'CANCELLED') {
      return reservation?.status !== 'ACTIVE' && payments.every((p) => p.status === 'FAILED' || p.status === 'REFUNDED') && order;
    }
    return null;
  }, `order ${orderId} to settle with its invariants holding`);
}

export async function timeline(orderId: string): Promise<AnyEnvelope[]> {
  return (await api('GET', `/orders/${orderId}/events`)).body.items;
}
