import { CURRENTLY_RECOMMENDED_FLAGS, FLAGS } from 'aws-cdk-lib/cx-api';
import { describe, expect, it } from 'vitest';
import { cdkJsonContext } from './support';

/**
 * Every feature flag this aws-cdk-lib recommends is set in cdk.json, on purpose: nothing had been
 * deployed when they were set, so the recommended values (what `cdk init` writes) were taken, and
 * the only departures are listed here with their reason. A new aws-cdk-lib that adds flags fails
 * this test until someone decides them (`npx cdk flags --unstable=flags`).
 */
const DEPARTURES: Record<string, string> = {};

describe('CDK feature flags', () => {
  const context = cdkJsonContext();

  it('sets every recommended flag, at its recommended value unless a departure is written down', () => {
    const unset = Object.keys(CURRENTLY_RECOMMENDED_FLAGS).filter((flag) => !(flag in context));
    expect(unset).toEqual([]);
    const departing = Object.entries(CURRENTLY_RECOMMENDED_FLAGS)
      .filter(([flag, value]) => JSON.stringify(context[flag]) !== JSON.stringify(value))
      .map(([flag]) => flag);
    expect(departing.sort()).toEqual(Object.keys(DEPARTURES).sort());
  });

  it('names no flag this aws-cdk-lib does not know', () => {
    expect(Object.keys(context).filter((k) => k.startsWith('@aws-cdk') && !(k in FLAGS))).toEqual([]);
  });
});
