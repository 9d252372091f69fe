import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { LAMBDA_ENV } from '../../shared/env';
import { DELIVERY_CONCURRENCY } from './delivery';

let client: ApiGatewayManagementApiClient | undefined;

/**
 * The API Gateway Management API of the WebSocket stage. WEBSOCKET_CALLBACK_URL is the stage's
 * callback URL on AWS and the local runtime's management endpoint on a workstation.
 */
function managementApi(): ApiGatewayManagementApiClient {
  if (!client) {
    const endpoint = process.env[LAMBDA_ENV.websocketCallbackUrl];
    if (!endpoint) throw new Error('WEBSOCKET_CALLBACK_URL is not set: the WebSocket stage callback URL');
    const pool = { keepAlive: true, maxSockets: DELIVERY_CONCURRENCY };
    client = new ApiGatewayManagementApiClient({
      endpoint,
      // A client that stops reading must not hold a sender for long; what it misses it can resume.
      requestHandler: { httpAgent: pool, httpsAgent: pool, connectionTimeout: 3_000, requestTimeout: 5_000 },
    });
  }
  return client;
}

export async function postToConnection(connectionId: string, data: string): Promise<void> {
  await managementApi().send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
}

/** 410: the connection no longer exists. Checked by name too, in case the error crossed a bundle boundary. */
export function isGone(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'GoneException' || e?.$metadata?.httpStatusCode === 410;
}
