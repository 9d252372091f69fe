import http from 'node:http';
import https from 'node:https';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { LAMBDA_ENV } from '../../shared/env';
import { DELIVERY_CONCURRENCY } from './delivery';

/** A connection that no longer exists (410), named as the SDK names it. */
export class GoneException extends Error {
  override readonly name = 'GoneException';
  readonly $metadata = { httpStatusCode: 410 };
}

/** Any other refusal of the Management API: its status and error type. */
export class ManagementApiError extends Error {
  override readonly name = 'ManagementApiError';
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
  ) {
    super(`PostToConnection answered ${status} ${errorType}: ${message}`);
  }
}

/** A client that stops reading must not hold a sender for long; what it misses it can resume. */
const CONNECT_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 5_000;

type Signer = Awaited<ReturnType<ApiGatewayManagementApiClient['config']['signer']>>;

interface Poster {
  url: URL;
  signer: Promise<Signer>;
  agent: http.Agent;
  request: typeof http.request;
}

let poster: Poster | undefined;

/**
 * PostToConnection as a signed HTTP request of our own (docs/decisions.md): the SDK client's
 * `send` spends about 0.4 ms of CPU per call in its middleware stack (endpoint rules, schema,
 * retry, user agent) against about 0.15 ms for the same signed request (bench/post-cost.ts), and
 * a fan-out makes one call per connection per batch. The signer is the SDK client's own SigV4
 * signer, with its credential chain (and refresh), region and hash: nothing of the SDK is bundled,
 * since the Lambda runtime provides it. WEBSOCKET_CALLBACK_URL is the stage's callback URL on AWS
 * and the local runtime's management endpoint on a workstation.
 */
function managementApi(): Poster {
  if (!poster) {
    const endpoint = process.env[LAMBDA_ENV.websocketCallbackUrl];
    if (!endpoint) throw new Error('WEBSOCKET_CALLBACK_URL is not set: the WebSocket stage callback URL');
    const url = new URL(endpoint);
    const { config } = new ApiGatewayManagementApiClient({ endpoint });
    const secure = url.protocol === 'https:';
    const options = { keepAlive: true, maxSockets: DELIVERY_CONCURRENCY };
    poster = { url, signer: config.signer(), agent: secure ? new https.Agent(options) : new http.Agent(options), request: secure ? https.request : http.request };
    // A signer that could not be made is made again by the next call.
    poster.signer.catch(() => (poster = undefined));
  }
  return poster;
}

export async function postToConnection(connectionId: string, data: string): Promise<void> {
  const { url, signer, agent, request } = managementApi();
  // The stage's path, then the operation's, with the id encoded as the SDK encodes a label.
  const path = `${url.pathname.replace(/\/$/, '')}/@connections/${encodeURIComponent(connectionId)}`;
  const body = Buffer.from(data);
  const signed = await (await signer).sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path,
    query: {},
    headers: { host: url.host, 'content-type': 'application/json', 'content-length': String(body.length) },
    body,
  });
  await new Promise<void>((resolve, reject) => {
    const req = request(
      { hostname: url.hostname, port: url.port || undefined, path, method: 'POST', headers: signed.headers, agent, timeout: CONNECT_TIMEOUT_MS, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
      (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          if (status >= 200 && status < 300) return resolve();
          const text = Buffer.concat(chunks).toString();
          let message = text;
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? text;
          } catch {
            // not JSON: the text as it came
          }
          const type = String(res.headers['x-amzn-errortype'] ?? '').split(':')[0] || `HTTP ${status}`;
          reject(status === 410 ? new GoneException(message) : new ManagementApiError(status, type, message));
        });
      },
    );
    // `timeout` bounds a socket that stays silent (no connection made, no answer); the signal the whole call.
    req.on('timeout', () => req.destroy(new Error(`PostToConnection: no answer within ${CONNECT_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** 410: the connection no longer exists. Checked by name too, in case the error crossed a bundle boundary. */
export function isGone(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'GoneException' || e?.$metadata?.httpStatusCode === 410;
}
