import { createHash } from 'node:crypto';
import { Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { IConstruct } from 'constructs';

/**
 * A physical name for a resource type that requires one (an Amazon MQ broker, an ElastiCache
 * cache or user), carrying a short hash of the settings whose change makes CloudFormation replace
 * the resource. CloudFormation creates the replacement before deleting the old one, so a fixed
 * name would make that replacement fail on the name; this one changes with them.
 */
export function replaceableName(base: string, replacedBy: Record<string, unknown>): string {
  const hash = createHash('sha256').update(JSON.stringify(replacedBy, Object.keys(replacedBy).sort())).digest('hex').slice(0, 8);
  return `${base}-${hash}`;
}

/**
 * Subnets as a replacement property sees them: by what replaces a subnet (its CIDR block and its
 * zone, as the template resolves it), so a new subnet layout changes a name hashed from it.
 */
export function subnetPlacement(scope: IConstruct, subnets: ec2.ISubnet[]): unknown[] {
  return subnets.map((s) => Stack.of(scope).resolve([s.ipv4CidrBlock, s.availabilityZone]));
}
