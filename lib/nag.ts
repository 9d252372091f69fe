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
  acknowledgeWeb(stacks.web);
}

const ack = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });

const logicalId = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnResource);

function acknowledgeBackend(stack: EventFlowStack, settings: Settings): void {
  const { broker, databases, functions, hooks, apis } = stack;

  ack(broker.secret, 'AwsSolutions-SMG4',
    'Amazon MQ has no Secrets Manager rotation integration: the admin password is set on the broker at creation and must be changed through the broker API.');
  for (const db of Object.values(databases.instances)) {
    ack(db.node.findChild('Secret'), 'AwsSolutions-SMG4',
      'Single-user rotation would change the password under warm functions that resolved it at cold start; rotation waits for the alternating-users scheme.');
  }
  ack(databases, 'AwsSolutions-RDS11',
    'The port is reachable only from the security groups of the functions that use the database; a non-default port adds no protection.');
  if (!settings.protectData) {
    ack(databases, 'AwsSolutions-RDS3', 'dev runs single-AZ to stay cheap and disposable; prod is Multi-AZ.');
    ack(databases, 'AwsSolutions-RDS10', 'dev is meant to be destroyed with `cdk destroy`; prod has deletion protection.');
  }

  ack(functions, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'Grants only log-stream writes; the function log groups are the ones CDK creates per function.');
  ack(functions, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
    'ENI management for VPC functions; these EC2 actions do not support resource-level permissions.');
  ack(functions, 'AwsSolutions-L1',
    'Node.js 22 is the runtime the code is built (esbuild target node22) and tested for; moving to 24 is a deliberate upgrade.');
  ack(functions, 'AwsSolutions-IAM5[Resource::*]',
    'Queue consumers only: the Amazon MQ event source needs ec2:DescribeSecurityGroups and ec2:DescribeVpcs, which take no resource ARN.');
  ack(functions,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${logicalId(apis.webSocketApi)}>/${apis.webSocketStage.stageName}/*/@connections/*]`,
    'Posting to WebSocket connections: connection ids exist only at run time; scoped to this API and stage.');

  for (const hook of hooks.hooks) {
    const provider = hook.node.scope!.node.findChild(`${hook.node.id}-provider`);
    const fnId = logicalId(functions.get(hook.node.id));
    ack(provider, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'CDK custom-resource provider framework function: log writes only.');
    ack(provider, `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
      'The provider framework may invoke any version of the one handler function it fronts.');
    ack(provider, 'AwsSolutions-L1', 'Runtime chosen by the CDK provider framework, not by this app.');
  }

  ack(apis, 'AwsSolutions-APIG4',
    'The function catalog defines no authorizer: the HTTP and WebSocket APIs are public in this release, with stage throttling.');
  ack(apis.webSocketStage, 'AwsSolutions-APIG1',
    'WebSocket access logs need the account-wide API Gateway CloudWatch role, which this app does not take over; the notification function logs each connection.');
}

function acknowledgeWeb(stack: WebStack): void {
  const { web } = stack;
  const noLogs = 'Static dashboard assets, the same for every visitor and holding no user data; API calls are logged at the HTTP API stage.';
  ack(web.bucket, 'AwsSolutions-S1', noLogs);
  ack(web.distribution, 'AwsSolutions-S1', noLogs);
  ack(web.distribution, 'AwsSolutions-CFR3', noLogs);
  ack(web.distribution, 'AwsSolutions-CFR4',
    'No custom domain: the default *.cloudfront.net certificate is used, whose TLS policy CloudFront fixes.');
  ack(web.distribution, 'AwsSolutions-CFR1', 'The dashboard is served worldwide; there is no country to restrict.');
  ack(web.distribution, 'AwsSolutions-CFR2',
    'The distribution serves static files only; the APIs it calls are separate origins with their own throttling.');

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
    `AwsSolutions-IAM5[Resource::<${logicalId(web.bucket)}.Arn>/*]`,
  ]) {
    ack(handler, id, why);
  }
}
