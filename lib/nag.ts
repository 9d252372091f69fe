import { createHash } from 'node:crypto';
import { Stack, Validations, type App, type CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { EventFlowStack } from './eventflow-stack';
import type { Settings } from './settings';
import type { WebStack } from './web-stack';

/**
 * cdk-nag AwsSolutions checks, run as a policy-validation plugin: any unacknowledged error stops
 * synthesis and lands in the cloud assembly's validation report. Every acknowledgment below is
 * scoped to the constructs that raise it and says why it is accepted.
 */
export function addNagChecks(app: App, stacks: { backend: EventFlowStack; web: WebStack; settings: Settings }): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  acknowledgeBackend(stacks.backend, stacks.settings);
  acknowledgeSite(stacks.backend);
  acknowledgeArchive(stacks.backend);
  acknowledgeWeb(stacks.web, stacks.backend);
}

const ack = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });

/**
 * How a value of the backend reads in the web stack, where it arrives as a weak reference:
 * Fn::GetStackOutput of the output aws-cdk-lib publishes for it at synthesis (core's refs.js:
 * construct "Publish/Output<the value, resolved>" of the producing stack, whose logical id is its
 * path without symbols plus the path's MD5). References resolve only after these acknowledgements
 * are made, so the name is computed the same way; the nag test fails if aws-cdk-lib changes it.
 */
function weakReference(producer: Stack, value: string): string {
  const path = ['Publish', `Output${JSON.stringify(producer.resolve(value))}`];
  const hash = createHash('md5').update(path.join('/')).digest('hex').slice(0, 8).toUpperCase();
  const outputName = `${path.join('').replace(/[^A-Za-z0-9]/g, '')}${hash}`;
  return JSON.stringify({ 'Fn::GetStackOutput': { StackName: producer.stackName, Region: { Ref: 'AWS::Region' }, OutputName: outputName } });
}

const logicalId = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnResource);

