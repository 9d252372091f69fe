import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app';
import { cdkJsonContext } from './support';

interface Report {
  pluginReports: { pluginName: string; violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[] }[];
}

/** cdk-nag v3 interrupts synthesis on any unacknowledged error and writes the report to the assembly. */
function nagErrors(env: string): string[] {
  const outdir = mkdtempSync(path.join(tmpdir(), 'eventflow-nag-'));
  const app = new App({ outdir, context: { ...cdkJsonContext(), env, 'aws:cdk:bundling-stacks': [] } });
  buildApp(app);
  let failure: unknown;
  try {
    app.synth();
  } catch (err) {
    failure = err;
  }
  const file = ['validation-report.json', 'policy-validation-report.json'].map((f) => path.join(outdir, f)).find(existsSync);
  const report: Report = file ? JSON.parse(readFileSync(file, 'utf8')) : { pluginReports: [] };
  const errors = report.pluginReports.flatMap((p) =>
    p.violations
      .filter((v) => v.severity === 'error' || v.severity === 'fatal')
      .flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} ${c.constructPath}`)),
  );
  if (failure && errors.length === 0) throw failure;
  return errors;
}

describe('cdk-nag AwsSolutions', () => {
  it.each(['dev', 'prod'])('finds no unacknowledged error in %s', (env) => {
    expect(nagErrors(env)).toEqual([]);
  });
});
