/**
 * When the clean-up of one Amazon MQ event source mapping is done (lib/esm-cleanup.handler.ts):
 * pure, so each case is tested without AWS.
 *
 * Lambda reuses a broker's ENIs across its mappings (the subnets and security groups are the
 * broker's), so an ENI is not one mapping's. While another mapping of the same broker, or another
 * mapping of the same alias (a replaced broker, a renamed queue: the new mapping is created first),
 * is alive, the ENIs are its: the removed mapping has nothing left to wait for. Only when the
 * broker's last mapping goes do its ENIs go, and the clean-up waits for them, so that
 * CloudFormation deletes the role, subnets and security group only once they are free.
 */

export interface CleanupObservation {
  /** Whether Lambda still lists the mapping (in any state, Deleting included). */
  mappingExists: boolean;
  /** Other mappings on the same broker or alias that are not being deleted. */
  liveSiblings: number;
  /** ENIs of Amazon MQ mappings still in the broker's security group. */
  enis: number;
}

export interface CleanupProgress {
  done: boolean;
  /** What the clean-up is waiting for, or why it is done: its log line. */
  reason: string;
}

export function cleanupProgress(o: CleanupObservation): CleanupProgress {
  if (o.mappingExists) return { done: false, reason: 'waiting for Lambda to delete the mapping' };
  if (o.liveSiblings > 0) return { done: true, reason: `the mapping is gone; its ENIs stay with ${o.liveSiblings} other mapping(s) of the broker` };
  if (o.enis > 0) return { done: false, reason: `the broker's last mapping is gone; waiting for ${o.enis} ENI(s) to be released` };
  return { done: true, reason: "the broker's last mapping and its ENIs are gone" };
}

/** Lambda's state of a mapping being removed: it no longer holds the ENIs for the future. */
export const DELETING = 'Deleting';

/** The mappings (id and state) that still count as holding the broker's ENIs, other than the one removed. */
export function liveSiblings(removed: string, mappings: { UUID?: string; State?: string }[]): number {
  const ids = new Set(mappings.filter((m) => m.UUID && m.UUID !== removed && m.State !== DELETING).map((m) => m.UUID!));
  return ids.size;
}
