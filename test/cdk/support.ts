import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, type BuildOptions, type EventFlowApp } from '../../lib/app';
import { REPO_ROOT } from '../../lib/bundling';

/**
 * The context `cdk synth` and `cdk deploy` give the app from cdk.json: its feature flags above
 * all, so that what the tests check is what deploys.
 */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
}

export type Resources = Record<string, { Type: string; Properties?: Record<string, any>; DependsOn?: string[]; Metadata?: Record<string, any>; DeletionPolicy?: string }>;

export interface Synthesized extends EventFlowApp {
  backendTemplate: Template;
  webTemplate: Template;
  resources: Resources;
}

/**
 * The apps built with a context alone, by that context. The cdk project shares one module graph
 * across its files (isolate: false in vitest.config.ts), so the dev and prod apps five files read
 * are built once per run rather than once per file: building one is seconds of CPU. The tests only
 * read what they get; nothing adds to a built app.
 */
const built = new Map<string, Synthesized>();

/** Builds both stacks without bundling (NodejsFunction gets placeholder code): fast assertion tests. */
export function synthesize(context: Record<string, unknown> = {}, options: BuildOptions = {}): Synthesized {
  if (Object.keys(options).length) return build(context, options);
  const key = JSON.stringify(context);
  let s = built.get(key);
  if (!s) built.set(key, (s = build(context, options)));
  return s;
}

function build(context: Record<string, unknown>, options: BuildOptions): Synthesized {
  const app = new App({
    outdir: mkdtempSync(path.join(tmpdir(), 'eventflow-cdk-')),
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true, ...context },
  });
  const stacks = buildApp(app, { nag: false, ...options });
  const backendTemplate = Template.fromStack(stacks.backend);
  return {
    ...stacks,
    backendTemplate,
    webTemplate: Template.fromStack(stacks.web),
    resources: backendTemplate.toJSON().Resources as Resources,
  };
}

export function ofType(resources: Resources, type: string) {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

/** The logical id a Ref / Fn::GetAtt points at. */
export function refTarget(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.Ref === 'string' && !v.Ref.startsWith('AWS::')) return v.Ref;
    if (Array.isArray(v['Fn::GetAtt'])) return v['Fn::GetAtt'][0] as string;
  }
  return undefined;
}
