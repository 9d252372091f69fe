import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration, WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IDependable } from 'constructs';
import { HTTP_API_CORS, type FunctionSpec, type WebSocketRoute } from '../functions/catalog';
import type { CatalogFunctions } from './functions';
import { HTTP_API_ACCESS_LOG_FORMAT } from './http-access-log';
import type { Settings } from './settings';

export interface ApisProps {
  specs: FunctionSpec[];
  functions: CatalogFunctions;
  settings: Settings;
  /** Routes take traffic only once these exist (the database schemas). */
  prerequisites: IDependable[];
}

/** The HTTP API (catalog routes) and the WebSocket API (catalog websocket routes). */
export class Apis extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  readonly httpStage: apigwv2.HttpStage;
  readonly webSocketApi: apigwv2.WebSocketApi;
  readonly webSocketStage: apigwv2.WebSocketStage;
  /** Route key -> id of the function that serves it, for both APIs. */
  readonly routes = new Map<string, string>();

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
      throttle: { rateLimit: 100, burstLimit: 200 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.logGroup('HttpAccessLogs', settings)),
        // HTTP API variables only (lib/http-access-log.ts); custom() merely carries the string.
        format: AccessLogFormat.custom(HTTP_API_ACCESS_LOG_FORMAT),
      },
    });

    const wsHandlers = new Map<WebSocketRoute, { integration: WebSocketLambdaIntegration; twoWay: boolean }>();
    let connectAuthorizer: WebSocketLambdaAuthorizer | undefined;
    for (const spec of specs) {
      const fn = functions.get(spec.id);
      if (spec.trigger.kind === 'http') {
        const integration = new HttpLambdaIntegration(`${spec.id}-integration`, fn);
        for (const routeKey of spec.trigger.routes) {
          const [method, routePath] = routeKey.split(' ') as [string, string];
          for (const route of this.httpApi.addRoutes({
            path: routePath,
            methods: [method as apigwv2.HttpMethod],
            integration,
          })) {
            route.node.addDependency(...props.prerequisites);
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
