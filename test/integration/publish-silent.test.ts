/**
 * A broker that stops answering without closing anything (a link that drops packets, `npm run chaos
 * -- --faults network-cut-broker`): an immediate publish waits out its bound, and the environment
 * then leaves its committed events to the relay instead of holding every request and batch that
 * long, while a round trip now and then, unawaited, finds out when the broker answers again. The broker is the shared one,
 * reached through a link of this file's own that can go silent; the outbox is a database of this
 * file's own, migrated like the order service's.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, brokerName, withDatabase } from '../../shared/config';
import { migrateService } from '../../shared/db/migrate';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { EXCHANGES } from '../../shared/messaging/topology';
import { startSilentLink } from '../support/silent-link';
import type { SilentLink } from '../support/silent-link';
import { waitFor } from '../support/wait';

const server = process.env.DATABASE_URL ?? DEFAULTS.databaseServerUrl;
const brokerUrl = new URL(process.env.RABBITMQ_URL ?? DEFAULTS.rabbitmqUrl);
const name = `t_silent_${randomUUID().slice(0, 8)}_db`;
const namespace = `tsilent${randomUUID().slice(0, 8)}`;
const exchange = brokerName(EXCHANGES.order, namespace);
let pool: pg.Pool;
let admin: pg.Client;
let link: SilentLink;
let outbox: typeof import('../../shared/messaging/outbox');
let broker: typeof import('../../shared/messaging/broker');
let logger: import('@aws-lambda-powertools/logger').Logger;

beforeAll(async () => {
  const url = withDatabase(server, name);
  await migrateService('order', url);
  admin = new pg.Client({ connectionString: server });
  await admin.connect();
  pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  link = await startSilentLink({ host: brokerUrl.hostname, port: Number(brokerUrl.port || 5672) });
  // This file's process publishes through the link (its configuration is read once, at first use).
  const through = new URL(brokerUrl);
  through.hostname = '127.0.0.1';
  through.port = String(link.port);
  process.env.RABBITMQ_URL = through.toString();
  process.env.EVENTFLOW_NAMESPACE = namespace;
  outbox = await import('../../shared/messaging/outbox');
  broker = await import('../../shared/messaging/broker');
  logger = (await import('../../shared/logger')).createLogger('order');
}, 60_000);

afterAll(async () => {
  await broker?.closeBroker();
  await link?.close();
  const direct = await broker?.connectAmqp(brokerUrl.toString()).catch(() => undefined);
  if (direct) {
    const ch = await direct.createChannel();
    await ch.deleteExchange(exchange).catch(() => undefined);
    await direct.close().catch(() => undefined);
  }
  await pool?.end();
  await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin?.end();
});

const event = (): AnyEnvelope =>
  ({
    id: randomUUID(),
    type: 'order.updated',
    version: 1,
    occurredAt: new Date().toISOString(),
    source: 'order',
    correlationId: randomUUID(),
    causationId: null,
    data: { orderId: randomUUID(), status: 'PROCESSING', previousStatus: 'PENDING' },
  }) as unknown as AnyEnvelope;

/** Commits an event to the outbox, claimed, then publishes it as a unit of work does right after its commit. */
async function commitAndPublish(e: AnyEnvelope): Promise<void> {
  const claim = outbox.newClaim();
  await outbox.appendToOutbox(pool, [e], claim);
  await outbox.publishCommitted(pool, [e], claim, logger);
}

async function pending(e: AnyEnvelope) {
  const { rows } = await pool.query<{ claim_id: string | null; last_error: string | null }>(
    'SELECT p.claim_id, p.last_error FROM outbox_pending p JOIN outbox o USING (seq) WHERE o.event_id = $1',
    [e.id],
  );
  return rows[0] ?? null;
}

describe('an immediate publish to a broker that does not answer', () => {
  it('waits out its bound once, then leaves events to the relay until a round trip behind them finds the broker back', async () => {
    link.silence();
    const [first, second] = [event(), event()];
    await commitAndPublish(first); // meets the silence: waits for the connection, then gives up
    await commitAndPublish(second); // within the window: not tried

    // Both kept for the relay (no claim), the first with what went wrong, the second (within
    // BROKER_PROBE_EVERY_MS of it, so no round trip either) with why it was not tried.
    const a = await pending(first);
    const b = await pending(second);
    expect(a).toMatchObject({ claim_id: null });
    expect(a!.last_error).not.toBe(outbox.LEFT_TO_RELAY);
    expect(a!.last_error).toMatch(/timed? ?out|ETIMEDOUT|no publisher confirm/i);
    expect(b).toEqual({ claim_id: null, last_error: outbox.LEFT_TO_RELAY });

    // Past BROKER_PROBE_EVERY_MS a publish is still left to the relay, but starts a round trip
    // behind it; once the broker answers it, the next publish goes out (its pending row goes).
    link.restore();
    const direct = await broker.connectAmqp(brokerUrl.toString());
    await (await direct.createChannel()).assertExchange(exchange, 'topic', { durable: false, autoDelete: false });
    await direct.close();
    await new Promise((r) => setTimeout(r, outbox.BROKER_PROBE_EVERY_MS));
    const third = event();
    await commitAndPublish(third);
    expect(await pending(third)).toEqual({ claim_id: null, last_error: outbox.LEFT_TO_RELAY });
    const fourth = await waitFor(async () => {
      const e = event();
      await commitAndPublish(e);
      return (await pending(e))?.last_error === outbox.LEFT_TO_RELAY ? null : e;
    }, 'a publish tried again once the broker answered', 15_000);
    await waitFor(async () => (await pending(fourth)) === null, 'the event marked published', 10_000);
  }, 60_000);
});
