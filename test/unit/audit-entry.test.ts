import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AUDIT_CHAINS, GENESIS, auditEntry, canonicalJson, chainOf, entryDigest, linkHash } from '../../shared/audit/entry';
import { cliActor } from '../../shared/audit/actor';

const actor = { subject: 'a11ce000-0000-4000-8000-000000000002', role: 'customer', source: '203.0.113.7', correlationId: 'c-1' };

describe('audit entries', () => {
  it('canonical JSON sorts members at every depth and drops undefined ones, so one value has one text', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null }, u: undefined })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
    expect(canonicalJson('é"\\')).toBe(JSON.stringify('é"\\'));
    expect(canonicalJson(null)).toBe('null');
  });

  it('an entry is stamped, named and normalised as the database will give it back', () => {
    const e = auditEntry(actor, { route: 'PATCH /products/{id}', targets: ['p1'], change: { before: { stock: 1 }, after: { stock: 2, gone: undefined } }, status: 200 }, new Date('2030-01-02T03:04:05.678Z'));
    expect(e).toMatchObject({ at: '2030-01-02T03:04:05.678Z', subject: actor.subject, role: 'customer', source: '203.0.113.7', correlationId: 'c-1', status: 200 });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.change).toEqual({ before: { stock: 1 }, after: { stock: 2 } });
    expect(Object.keys(e.change as object)).toEqual(['before', 'after']);
    expect(auditEntry(actor, { route: 'x', targets: [], status: null }).change).toBeNull();
  });

  it('the digest covers every field: changing any one changes it; member order does not', () => {
    const e = auditEntry(actor, { route: 'DELETE /orders/{id}', targets: ['o1'], change: { before: { status: 'PENDING' }, after: { status: 'CANCELLED' } }, status: 200 });
    const d = entryDigest(e);
    expect(d).toHaveLength(32);
    const variants = [
      { ...e, id: '00000000-0000-4000-8000-000000000000' },
      { ...e, at: '2000-01-01T00:00:00.000Z' },
      { ...e, subject: 'someone else' },
      { ...e, role: 'operator' },
      { ...e, route: 'PATCH /orders/{id}' },
      { ...e, targets: ['o2'] },
      { ...e, change: { before: { status: 'PENDING' }, after: { status: 'SHIPPED' } } },
      { ...e, source: '198.51.100.1' },
      { ...e, status: 201 },
      { ...e, status: null },
      { ...e, correlationId: 'c-2' },
    ];
    for (const v of variants) expect(entryDigest(v).equals(d), JSON.stringify(v)).toBe(false);
    expect(entryDigest({ ...e, change: { after: { status: 'CANCELLED' }, before: { status: 'PENDING' } } }).equals(d)).toBe(true);
  });

  it('links like the database does: sha256(previous hash || digest), from 32 zero bytes', () => {
    const digest = createHash('sha256').update('x').digest();
    expect(GENESIS.equals(Buffer.alloc(32))).toBe(true);
    expect(linkHash(GENESIS, digest).equals(createHash('sha256').update(Buffer.concat([GENESIS, digest])).digest())).toBe(true);
  });

  it('puts every entry about one target in one chain, and spreads targets over all the chains', () => {
    const e = (target: string) => ({ targets: [target], correlationId: 'c' });
    expect(chainOf(e('order-1'))).toBe(chainOf({ targets: ['order-1', 'other'], correlationId: 'd' }));
    const seen = new Set<number>();
    // Fixed ids, so the run is the same every time: 2,000 random ones left some chain empty about
    // one run in ten (256 × (255/256)^2000 ≈ 0.1), which says nothing about the spread.
    for (let i = 0; i < 4_000; i++) {
      const c = chainOf(e(`order-${i}`));
      expect(c).toBeGreaterThanOrEqual(0);
      expect(c).toBeLessThan(AUDIT_CHAINS);
      seen.add(c);
    }
    expect(seen.size).toBe(AUDIT_CHAINS);
    // No target: the correlation id decides.
    expect(chainOf({ targets: [], correlationId: 'c-9' })).toBe(chainOf({ targets: ['c-9'], correlationId: 'x' }));
  });

  it("a CLI tool's entries name EVENTFLOW_OPERATOR, else the machine account, as an operator, from this host", () => {
    expect(cliActor({ EVENTFLOW_OPERATOR: ' ops@example.com ' })).toMatchObject({ subject: 'ops@example.com', role: 'operator', source: expect.stringMatching(/^cli@/) });
    const fallback = cliActor({});
    expect(fallback.subject.length).toBeGreaterThan(0);
    expect(fallback.correlationId).toMatch(/^cli-/);
  });
});
