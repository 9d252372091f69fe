import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer, WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration, WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IDependable } from 'constructs';
import { DEFAULT_ROUTE_THROTTLE, HTTP_API_CORS, ROUTE_THROTTLES, accessOf, type FunctionSpec, type RouteKey, type WebSocketRoute } from '../functions/catalog';
import type { CatalogFunctions } from './functions';
import { HTTP_API_ACCESS_LOG_FORMAT } from './http-access-log';
import type { Settings } from './settings';

export interface ApisProps {
  specs: FunctionSpec[];
  functions: CatalogFunctions;
  settings: Settings;
  /** Routes take traffic only once these exist (the database schemas). */
  prerequisites: IDependable[];
  /** Whose access tokens open the routes that are not public: the user pool and the dashboard's client. */
  jwt: { issuer: string; audience: string };
}

/** The HTTP API (catalog routes) and the WebSocket API (catalog websocket routes). */
export class Apis extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  readonly httpStage: apigwv2.HttpStage;
  readonly webSocketApi: apigwv2.WebSocketApi;
  readonly webSocketStage: apigwv2.WebSocketStage;
  /** Route key -> id of the function that serves it, for both APIs. */
  readonly routes = new Map<string, string>();
  /** Checks the access token of every HTTP route whose catalog access is not 'public'. */
  readonly jwtAuthorizer: HttpJwtAuthorizer;
  /** HTTP routes anyone may call (catalog access 'public'), by route key. */
  readonly publicRoutes = new Map<string, apigwv2.HttpRoute>();

  constructor(scope: Construct, id: string, props: ApisProps) {
    super(scope, id);
    const { specs, functions, settings } = props;

    this.httpApi = new apigwv2.HttpApi(this, 'Http', {
      apiName: `eventflow-${settings.env}`,
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: HTTP_API_CORS.allowOrigins,
        allowMethods: HTTP_API_CORS.allowMethods.map((m) => m as apigwv2.CorsHttpMethod),
        allowHeaders: HTTP_API_CORS.allowHeaders,
        exposeHeaders: HTTP_API_CORS.exposeHeaders,
        maxAge: Duration.seconds(HTTP_API_CORS.maxAgeSeconds),
      },
    });
    this.httpStage = new apigwv2.HttpStage(this, 'HttpStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      // Each route's budget, all callers together; ROUTE_THROTTLES' routes have their own (below).
      throttle: { rateLimit: DEFAULT_ROUTE_THROTTLE.ratePerSecond, burstLimit: DEFAULT_ROUTE_THROTTLE.burst },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.logGroup('HttpAccessLogs', settings)),
        // HTTP API variables only (lib/http-access-log.ts); custom() merely carries the string.
        format: AccessLogFormat.custom(HTTP_API_ACCESS_LOG_FORMAT),
      },
    });

    // API Gateway answers 401 before a function runs when the token is missing, expired, from another
    // issuer or for another client (Cognito access tokens carry the client id as client_id, not aud).
    // Roles are the handlers' business: they read cognito:groups from the claims passed on.
    this.jwtAuthorizer = new HttpJwtAuthorizer('Jwt', props.jwt.issuer, {
      authorizerName: 'access-token',
      jwtAudience: [props.jwt.audience],
    });
    const open = new apigwv2.HttpNoneAuthorizer();
    const throttled: apigwv2.HttpRoute[] = [];

    const wsHandlers = new Map<WebSocketRoute, { integration: WebSocketLambdaIntegration; twoWay: boolean }>();
    let connectAuthorizer: WebSocketLambdaAuthorizer | undefined;
    for (const spec of specs) {
      const fn = functions.get(spec.id);
      if (spec.trigger.kind === 'http') {
        // One invoke permission per function for this API, not one per route: the function serves
        // only the routes integrated with it either way, and a permission per route took the prod
        // stack toward CloudFormation's 500 resources.
        const integration = new HttpLambdaIntegration(`${spec.id}-integration`, fn, { scopePermissionToRoute: false });
        for (const routeKey of spec.trigger.routes) {
          const [method, routePath] = routeKey.split(' ') as [string, string];
          const isPublic = accessOf(routeKey) === 'public';
          for (const route of this.httpApi.addRoutes({
            path: routePath,
            methods: [method as apigwv2.HttpMethod],
            integration,
            authorizer: isPublic ? open : this.jwtAuthorizer,
          })) {
            route.node.addDependency(...props.prerequisites);
            if (isPublic) this.publicRoutes.set(routeKey, route);
            if (ROUTE_THROTTLES[routeKey]) throttled.push(route);
          }
          this.claim(routeKey, spec.id);
        }
      } else if (spec.trigger.kind === 'websocket') {
        const integration = new WebSocketLambdaIntegration(`${spec.id}-integration`, fn);
        for (const route of spec.trigger.routes) {
          wsHandlers.set(route, { integration, twoWay: spec.trigger.twoWay && route !== '$connect' && route !== '$disconnect' });
          this.claim(route, spec.id);
        }
      } else if (spec.trigger.kind === 'websocket-authorizer') {
        // The access token of a WebSocket comes as ?token= (browsers cannot set its headers).
        connectAuthorizer = new WebSocketLambdaAuthorizer('ConnectAuthorizer', fn, { identitySource: spec.trigger.identitySource });
      }
    }

    // Per-route budgets: the stage's RouteSettings, keyed by route key (AWS::ApiGatewayV2::Stage;
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html). API
    // Gateway refuses settings for a route that does not exist yet, so the stage comes after them.
    // RouteSettings is untyped JSON to CloudFormation: its keys go through as written, so CloudFormation's own casing.
    const cfnStage = this.httpStage.node.defaultChild as apigwv2.CfnStage;
    cfnStage.routeSettings = Object.fromEntries(
      (Object.entries(ROUTE_THROTTLES) as [RouteKey, { ratePerSecond: number; burst: number }][]).map(([routeKey, t]) => [
        routeKey,
        { ThrottlingRateLimit: t.ratePerSecond, ThrottlingBurstLimit: t.burst },
      ]),
    );
    for (const route of throttled) this.httpStage.node.addDependency(route);

    // A two-way route gets a route response: only then does API Gateway pass the handler's reply on.
    const routeOptions = (route: WebSocketRoute) => {
      const handler = wsHandlers.get(route);
      return handler ? { integration: handler.integration, ...(handler.twoWay ? { returnResponse: true } : {}) } : undefined;
    };
    this.webSocketApi = new apigwv2.WebSocketApi(this, 'WebSocket', {
      apiName: `eventflow-${settings.env}-ws`,
      connectRouteOptions: { ...routeOptions('$connect')!, ...(connectAuthorizer ? { authorizer: connectAuthorizer } : {}) },
      disconnectRouteOptions: routeOptions('$disconnect'),
      defaultRouteOptions: routeOptions('$default'),
    });
    this.webSocketStage = new apigwv2.WebSocketStage(this, 'WebSocketStage', {
      webSocketApi: this.webSocketApi,
      stageName: settings.env,
      autoDeploy: true,
      throttle: { rateLimit: 100, burstLimit: 200 },
    });
  }

  /** The HTTP API's base URL (https://{id}.execute-api.{region}.amazonaws.com/). */
  get httpUrl(): string {
    return this.httpStage.url;
  }

  /** wss://{id}.execute-api.{region}.amazonaws.com/{stage} */
  get webSocketUrl(): string {
    return this.webSocketStage.url;
  }

  private claim(routeKey: string, functionId: string): void {
    const owner = this.routes.get(routeKey);
    if (owner) throw new Error(`route ${routeKey} is served by both ${owner} and ${functionId}`);
    this.routes.set(routeKey, functionId);
  }

  private logGroup(id: string, settings: Settings): logs.LogGroup {
    return new logs.LogGroup(this, id, { retention: settings.logRetention, removalPolicy: RemovalPolicy.DESTROY });
  }
}
