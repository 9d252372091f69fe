/**
 * The HTTP API stage's access-log format, built from HTTP API variables only. API Gateway refuses
 * a stage whose format uses a variable HTTP APIs lack (the REST API module's standard format has
 * $context.resourcePath), and that failure would roll back a whole first deploy.
 */

/**
 * Every `$context` variable HTTP API access logs support, as the API Gateway Developer Guide lists
 * them ("Customizing HTTP API access logs", http-api-logging-variables). `{property}` stands for a
 * name of the caller's choosing.
 */
export const HTTP_API_LOG_VARIABLES = [
  'accountId',
  'apiId',
  'authorizer.claims.{property}',
  'authorizer.error',
  'authorizer.principalId',
  'authorizer.{property}',
  'awsEndpointRequestId',
  'awsEndpointRequestId2',
  'customDomain.basePathMatched',
  'dataProcessed',
  'domainName',
  'domainPrefix',
  'error.message',
  'error.messageString',
  'error.responseType',
  'extendedRequestId',
  'httpMethod',
  'identity.accountId',
  'identity.caller',
  'identity.cognitoAuthenticationProvider',
  'identity.cognitoAuthenticationType',
  'identity.cognitoIdentityId',
  'identity.cognitoIdentityPoolId',
  'identity.principalOrgId',
  'identity.clientCert.clientCertPem',
  'identity.clientCert.subjectDN',
  'identity.clientCert.issuerDN',
  'identity.clientCert.serialNumber',
  'identity.clientCert.validity.notBefore',
  'identity.clientCert.validity.notAfter',
  'identity.sourceIp',
  'identity.user',
  'identity.userAgent',
  'identity.userArn',
  'integration.error',
  'integration.integrationStatus',
  'integration.latency',
  'integration.requestId',
  'integration.status',
  'integrationErrorMessage',
  'integrationLatency',
  'integrationStatus',
  'path',
  'protocol',
  'requestId',
  'requestTime',
  'requestTimeEpoch',
  'responseLatency',
  'responseLength',
  'routeKey',
  'stage',
  'status',
] as const;

/** One JSON object per request. Numbers that may be "-" (absent) stay strings. */
const FIELDS: Record<string, (typeof HTTP_API_LOG_VARIABLES)[number]> = {
  requestId: 'requestId',
  extendedRequestId: 'extendedRequestId',
  requestTime: 'requestTime',
  requestTimeEpoch: 'requestTimeEpoch',
  sourceIp: 'identity.sourceIp',
  userAgent: 'identity.userAgent',
  httpMethod: 'httpMethod',
  routeKey: 'routeKey',
  path: 'path',
  protocol: 'protocol',
  status: 'status',
  responseLength: 'responseLength',
  responseLatency: 'responseLatency',
  integrationStatus: 'integrationStatus',
  integrationLatency: 'integrationLatency',
  integrationError: 'integrationErrorMessage',
  error: 'error.message',
  errorType: 'error.responseType',
  domainName: 'domainName',
  stage: 'stage',
};

export const HTTP_API_ACCESS_LOG_FORMAT = JSON.stringify(Object.fromEntries(Object.entries(FIELDS).map(([key, v]) => [key, `$context.${v}`])));

/** The `$context.…` variables a format uses. */
export function contextVariables(format: string): string[] {
  return [...format.matchAll(/\$context\.([A-Za-z0-9_.]+)/g)].map((m) => m[1]!);
}

/** Whether a variable is one HTTP APIs support (a `{property}` entry matches any single name there). */
export function isHttpApiLogVariable(variable: string): boolean {
  return HTTP_API_LOG_VARIABLES.some((known) => {
    if (!known.includes('{property}')) return known === variable;
    const prefix = known.slice(0, known.indexOf('{property}'));
    return variable.startsWith(prefix) && /^[A-Za-z0-9_]+$/.test(variable.slice(prefix.length));
  });
}
