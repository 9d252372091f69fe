import amqp from 'amqplib';
import { FUNCTIONS } from '../functions/catalog';
import { brokerName } from '../shared/config';
import type { Config } from '../shared/config';
import { closePools } from '../shared/db/pool';
import { closeBroker } from '../shared/messaging/broker';
import { QUEUES } from '../shared/messaging/topology';
import { closeRedis } from '../shared/redis';
import { startHttpGateway } from './http-gateway';
import { invoke } from './lambda';
import { startQueueSource } from './mq-event-source';

export interface RuntimeOptions {
  host: string;
  httpPort: number;
  /** Overrides every schedule's period (seconds); by default the catalog's own. */
  scheduleSeconds?: number;
  log: (line: string) => void;
  logError: (line: string, err: unknown) => void;
}

/**
 * Runs the catalog's functions on this machine as AWS would: the HTTP API in front of the HTTP
 * handlers, an event source mapping per queue consumer, and the schedules.
 */
export async function startRuntime(config: Config, opts: RuntimeOptions) {
  const stops: (() => Promise<void>)[] = [];
  const gateway = await startHttpGateway({
    host: opts.host,
    port: opts.httpPort,
    onError: (err) => opts.logError('HTTP gateway error', err),
  });
  stops.push(gateway.close);

  const connection = await amqp.connect(config.rabbitmqUrl);
  connection.on('error', (err) => opts.logError('event source connection error', err));
  for (const spec of FUNCTIONS) {
    const t = spec.trigger;
    if (t.kind === 'queue') {
      const queue = brokerName(QUEUES[t.queue].name, config.namespace);
      const source = await startQueueSource({
        connection,
        queue,
        batchSize: t.batchSize,
        // Lambda's default window for Amazon MQ is 500 ms; the catalog sets it explicitly.
        batchWindowMs: t.batchWindowSeconds * 1000,
        invoke: (event) => invoke(spec, event),
        onBatchError: (err, size) => opts.logError(`${spec.id}: batch of ${size} failed and is requeued`, err),
      });
      stops.unshift(source.stop);
    } else if (t.kind === 'schedule') {
      const everyMs = (opts.scheduleSeconds ?? t.everyMinutes * 60) * 1000;
      let busy = false;
      const timer = setInterval(async () => {
        if (busy) return;
        busy = true;
        await invoke(spec, { source: 'aws.events', 'detail-type': 'Scheduled Event', time: new Date().toISOString() })
          .catch((err) => opts.logError(`${spec.id} failed`, err))
          .finally(() => (busy = false));
      }, everyMs);
      stops.push(async () => clearInterval(timer));
    }
  }
  stops.push(() => connection.close().catch(() => undefined));
  stops.push(async () => {
    await Promise.all([closePools(), closeBroker(), closeRedis()]);
  });

  return {
    httpUrl: gateway.url,
    async stop() {
      for (const stop of stops) await stop();
    },
  };
}
