import { CfnOutput, Lazy, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { FunctionSpec } from '../functions/catalog';
import { Apis } from './apis';
import { Auth } from './auth';
import { Broker } from './broker';
import { Cache } from './cache';
import { Databases } from './data';
import { DeployHooks } from './deploy-hooks';
import { EsmCleanup } from './esm-cleanup';
import { EventSources } from './event-sources';
import { CatalogFunctions } from './functions';
import { Monitoring } from './monitoring';
import { EventLogArchive } from './archive';
import { Network } from './network';
import type { Settings } from './settings';
import { WebSite } from './web';

export interface EventFlowStackProps extends StackProps {
  settings: Settings;
  specs: FunctionSpec[];
}

/**
 * Everything but the dashboard's files: network, broker, databases, cache, the catalog's functions,
 * both APIs, sign-in, the dashboard's distribution, alarms. The distribution is here, not in the web
 * stack, because the sign-in client registers its URL and the API's authorizer names that client.
 */
export class EventFlowStack extends Stack {
  readonly network: Network;
  readonly broker: Broker;
  readonly databases: Databases;
  readonly cache: Cache;
  readonly functions: CatalogFunctions;
  readonly hooks: DeployHooks;
  readonly eventSources: EventSources;
  readonly esmCleanup: EsmCleanup;
  readonly apis: Apis;
  readonly auth: Auth;
  readonly site: WebSite;
  readonly monitoring: Monitoring;
  readonly archive: EventLogArchive;

  constructor(scope: Construct, id: string, props: EventFlowStackProps) {
    super(scope, id, props);
    const { settings, specs } = props;
    // Each AWS deployment has its own broker and databases, so no namespace is needed there.
    const namespace = '';
    this.network = new Network(this, 'Network', settings);
    const vpc = this.network.vpc;
    this.broker = new Broker(this, 'Broker', { vpc, settings });
    this.databases = new Databases(this, 'Data', { vpc, settings, specs });
    this.cache = new Cache(this, 'Cache', { vpc, settings });
    this.functions = new CatalogFunctions(this, 'Functions', {
      specs,
      settings,
      vpc,
      databases: this.databases,
      broker: this.broker,
      cache: this.cache,
    });
    this.hooks = new DeployHooks(this, 'DeployHooks', { specs, functions: this.functions, settings, namespace });
    // The hooks connect to the databases and the broker: their security-group openings (children of
    // these constructs) must exist first, not just the functions.
    this.hooks.node.addDependency(this.databases, this.broker);
    const migrations = this.hooks.byPurpose.get('migrations');
    this.eventSources = new EventSources(this, 'EventSources', {
      specs,
      functions: this.functions,
      broker: this.broker,
      namespace,
      partitions: settings.partitions,
      // Queues must exist before a mapping points at one, or Lambda disables the mapping.
      prerequisites: this.hooks.hooks,
    });
    this.esmCleanup = new EsmCleanup(this, 'EsmCleanup', { settings });
    for (const [mappingId, mapping] of this.eventSources.mappings) {
      const consumer = this.eventSources.consumerOf.get(mappingId)!;
      this.esmCleanup.guard(mappingId, mapping, {
        role: this.functions.get(consumer).role!,
        target: this.eventSources.targetOf.get(mappingId)!,
        brokerArn: this.broker.arn,
        securityGroupId: this.broker.securityGroup.securityGroupId,
      });
    }
    this.functions.connectEventSources(this.eventSources.mappings);
    this.archive = new EventLogArchive(this, 'Archive', { settings });
    this.functions.connectArchive(this.archive.bucket);
    this.auth = new Auth(this, 'Auth', { settings });
    // The client registers the distribution's URL, and the distribution's CSP names the APIs: the
    // client id is read once everything exists.
    const jwt = { issuer: this.auth.issuerUrl, audience: Lazy.string({ produce: () => this.auth.dashboardClient.userPoolClientId }) };
    // The WebSocket authorizer verifies tokens itself: the same issuer and client as the HTTP API's.
    this.functions.connectAuth(jwt);
    this.apis = new Apis(this, 'Apis', {
      specs,
      functions: this.functions,
      settings,
      prerequisites: migrations ? [migrations] : [],
      jwt,
    });
    this.site = new WebSite(this, 'Site', {
      settings,
      connect: { apiUrl: this.apis.httpUrl, wsUrl: this.apis.webSocketUrl, signIn: [this.auth.issuerOrigin, this.auth.signInBaseUrl] },
    });
    this.auth.addDashboardClient(this.site.url);
    this.functions.connectWebSocket(this.apis.webSocketStage.callbackUrl, (fn) =>
      this.apis.webSocketStage.grantManagementApiAccess(fn),
    );
    this.monitoring = new Monitoring(this, 'Monitoring', {
      specs,
      settings,
      functions: this.functions,
      databases: this.databases,
      broker: this.broker,
      apis: this.apis,
      namespace,
      mappedFunctions: [...this.eventSources.mappings.keys()],
    });

    new CfnOutput(this, 'HttpApiUrl', { value: this.apis.httpUrl, description: 'EventFlow HTTP API' });
    new CfnOutput(this, 'WebSocketUrl', { value: this.apis.webSocketUrl, description: 'EventFlow WebSocket API' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn, description: 'SNS topic of every EventFlow alarm' });
    new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId, description: 'Cognito user pool: create users here and add them to a group' });
    new CfnOutput(this, 'DashboardClientId', { value: this.auth.dashboardClient.userPoolClientId, description: 'Cognito app client of the dashboard' });
    new CfnOutput(this, 'SignInUrl', { value: this.auth.signInBaseUrl, description: 'Cognito hosted sign-in pages and token endpoint' });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName, description: 'CloudWatch dashboard' });
  }
}
