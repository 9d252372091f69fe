import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/catalog';
import { MIGRATION_DIRS, REPO_ROOT } from '../../lib/bundling';

const run = promisify(execFile);

describe('npx cdk synth', () => {
  it('synthesizes offline with real bundling, one asset per catalog function', async () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'eventflow-synth-'));
    await run('npx', ['cdk', 'synth', '--quiet', '--output', outdir], {
      cwd: REPO_ROOT,
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
      maxBuffer: 64 * 1024 * 1024,
    });
    const template = JSON.parse(readFileSync(path.join(outdir, 'EventFlow-dev.template.json'), 'utf8'));
    for (const spec of FUNCTIONS) {
      const [, fn] = Object.entries<any>(template.Resources).find(
        ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.EVENTFLOW_FUNCTION === spec.id,
      )!;
      const asset = path.join(outdir, fn.Metadata['aws:asset:path']);
      expect(existsSync(path.join(asset, 'index.mjs')), spec.id).toBe(true);
      expect(existsSync(path.join(asset, 'index.mjs.map')), spec.id).toBe(true);
      if (spec.trigger.kind === 'deploy' && spec.trigger.purpose === 'migrations') {
        for (const dir of MIGRATION_DIRS) {
          expect(readdirSync(path.join(asset, dir))).toEqual(readdirSync(path.join(REPO_ROOT, dir)).filter((f) => f.endsWith('.sql')));
        }
      }
    }
    expect(existsSync(path.join(outdir, 'EventFlow-dev-Web.template.json'))).toBe(true);
  });
});
