/**
 * The layer rules (.dependency-cruiser.cjs) catch what they are meant to: checked on a throwaway
 * tree shaped like the repository, so that a rule whose pattern stopped matching fails here
 * rather than letting violations through unnoticed. `npm run lint:layers` applies them to the code.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { cruise } from 'dependency-cruiser';
import type { ICruiseResult } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const config = require('../../.dependency-cruiser.cjs') as { forbidden: unknown[] };
const root = mkdtempSync(path.join(os.tmpdir(), 'eventflow-layers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes files under the throwaway tree and returns the rules each one breaks. */
async function violations(files: Record<string, string>): Promise<string[]> {
  const dir = mkdtempSync(path.join(root, 'case-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  const result = await cruise(Object.keys(files), { baseDir: dir, ruleSet: { forbidden: config.forbidden } as never, tsPreCompilationDeps: true, validate: true });
  const output = result.output as ICruiseResult;
  return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

describe('layer rules', () => {
  it('let the floors import downwards', async () => {
    expect(
      await violations({
        'shared/kernel.ts': 'export const k = 1;\n',
        'functions/catalog.ts': "import { k } from '../shared/kernel';\nexport const c = k;\n",
        'functions/order/api.ts': "import { c } from '../catalog';\nimport { d } from './domain/rules';\nexport const a = c + d;\n",
        'functions/order/domain/rules.ts': "import { k } from '../../../shared/kernel';\nexport const d = k;\n",
        'local/runtime.ts': "import { a } from '../functions/order/api';\nexport const r = a;\n",
      }),
    ).toEqual([]);
  });

  it('refuse the kernel importing a service, the runtime or the CDK app', async () => {
    expect(
      await violations({
        'shared/config.ts': "import { c } from '../functions/catalog';\nimport { l } from '../lib/app';\nexport const s = c + l;\n",
        'functions/catalog.ts': 'export const c = 1;\n',
        'lib/app.ts': 'export const l = 1;\n',
      }),
    ).toEqual(['kernel-knows-no-service: shared/config.ts → functions/catalog.ts', 'kernel-knows-no-service: shared/config.ts → lib/app.ts']);
  });

  it('refuse a service importing another service, or the local runtime', async () => {
    expect(
      await violations({
        'functions/order/api.ts': "import { i } from '../inventory/store';\nimport { r } from '../../local/runtime';\nexport const a = i + r;\n",
        'functions/inventory/store.ts': 'export const i = 1;\n',
        'local/runtime.ts': 'export const r = 1;\n',
      }),
    ).toEqual(['services-below-the-runtime: functions/order/api.ts → local/runtime.ts', 'services-talk-through-events: functions/order/api.ts → functions/inventory/store.ts']);
  });

  it('refuse I/O in a domain module', async () => {
    expect(
      await violations({
        'functions/order/domain/rules.ts': "import { readFileSync } from 'node:fs';\nimport { q } from '../store';\nimport { db } from '../../../shared/db/pool';\nexport const d = [readFileSync, q, db];\n",
        'functions/order/store.ts': 'export const q = 1;\n',
        'shared/db/pool.ts': 'export const db = 1;\n',
      }),
    ).toEqual([
      'decisions-are-pure: functions/order/domain/rules.ts → fs',
      'decisions-are-pure: functions/order/domain/rules.ts → functions/order/store.ts',
      'decisions-are-pure: functions/order/domain/rules.ts → shared/db/pool.ts',
    ]);
  });

  it('refuse a cycle, but not one made of type-only imports', async () => {
    const cycle = await violations({
      'shared/a.ts': "import { b } from './b';\nexport const a = b;\n",
      'shared/b.ts': "import { a } from './a';\nexport const b = () => a;\n",
    });
    expect(cycle.every((v) => v.startsWith('no-circular:'))).toBe(true);
    expect(cycle.length).toBeGreaterThan(0);
    expect(
      await violations({
        'shared/a.ts': "import type { B } from './b';\nexport type A = { b?: B };\nexport const a = 1;\n",
        'shared/b.ts': "import { a } from './a';\nexport type B = number;\nexport const b = a;\n",
      }),
    ).toEqual([]);
  });
});
