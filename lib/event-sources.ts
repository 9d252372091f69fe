import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, type IDependable } from 'constructs';
import type { FunctionSpec } from '../functions/catalog';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { sourceRoleOf } from '../functions/identities';
import { partitionQueues, type PartitionLayout } from '../functions/topology';
import type { Broker } from './broker';
import type { CatalogFunctions } from './functions';

export interface EventSourcesProps {
  specs: FunctionSpec[];
  functions: CatalogFunctions;
  broker: Broker;
  /** Broker namespace; empty on AWS, where each deployment has its own broker. */
  namespace: string;
  /** The environment's partitions per service queue (settings). */
  partitions: PartitionLayout;
  /** What must exist before a function gets events: the queues, the database schemas. */
  prerequisites: IDependable[];
}

/** The queue consumers' Amazon MQ event source mappings and the scheduled functions' rules. */
export class EventSources extends Construct {
  /** Mapping id (the consumer's catalog id, `-p<i>` per partition) -> mapping. */
  readonly mappings = new Map<string, lambda.EventSourceMapping>();
  /** Mapping id -> catalog id of the function it feeds. */
  readonly consumerOf = new Map<string, string>();
  /** Mapping id -> what it invokes: an alias per partition, or the function when its queue has one. */
  readonly targetOf = new Map<string, lambda.IFunction>();
  readonly rules = new Map<string, events.Rule>();

  constructor(scope: Construct, id: string, props: EventSourcesProps) {
    super(scope, id);
    const { broker, functions } = props;
    for (const spec of props.specs) {
      const fn = functions.get(spec.id);
      const trigger = spec.trigger;
      if (trigger.kind === 'queue') {
        // The mappings consume as the queue's own event source user, which may read its partitions and nothing else.
        const source = broker.userSecret(sourceRoleOf(trigger.queue));
        grantMqEventSource(fn, broker, source);
        // One mapping per partition: a mapping runs one batch at a time, so partitions are what
        // lets a service consume in parallel (see the catalog).
        const queues = partitionQueues(trigger.queue, props.namespace, props.partitions);
        queues.forEach((queue, i) => {
          const id = queues.length === 1 ? spec.id : `${spec.id}-p${i}`;
          // With several partitions each mapping invokes an alias of its own (on $LATEST, so nothing
          // is published): Lambda refuses a second mapping of one function and one source for SQS
          // and Kinesis, and its documentation does not say whether Amazon MQ's queue sets two
          // apart. An alias ARN is a function name of its own for a mapping (docs/decisions.md).
          // A queue with one partition has one mapping per function: the function itself.
          const target =
            queues.length === 1
              ? fn
              : new lambda.Alias(this, `${id}-alias`, { aliasName: `p${i}`, version: fn.latestVersion, description: `${spec.id}: the event source mapping of ${queue}` });
          const esm = new lambda.EventSourceMapping(this, id, {
            target,
            eventSourceArn: broker.arn,
            batchSize: trigger.batchSize,
            maxBatchingWindow: Duration.seconds(trigger.batchWindowSeconds),
            // Default virtual host "/": VIRTUAL_HOST cannot be changed on an existing mapping.
            sourceAccessConfigurations: [
              { type: lambda.SourceAccessConfigurationType.BASIC_AUTH, uri: source.secretArn },
            ],
          });
          // aws-cdk-lib's EventSourceMapping has no queues prop; one queue per mapping is all Lambda takes.
          (esm.node.defaultChild as lambda.CfnEventSourceMapping).addPropertyOverride('Queues', [queue]);
          // The ARN itself (for an alias CDK would build "<function>:<alias>" from it): what the test and the clean-up compare.
          (esm.node.defaultChild as lambda.CfnEventSourceMapping).addPropertyOverride('FunctionName', target.functionArn);
          // Role policies first: Lambda checks the role's access to the broker when it creates the mapping.
          esm.node.addDependency(fn.role!, ...props.prerequisites);
          this.mappings.set(id, esm);
          this.consumerOf.set(id, spec.id);
          this.targetOf.set(id, target);
        });
      } else if (trigger.kind === 'schedule') {
        const rule = new events.Rule(this, `${spec.id}-schedule`, {
          description: `Runs ${spec.id} every ${trigger.everyMinutes} minute(s)`,
          schedule: events.Schedule.rate(Duration.minutes(trigger.everyMinutes)),
          targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
        });
        rule.node.addDependency(...props.prerequisites);
        this.rules.set(spec.id, rule);
      }
    }
  }
}

/** The permissions Lambda's Amazon MQ poller uses, through the function's role (it reads the mapping's secret with it). */
function grantMqEventSource(fn: lambda.IFunction, broker: Broker, secret: secretsmanager.ISecret): void {
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['mq:DescribeBroker'], resources: [broker.arn] }));
  // Describe actions support no resource scoping; the VPC access managed policy does not include these two.
  fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['ec2:DescribeSecurityGroups', 'ec2:DescribeVpcs'], resources: ['*'] }),
  );
  secret.grantRead(fn);
}
