import path from 'node:path';
import { Aws, CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ESM_BANNER, EXTERNAL_MODULES, NODE_TARGET, REPO_ROOT } from './bundling';
import type { Settings } from './settings';

/**
 * `cdk destroy` for Amazon MQ event source mappings: one custom resource per mapping that, when
 * the stack goes, deletes the mapping and waits until its network interfaces are gone. Each
 * resource depends on the consumer function's role and its policies, so CloudFormation removes
 * them only after the mapping has cleaned up (see esm-cleanup.handler.ts).
 */
export class EsmCleanup extends Construct {
  readonly resources = new Map<string, CustomResource>();
  readonly onEvent: NodejsFunction;
  readonly isComplete: NodejsFunction;
  private readonly provider: cr.Provider;

  constructor(scope: Construct, id: string, props: { settings: Settings }) {
    super(scope, id);
    const handler = (name: 'onEvent' | 'isComplete') =>
      new NodejsFunction(this, name, {
        description: `EventFlow: Amazon MQ event source mapping clean-up (${name})`,
        entry: path.join(REPO_ROOT, 'lib/esm-cleanup.handler.ts'),
        handler: name,
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        timeout: Duration.minutes(1),
        logGroup: new logs.LogGroup(this, `${name}-logs`, { retention: props.settings.logRetention, removalPolicy: RemovalPolicy.DESTROY }),
        projectRoot: REPO_ROOT,
        depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
        bundling: { format: OutputFormat.ESM, target: NODE_TARGET, mainFields: ['module', 'main'], banner: ESM_BANNER, minify: true, externalModules: EXTERNAL_MODULES },
      });
    this.onEvent = handler('onEvent');
    this.isComplete = handler('isComplete');
    // DescribeNetworkInterfaces and ListEventSourceMappings support no resource-level permissions.
    this.isComplete.addToRolePolicy(new iam.PolicyStatement({ actions: ['ec2:DescribeNetworkInterfaces'], resources: ['*'] }));
    this.isComplete.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:ListEventSourceMappings'], resources: ['*'] }));
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.onEvent,
      isCompleteHandler: this.isComplete,
      // Lambda can take many minutes to release a mapping's ENIs.
      queryInterval: Duration.minutes(1),
      totalTimeout: Duration.hours(1),
      logGroup: new logs.LogGroup(this, 'provider-logs', { retention: props.settings.logRetention, removalPolicy: RemovalPolicy.DESTROY }),
    });
  }

  /**
   * Guards one mapping: deleted by the clean-up, before the role (and its policies) it needs. The
   * broker, the alias (or function) the mapping invokes and the broker's security group tell the clean-up
   * whether the ENIs stay with another mapping (lib/esm-cleanup-decision.ts).
   */
  guard(id: string, mapping: lambda.EventSourceMapping, target: { role: iam.IRole; target: lambda.IFunction; brokerArn: string; securityGroupId: string }): CustomResource {
    const { role } = target;
    this.onEvent.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:DeleteEventSourceMapping'], resources: [mapping.eventSourceMappingArn] }),
    );
    this.isComplete.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:GetEventSourceMapping'], resources: [mapping.eventSourceMappingArn] }),
    );
    const resource = new CustomResource(this, id, {
      serviceToken: this.provider.serviceToken,
      resourceType: 'Custom::EventFlowEsmCleanup',
      // Referencing the mapping makes CloudFormation delete this resource before the mapping itself.
      properties: {
        EsmId: mapping.eventSourceMappingId,
        AccountId: Aws.ACCOUNT_ID,
        BrokerArn: target.brokerArn,
        FunctionName: target.target.functionArn,
        SecurityGroupId: target.securityGroupId,
      },
    });
    // The role and every policy attached to it outlive the clean-up: the mapping uses them to remove its ENIs.
    resource.node.addDependency(role);
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) resource.node.addDependency(policy);
    this.resources.set(id, resource);
    return resource;
  }
}
