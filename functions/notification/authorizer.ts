import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { AuthError, verifyAccessToken } from '../../shared/auth/verify';
import { createLogger } from '../../shared/logger';
import { instrument } from '../../shared/observability';
import { TOKEN_PARAMETER, UNAUTHORIZED, allowConnection } from './domain/authorizer';

const logger = createLogger('notification');

/**
 * The WebSocket API's $connect authorizer (a Lambda REQUEST authorizer, identity source
 * `route.request.querystring.token`): verifies the access token and allows the connection with
 * the caller's principal as context, or fails with "Unauthorized" (401). An issuer whose keys
 * cannot be fetched is an error (500), not a refusal.
 */
export const handler = instrument(async (event: APIGatewayRequestAuthorizerEvent, context?: Context): Promise<APIGatewayAuthorizerResult> => {
  if (context) logger.addContext(context);
  try {
    const principal = await verifyAccessToken(event.queryStringParameters?.[TOKEN_PARAMETER]);
    return allowConnection(principal, event.methodArn);
  } catch (err) {
    if (err instanceof AuthError && err.reason !== 'unavailable') {
      logger.info('connection refused', { reason: err.reason });
      throw new Error(UNAUTHORIZED);
    }
    throw err;
  }
});