function acknowledgeBackend(stack: EventFlowStack, settings: Settings): void {
  const { broker, databases, cache, functions, hooks, apis, esmCleanup } = stack;
  const basicRole = 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
  const vpcRole = 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]';

  ack(broker.secret, 'AwsSolutions-SMG4',
    'Amazon MQ has no Secrets Manager rotation integration: the admin password is set on the broker at creation and must be changed through the broker API.');
  for (const db of databases.instances) {
    ack(db.node.findChild('Secret'), 'AwsSolutions-SMG4',
      'Single-user rotation would change the password under warm functions that resolved it at cold start; rotation waits for the alternating-users scheme.');
  }
  for (const secret of broker.userSecrets.values()) {
    ack(secret, 'AwsSolutions-SMG4',
      'A broker user\'s password is set on the broker by the topology hook at deploy time; rotating it needs the broker changed in step (the hook re-run), which Secrets Manager rotation does not do.');
  }
  for (const secret of cache.userSecrets.values()) {
    ack(secret, 'AwsSolutions-SMG4',
      'ElastiCache RBAC passwords have no managed rotation; changing it means a second password on the user first, which warm functions (reading it at cold start) need.');
  }
  ack(databases, 'AwsSolutions-RDS11',
    'The port is reachable only from the security groups of the functions (or the RDS Proxy) that use the database; a non-default port adds no protection.');
  if (!settings.protectData) {
    ack(databases, 'AwsSolutions-RDS3', 'dev runs single-AZ to stay cheap and disposable; prod is Multi-AZ.');
    ack(databases, 'AwsSolutions-RDS10', 'dev is meant to be destroyed with `cdk destroy`; prod has deletion protection.');
  }

  // Each catalog function on its own, each wildcard with the reason it has one.
  for (const [id, fn] of functions.functions) {
    const spec = functions.specOf(id);
    ack(fn, basicRole, 'Grants only log-stream writes; the function log groups are the ones CDK creates per function.');
    ack(fn, vpcRole, 'ENI management for a VPC function; these EC2 actions do not support resource-level permissions.');
    ack(fn, 'AwsSolutions-L1',
      'Node.js 22 is the runtime the code is built (esbuild target node22) and tested for; moving to 24 is a deliberate upgrade.');
    const wildcards = ['X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords take no resource ARN'];
    if (spec.trigger.kind === 'queue') {
      wildcards.push('the Amazon MQ event source: ec2:DescribeSecurityGroups and ec2:DescribeVpcs take no resource ARN');
    }
    ack(fn, 'AwsSolutions-IAM5[Resource::*]', `${wildcards.join('; ')}.`);
    if (spec.uses.websocketCallback) {
      ack(fn,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${logicalId(apis.webSocketApi)}>/${apis.webSocketStage.stageName}/*/@connections/*]`,
        'Posting to WebSocket connections: connection ids exist only at run time; scoped to this API and stage.');
    }
  }

  const framework = 'CDK custom-resource provider framework';
  for (const hook of hooks.hooks) {
    const provider = hook.node.scope!.node.findChild(`${hook.node.id}-provider`);
    const fnId = logicalId(functions.get(hook.node.id));
    ack(provider, basicRole, `${framework} function: log writes only.`);
    ack(provider, `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`, 'The provider framework may invoke any version of the one handler function it fronts.');
    ack(provider, 'AwsSolutions-L1', 'Runtime chosen by the CDK provider framework, not by this app.');
  }

  // The event source mappings' clean-up (lib/esm-cleanup.ts) and its provider's waiter.
  for (const fn of [esmCleanup.onEvent, esmCleanup.isComplete]) {
    ack(fn, basicRole, 'Clean-up handler: the basic execution role grants log writes only.');
    ack(fn, 'AwsSolutions-L1', 'Node.js 22, as every function of this app.');
  }
  ack(esmCleanup.isComplete, 'AwsSolutions-IAM5[Resource::*]', 'ec2:DescribeNetworkInterfaces and lambda:ListEventSourceMappings take no resource ARN.');
  const provider = esmCleanup.node.findChild('Provider');
  ack(provider, basicRole, `${framework} functions: log writes only.`);
  ack(provider, 'AwsSolutions-L1', 'Runtime chosen by the CDK provider framework, not by this app.');
  for (const [name, child] of [['onEvent', esmCleanup.onEvent], ['isComplete', esmCleanup.isComplete]] as const) {
    ack(provider, `AwsSolutions-IAM5[Resource::<${logicalId(child)}.Arn>:*]`, `The provider framework may invoke any version of the ${name} handler it fronts.`);
  }
  for (const name of ['framework-onTimeout', 'framework-isComplete']) {
    ack(provider, `AwsSolutions-IAM5[Resource::<${logicalId(provider.node.findChild(name))}.Arn>:*]`,
      'The provider framework\'s waiter state machine invokes its own polling functions, any version.');
  }
  const waiter = 'The provider framework\'s waiter only polls for the ENIs to go; its steps are logged by the functions it runs.';
  ack(provider, 'AwsSolutions-SF1', waiter);
  ack(provider, 'AwsSolutions-SF2', waiter);

  // CDK's LogRetention function (a stack singleton): retention on log groups that RDS and Amazon MQ create themselves.
  const logRetention = stack.node.children.find((c) => c.node.id.startsWith('LogRetention'));
  if (logRetention) {
    const why = 'CDK LogRetention function: sets the retention of the log groups RDS and Amazon MQ create, whose names are known only at deploy time.';
    ack(logRetention, basicRole, why);
    ack(logRetention, 'AwsSolutions-IAM5[Resource::*]', why);
    const groups = [
      `/aws/amazonmq/broker/<${stack.getLogicalId(broker.broker)}.Id>/general`,
      ...databases.instances.map((db) => `/aws/rds/instance/<${logicalId(db)}>/postgresql`),
    ];
    for (const group of groups) {
      ack(logRetention, `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${group}:*]`, why);
    }
  }

  // Every other HTTP route has the JWT authorizer, which satisfies the rule.
  for (const [routeKey, route] of apis.publicRoutes) {
    ack(route, 'AwsSolutions-APIG4',
      `${routeKey} is public in the function catalog (the health check and the product catalogue a visitor reads before signing in); stage throttling applies.`);
  }
  // $connect has the Lambda authorizer, which satisfies the rule; API Gateway runs authorizers on $connect only.
  for (const routeKey of ['$disconnect', '$default']) {
    const route = apis.webSocketApi.node.tryFindChild(`${routeKey}-Route`);
    if (!route) throw new Error(`no WebSocket route ${routeKey}`);
    ack(route, 'AwsSolutions-APIG4',
      `${routeKey} runs on a connection $connect has authorized: API Gateway accepts an authorizer on $connect only.`);
  }
  ack(apis.webSocketStage, 'AwsSolutions-APIG1',
    'WebSocket access logs need the account-wide API Gateway CloudWatch role, which this app does not take over; the notification function logs each connection.');
}

function acknowledgeArchive(stack: EventFlowStack): void {
  ack(stack.archive.bucket, 'AwsSolutions-S1',
    'Written only by the pruner functions (one object per service and month) and read by operators; CloudTrail records those API calls, and access logs would need a second bucket for no reader.');
  for (const [id, fn] of stack.functions.functions) {
    const spec = stack.functions.specOf(id);
    if (!spec.uses.archive) continue;
    ack(fn, `AwsSolutions-IAM5[Resource::<${logicalId(stack.archive.bucket)}.Arn>/event-log/*]`,
      'PutObject under the event-log/ prefix of the archive bucket only: one object per service and month, named when the month is exported.');
  }
}

function acknowledgeSite(stack: EventFlowStack): void {
  const web = stack.site;
  const noLogs = 'Static dashboard assets, the same for every visitor and holding no user data; API calls are logged at the HTTP API stage.';
  ack(web.bucket, 'AwsSolutions-S1', noLogs);
  ack(web.distribution, 'AwsSolutions-S1', noLogs);
  ack(web.distribution, 'AwsSolutions-CFR3', noLogs);
  ack(web.distribution, 'AwsSolutions-CFR4',
    'No custom domain: the default *.cloudfront.net certificate is used, whose TLS policy CloudFront fixes.');
  ack(web.distribution, 'AwsSolutions-CFR1', 'The dashboard is served worldwide; there is no country to restrict.');
  ack(web.distribution, 'AwsSolutions-CFR2',
    'The distribution serves static files only; the APIs it calls are separate origins with their own throttling.');
}

function acknowledgeWeb(stack: WebStack, backend: EventFlowStack): void {
  const web = backend.site;

  // The BucketDeployment handler is a CDK singleton at stack level, shared by both deployments.
  const handler = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
  if (!handler) return;
  const why = 'CDK BucketDeployment handler: copies the asset zip into the site bucket and invalidates CloudFront.';
  for (const id of [
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'AwsSolutions-L1',
    'AwsSolutions-IAM5[Resource::*]',
    'AwsSolutions-IAM5[Action::s3:GetObject*]',
    'AwsSolutions-IAM5[Action::s3:GetBucket*]',
    'AwsSolutions-IAM5[Action::s3:List*]',
    'AwsSolutions-IAM5[Action::s3:DeleteObject*]',
    'AwsSolutions-IAM5[Action::s3:Abort*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
    // The bucket is the backend stack's: its ARN arrives as that stack's output (a weak reference).
    `AwsSolutions-IAM5[Resource::${weakReference(backend, web.bucket.bucketArn)}/*]`,
  ]) {
    ack(handler, id, why);
  }
}
