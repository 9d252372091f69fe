import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/catalog';
import { bundleAll, type BundleSize } from '../../scripts/bundle-report';

/** Minified bundle budget: cold starts grow with bundle size. */
const BUDGET_BYTES = 1.5 * 1024 * 1024;

let sizes: BundleSize[];
beforeAll(async () => {
  sizes = await bundleAll();
});

describe('function bundles', () => {
  it.each(FUNCTIONS.map((f) => f.id))('%s stays under budget without AWS SDK code', (id) => {
    const bundle = sizes.find((s) => s.id === id)!;
    expect(bundle.bytes).toBeLessThan(BUDGET_BYTES);
    // The nodejs22.x runtime provides SDK v3: a bundled copy would only add weight and a second version.
    // The one @smithy module allowed is the 4 KB error classifier X-Ray's SDK v3 patcher (Powertools
    // Tracer) requires; it holds no client code.
    const sdk = bundle.packages.filter((p) => p.startsWith('@aws-sdk/') || p.startsWith('@smithy/'));
    expect(sdk.filter((p) => p !== '@smithy/service-error-classification')).toEqual([]);
  });
});
