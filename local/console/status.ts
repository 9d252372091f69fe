/**
 * Gathers the terminal's status line every 10 s: orders from the order service's outbox, queue
 * depths from the broker, and what the runtime itself counted (throttled requests, busy
 * environments, lines summarised). Reads only; a dependency that does not answer is said so on
 * the line, and the next line tries again.
 */
import type { ChannelModel } from 'amqplib';
import pg from 'pg';
import { brokerName } from '../../shared/config';
import type { Config } from '../../shared/config';
import { connectAmqp } from '../../shared/messaging/broker';
import { queueStats } from '../../shared/messaging/queue-stats';
import { dlqOf } from '../../shared/messaging/topology';
import { QUEUES, QUEUE_IDS, deploymentLayout, partitionQueues } from '../../functions/topology';
import { countOrders, formatStatus, isIdle, noOrders } from './summary';
import type { OrderCounts, OrderRow, StatusWindow } from './summary';

export const STATUS_EVERY_MS = 10_000;

/** Outbox rows may commit a little out of seq order: each read looks back this many seqs. */
const SEQ_OVERLAP = 1_000;

export interface RuntimeCounters {
  throttled: number;
  rateLimited: number;
  summarised: number;
}

export interface StatusSources {
  config: Config;
  environments: () => Record<string, { busy: number; total: number }>;
  /** The runtime's counts since the last call (the call resets them). */
  takeCounters: () => RuntimeCounters;
}

/** Reads the order outbox forward from where it last stopped, counting each row once. */
function orderReader(pool: pg.Pool) {
  let after: number | null = null;
  let counted = new Set<number>();
  return async (): Promise<OrderCounts> => {
    if (after === null) {
      const { rows } = await pool.query<{ max: string | null }>('SELECT max(seq) AS max FROM outbox');
      after = Number(rows[0]?.max ?? 0);
      return noOrders();
    }
    const { rows } = await pool.query<{ seq: string; type: string; occurred_at: string; status: string | null; previous_status: string | null; created_at: Date | null }>(
      `SELECT e.seq, e.type, e.envelope->>'occurredAt' AS occurred_at, e.envelope->'data'->>'status' AS status,
              e.envelope->'data'->>'previousStatus' AS previous_status, o.created_at
         FROM outbox e LEFT JOIN orders o ON o.id = e.order_id
        WHERE e.seq > $1 AND e.type IN ('order.created', 'order.updated', 'order.cancelled')
        ORDER BY e.seq`,
      [Math.max(0, after - SEQ_OVERLAP)],
    );
    const fresh = rows.filter((r) => Number(r.seq) > after! || !counted.has(Number(r.seq)));
    const top = Math.max(after, ...rows.map((r) => Number(r.seq)));
    counted = new Set([...counted, ...fresh.map((r) => Number(r.seq))].filter((s) => s > top - SEQ_OVERLAP));
    after = top;
    return countOrders(
      fresh.map((r): OrderRow => ({ type: r.type, occurredAt: r.occurred_at, status: r.status, previousStatus: r.previous_status, orderCreatedAt: r.created_at?.getTime() ?? null })),
    );
  };
}

function queueReader(config: Config) {
  const layout = deploymentLayout();
  const queues = QUEUE_IDS.map((id) => ({ id, partitions: partitionQueues(id, config.namespace, layout), dlq: dlqOf(brokerName(QUEUES[id].name, config.namespace)) }));
  let connection: Promise<ChannelModel> | null = null;
  const connect = () =>
    (connection ??= connectAmqp(config.rabbitmqUrl).then((c) => {
      c.on('error', () => undefined);
      c.on('close', () => (connection = null));
      return c;
    }));
  return {
    async read(): Promise<Pick<StatusWindow, 'queues' | 'deadLetters'>> {
      const names = queues.flatMap((q) => [...q.partitions, q.dlq]);
      const stats = new Map((await queueStats(names, { managementUrl: config.rabbitmqManagementUrl, connection: connect })).map((s) => [s.name, s.messages]));
      return {
        queues: queues.map((q) => ({ name: q.id, depth: q.partitions.reduce((sum, p) => sum + (stats.get(p) ?? 0), 0) })),
        deadLetters: queues.filter((q) => (stats.get(q.dlq) ?? 0) > 0).map((q) => ({ name: q.id, depth: stats.get(q.dlq)! })),
      };
    },
    async close() {
      const c = connection;
      connection = null;
      if (c) await (await c).close().catch(() => undefined);
    },
  };
}

/**
 * Prints a status line every STATUS_EVERY_MS; one line when things go quiet, then none until
 * something happens again.
 */
export function startStatusLine(src: StatusSources, print: (text: string) => void, everyMs = STATUS_EVERY_MS) {
  const pool = new pg.Pool({ connectionString: src.config.databaseUrls.order, max: 1, connectionTimeoutMillis: 2_000 });
  pool.on('error', () => undefined);
  const readOrders = orderReader(pool);
  const queues = queueReader(src.config);
  void readOrders().catch(() => undefined);
  let quiet = false;
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const [orders, broker] = await Promise.all([readOrders().catch(() => null), queues.read().catch(() => ({ queues: null, deadLetters: [] }))]);
      const envs = Object.values(src.environments());
      const window: StatusWindow = {
        seconds: Math.round(everyMs / 1000),
        orders,
        ...broker,
        ...(({ throttled, rateLimited, summarised }) => ({ throttled, rateLimited, summarised }))(src.takeCounters()),
        environments: { busy: envs.reduce((n, e) => n + e.busy, 0), total: envs.reduce((n, e) => n + e.total, 0) },
      };
      const idle = isIdle(window);
      if (!(idle && quiet)) print(idle ? `idle · ${formatStatus(window)}` : formatStatus(window));
      quiet = idle;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await queues.close();
      await pool.end().catch(() => undefined);
    },
  };
}
