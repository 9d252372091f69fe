/**
 * Custom resource handlers (CDK Provider framework) that delete an Amazon MQ event source mapping
 * themselves on stack deletion and report completion only once the mapping's network interfaces
 * are gone. Lambda reports a mapping deleted before it has released its ENIs; CloudFormation then
 * deletes the function's role, the mapping can no longer remove its ENIs, and stack deletion
 * stops on the subnets and security group they hold. The same approach as cdklabs/cdk-amazonmq
 * (src/mq-esm/event-source-base.ts).
 */
import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DeleteEventSourceMappingCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

interface Properties {
  EsmId: string;
  AccountId: string;
}

/** How Lambda describes the ENIs of an Amazon MQ for RabbitMQ mapping (as cdk-amazonmq filters them). */
export function eniDescriptionPattern({ AccountId, EsmId }: Properties): string {
  return `AWS Lambda VPC ENI-armq-${AccountId}-${EsmId}*`;
}

export async function onEvent(event: CloudFormationCustomResourceEvent) {
  const props = event.ResourceProperties as unknown as Properties;
  if (event.RequestType === 'Delete') {
    try {
      await new LambdaClient({}).send(new DeleteEventSourceMappingCommand({ UUID: props.EsmId }));
    } catch (err) {
      // Already gone (deleted by hand, or by an earlier attempt): its ENIs may still be there.
      if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
    }
  }
  return { PhysicalResourceId: `esm-cleanup-${props.EsmId}` };
}

export async function isComplete(event: CloudFormationCustomResourceEvent) {
  if (event.RequestType !== 'Delete') return { IsComplete: true };
  const props = event.ResourceProperties as unknown as Properties;
  const out = await new EC2Client({}).send(
    new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'description', Values: [eniDescriptionPattern(props)] }] }),
  );
  return { IsComplete: (out.NetworkInterfaces ?? []).length === 0 };
}
