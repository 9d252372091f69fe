import { describe, expect, it } from 'vitest';
import { cleanupProgress, liveSiblings } from '../../lib/esm-cleanup-decision';
import { eniDescriptionPattern } from '../../lib/esm-cleanup.handler';

describe('the Amazon MQ mapping clean-up', () => {
  it('waits while Lambda still lists the mapping, whatever else there is', () => {
    for (const liveSiblings of [0, 3]) for (const enis of [0, 2]) expect(cleanupProgress({ mappingExists: true, liveSiblings, enis }).done).toBe(false);
  });

  it('is done once the mapping is gone while another mapping of the broker remains: the shared ENIs are that one\'s', () => {
    // Fewer partitions, a renamed queue, a replaced broker: ENIs Lambda reuses never go while another mapping lives.
    const p = cleanupProgress({ mappingExists: false, liveSiblings: 1, enis: 4 });
    expect(p.done).toBe(true);
    expect(p.reason).toMatch(/1 other mapping/);
  });

  it("waits for the ENIs only when the broker's last mapping goes, and is done when they are released", () => {
    expect(cleanupProgress({ mappingExists: false, liveSiblings: 0, enis: 2 })).toEqual({ done: false, reason: expect.stringMatching(/2 ENI/) });
    expect(cleanupProgress({ mappingExists: false, liveSiblings: 0, enis: 0 }).done).toBe(true);
  });

  it('counts as siblings only other mappings that are not being deleted, each once', () => {
    const listed = [
      { UUID: 'gone', State: 'Deleting' },
      { UUID: 'self', State: 'Deleting' },
      { UUID: 'p0', State: 'Enabled' },
      // The same mapping listed twice: by broker and by alias.
      { UUID: 'p0', State: 'Enabled' },
      { UUID: 'new', State: 'Creating' },
      { UUID: 'off', State: 'Disabled' },
    ];
    expect(liveSiblings('self', listed)).toBe(3);
    // A whole stack going: every mapping is Deleting, so each clean-up waits for the ENIs.
    expect(liveSiblings('self', listed.map((m) => ({ ...m, State: 'Deleting' })))).toBe(0);
    expect(liveSiblings('self', [])).toBe(0);
  });

  it("looks for the ENIs of any Amazon MQ mapping of the account (reused ENIs carry an earlier mapping's id)", () => {
    expect(eniDescriptionPattern({ AccountId: '123456789012' })).toBe('AWS Lambda VPC ENI-armq-123456789012-*');
  });
});
