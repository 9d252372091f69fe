/**
 * Custom resource handlers (CDK Provider framework) that delete an Amazon MQ event source mapping
 * themselves on stack deletion (or when an update drops it) and report completion only once its
 * network interfaces no longer need waiting for (lib/esm-cleanup-decision.ts). Lambda reports a
 * mapping deleted before it has released its ENIs; CloudFormation then deletes the function's
 * role, the mapping can no longer remove its ENIs, and stack deletion stops on the subnets and
 * security group they hold. The same approach as cdklabs/cdk-amazonmq (src/mq-esm/event-source-base.ts).
 */
import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DeleteEventSourceMappingCommand, GetEventSourceMappingCommand, LambdaClient, paginateListEventSourceMappings } from '@aws-sdk/client-lambda';
import type { EventSourceMappingConfiguration } from '@aws-sdk/client-lambda';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { cleanupProgress, liveSiblings } from './esm-cleanup-decision';

interface Properties {
  EsmId: string;
  AccountId: string;
  /** The broker the mapping reads from. */
  BrokerArn: string;
  /** The alias (or function) the mapping invokes: a replaced broker's or renamed queue's new mapping has the same. */
  FunctionName: string;
  /** The broker's security group, which its mappings' ENIs carry. */
  SecurityGroupId: string;
}

/** How Lambda describes the ENIs of Amazon MQ for RabbitMQ mappings of an account (as cdk-amazonmq filters them), any mapping. */
export function eniDescriptionPattern({ AccountId }: Pick<Properties, 'AccountId'>): string {
  return `AWS Lambda VPC ENI-armq-${AccountId}-*`;
}

const notFound = (err: unknown) => (err as { name?: string }).name === 'ResourceNotFoundException';

export async function onEvent(event: CloudFormationCustomResourceEvent) {
  const props = event.ResourceProperties as unknown as Properties;
  if (event.RequestType === 'Delete') {
    try {
      await new LambdaClient({}).send(new DeleteEventSourceMappingCommand({ UUID: props.EsmId }));
    } catch (err) {
      // Already gone (deleted by hand, or by an earlier attempt): its ENIs may still be there.
      if (!notFound(err)) throw err;
    }
  }
  return { PhysicalResourceId: `esm-cleanup-${props.EsmId}` };
}

export async function isComplete(event: CloudFormationCustomResourceEvent) {
  if (event.RequestType !== 'Delete') return { IsComplete: true };
  const props = event.ResourceProperties as unknown as Properties;
  const lambda = new LambdaClient({});
  const mappingExists = await lambda.send(new GetEventSourceMappingCommand({ UUID: props.EsmId })).then(
    () => true,
    (err: unknown) => {
      if (notFound(err)) return false;
      throw err;
    },
  );
  const mappings: EventSourceMappingConfiguration[] = [];
  if (!mappingExists) {
    for (const filter of [{ EventSourceArn: props.BrokerArn }, { FunctionName: props.FunctionName }]) {
      for await (const page of paginateListEventSourceMappings({ client: lambda }, filter)) mappings.push(...(page.EventSourceMappings ?? []));
    }
  }
  const siblings = liveSiblings(props.EsmId, mappings);
  const enis =
    mappingExists || siblings > 0
      ? 0
      : ((
          await new EC2Client({}).send(
            new DescribeNetworkInterfacesCommand({
              Filters: [
                { Name: 'description', Values: [eniDescriptionPattern(props)] },
                { Name: 'group-id', Values: [props.SecurityGroupId] },
              ],
            }),
          )
        ).NetworkInterfaces ?? []).length;
  const progress = cleanupProgress({ mappingExists, liveSiblings: siblings, enis });
  console.log(JSON.stringify({ esm: props.EsmId, ...progress }));
  return { IsComplete: progress.done };
}
