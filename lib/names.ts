import { createHash } from 'node:crypto';

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
