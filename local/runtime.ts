import { FUNCTIONS } from '../functions/catalog';
import { brokerName } from '../shared/config';
import type { Config } from '../shared/config';
import { closePools } from '../shared/db/pool';
import { closeBroker, connectAmqp } from '../shared/messaging/broker';
import { QUEUES } from '../shared/messaging/topology';
import { closeRedis } from '../shared/redis';
import { startHttpGateway } from './http-gateway';
import { invoke } from './lambda';
import { startQueueSource } from './mq-event-source';
import { startWsGateway } from './ws-gateway';

export interface RuntimeOptions {
  host: string;
  httpPort: number;
  wsPort: number;
  /** API Gateway's WebSocket limits (10 min idle, 2 h in all), shortened for tests. */
  wsIdleTimeoutSeconds?: number;
  wsMaxConnectionSeconds?: number;
  /** Overrides every schedule's period (seconds); by default the catalog's own. */
  scheduleSeconds?: number;
  log: (line: string) => void;
  logError: (line: string, err: unknown) => void;
}

/**
 * Points the handlers' API Gateway Management API client at the local gateway, before any handler
 * loads: on AWS the CDK app sets WEBSOCKET_CALLBACK_URL to the stage's callback URL. The real SDK
 * client signs its requests, so it needs credentials and a region; dummy ones do locally.
 */
function useLocalManagementApi(callbackUrl: string) {
  process.env.WEBSOCKET_CALLBACK_URL = callbackUrl;
  process.env.AWS_REGION ??= 'us-east-1';
  if (!process.env.AWS_ACCESS_KEY_ID && !process.env.AWS_PROFILE) {
    process.env.AWS_ACCESS_KEY_ID = 'local';
    process.env.AWS_SECRET_ACCESS_KEY = 'local';
  }
}

/**
 * Runs the catalog's functions on this machine as AWS would: the HTTP API in front of the HTTP
 * handlers, the WebSocket API in front of the websocket handlers, an event source mapping per
 * queue consumer, and the schedules.
 */
export async function startRuntime(config: Config, opts: RuntimeOptions) {
  const stops: (() => Promise<void>)[] = [];
  const ws = await startWsGateway({
    host: opts.host,
    port: opts.wsPort,
    idleTimeoutMs: opts.wsIdleTimeoutSeconds === undefined ? undefined : opts.wsIdleTimeoutSeconds * 1000,
    maxConnectionMs: opts.wsMaxConnectionSeconds === undefined ? undefined : opts.wsMaxConnectionSeconds * 1000,
    onError: (err) => opts.logError('WebSocket gateway error', err),
  });
  stops.push(ws.close);
  useLocalManagementApi(ws.callbackUrl);

  const gateway = await startHttpGateway({
    host: opts.host,
    port: opts.httpPort,
    onError: (err) => opts.logError('HTTP gateway error', err),
  });
  stops.push(gateway.close);

  const connection = await connectAmqp(config.rabbitmqUrl);
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
    wsUrl: ws.url,
    async stop() {
      for (const stop of stops) await stop();
    },
  };
}
