import type { Readable } from 'node:stream';
import { repeatGate } from './console/repeats';
import { FUNCTIONS } from '../functions/catalog';
import type { FunctionSpec } from '../functions/catalog';
import type { Config } from '../shared/config';
import { LAMBDA_ENV } from '../shared/env';
import { createClaimsVerifier } from '../shared/auth/verify';
import { cachingVerifier } from './token-cache';
import { connectAmqp } from '../shared/messaging/broker';
import { amqpUserOf, explainBrokerRefusal } from '../shared/messaging/identity';
import { partitionQueues, deploymentLayout } from '../functions/topology';
import { startHttpGateway } from './http-gateway';
import { bundleFunctions } from './bundles';
import { invoke, useEnvironments } from './lambda';
import { startQueueSource } from './mq-event-source';
import { catalogAuthorizer, startWsGateway } from './ws-gateway';
import { functionEnvironment } from './identities/environment';
import { sourceUrlOf } from './identities/urls';

export interface RuntimeOptions {
  /** The OpenID Connect issuer and client id whose access tokens open the APIs. */
  auth: { issuer: string; audience: string };
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
  /** The console's hooks on a terminal (local/console/): it reads the environments' output and counts refused requests. */
  observe?: {
    output?: (functionId: string, kind: FunctionSpec['trigger']['kind'], stdout: Readable, stderr: Readable) => void;
    refused?: (why: 'throttled' | 'rate-limited') => void;
  };
}

/**
 * What every environment needs besides the local configuration: the handlers' API Gateway
 * Management API client points at the local gateway (on AWS the CDK app sets
 * WEBSOCKET_CALLBACK_URL to the stage's callback URL). The real SDK client signs its requests, so it
 * needs credentials and a region; dummy ones do locally.
 */
function environmentVariables(callbackUrl: string, auth: RuntimeOptions['auth']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [LAMBDA_ENV.websocketCallbackUrl]: callbackUrl,
    [LAMBDA_ENV.authIssuer]: auth.issuer,
    [LAMBDA_ENV.authAudience]: auth.audience,
  };
  env.AWS_REGION ??= 'us-east-1';
  if (!env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE) {
    env.AWS_ACCESS_KEY_ID = 'local';
    env.AWS_SECRET_ACCESS_KEY = 'local';
  }
  return env;
}

/**
 * Runs the catalog's functions on this machine as AWS would: each in execution environments of
 * its own (local/lambda.ts), the HTTP API in front of the HTTP handlers, the WebSocket API in front
 * of the websocket handlers, an event source mapping per queue partition, and the schedules.
 */
export async function startRuntime(config: Config, opts: RuntimeOptions) {
  const stops: (() => Promise<void>)[] = [];
  const ws = await startWsGateway({
    host: opts.host,
    port: opts.wsPort,
    idleTimeoutMs: opts.wsIdleTimeoutSeconds === undefined ? undefined : opts.wsIdleTimeoutSeconds * 1000,
    maxConnectionMs: opts.wsMaxConnectionSeconds === undefined ? undefined : opts.wsMaxConnectionSeconds * 1000,
    authorizer: catalogAuthorizer(),
    onError: (err) => opts.logError('WebSocket gateway error', err),
  });
  stops.push(ws.close);
  const started = Date.now();
  const bundles = await bundleFunctions(FUNCTIONS.filter((f) => f.trigger.kind !== 'deploy'));
  opts.log(`functions bundled (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  const environments = useEnvironments({
    bundles,
    env: environmentVariables(ws.callbackUrl, opts.auth),
    // Each function reaches the broker, Redis and its databases as its own identities only.
    envOf: (spec) => functionEnvironment(spec, config),
    nodeArgs: process.env.FUNCTION_NODE_ARGS?.split(' ').filter(Boolean),
    output: opts.observe?.output && ((spec, stdout, stderr) => opts.observe!.output!(spec.id, spec.trigger.kind, stdout, stderr)),
    logError: opts.logError,
  });

  const gateway = await startHttpGateway({
    host: opts.host,
    port: opts.httpPort,
    // As API Gateway's JWT authorizer: signature, issuer, audience, expiry, not the token's use.
    verifyClaims: cachingVerifier(createClaimsVerifier({ ...opts.auth, accessTokensOnly: false })),
    onError: (err) => opts.logError('HTTP gateway error', err),
    log: opts.log,
    onRefused: opts.observe?.refused,
  });
  stops.push(gateway.close);

  const layout = deploymentLayout();
  for (const spec of FUNCTIONS) {
    const t = spec.trigger;
    if (t.kind === 'queue') {
      for (const queue of partitionQueues(t.queue, config.namespace, layout)) {
        const source = await startQueueSource({
          // As the queue's own event source user, which may only read its partitions.
          connect: () =>
            connectAmqp(sourceUrlOf(config, t.queue)).catch((err: Error) => {
              throw explainBrokerRefusal(err, amqpUserOf(sourceUrlOf(config, t.queue)), 'read') ?? err;
            }),
          queue,
          batchSize: t.batchSize,
          // Lambda's default window for Amazon MQ is 500 ms; the catalog sets it explicitly.
          batchWindowMs: t.batchWindowSeconds * 1000,
          invoke: (event) => invoke(spec, event),
          onBatchError: (err, size) => opts.logError(`${spec.id} (${queue}): batch of ${size} failed and is requeued`, err),
          log: opts.log,
        });
        stops.unshift(source.stop);
      }
    } else if (t.kind === 'schedule') {
      const everyMs = (opts.scheduleSeconds ?? t.everyMinutes * 60) * 1000;
      let busy = false;
      // A schedule that fails the same way run after run (its database full or read-only) is said
      // once, then once more when it works again, rather than with a stack trace every run.
      const repeats = repeatGate();
      const timer = setInterval(async () => {
        if (busy) return;
        busy = true;
        await invoke(spec, { source: 'aws.events', 'detail-type': 'Scheduled Event', time: new Date().toISOString() })
          .then(() => {
            const failed = repeats.succeeded();
            if (failed > 0) opts.log(`${spec.id} works again, after ${failed} failed run(s)`);
          })
          .catch((err) => {
            if (repeats.failed(err instanceof Error ? err.message : String(err))) opts.logError(`${spec.id} failed (said once while it fails the same way)`, err);
          })
          .finally(() => (busy = false));
      }, everyMs);
      stops.push(async () => clearInterval(timer));
    }
  }
  stops.push(environments.stop);

  return {
    httpUrl: gateway.url,
    wsUrl: ws.url,
    environments: environments.stats,
    async stop() {
      for (const stop of stops) await stop();
    },
  };
}
