import type { TestProject } from 'vitest/node';
import { PATIENT_HTTP_ENV, startRuntimeProcess } from './runtime-process';
import type { TestSystem } from './runtime-process';

declare module 'vitest' {
  export interface ProvidedContext {
    system: TestSystem;
  }
}

/** One runtime for all integration test files, in its own namespace; removed afterwards. */
export default async function setup(project: TestProject) {
  // The project's PARTITIONS (vitest.config.ts), which the test files see too: both sides agree on the queues.
  const partitions = project.config.env?.PARTITIONS;
  const { system, stop } = await startRuntimeProcess({ env: { ...PATIENT_HTTP_ENV, ...(partitions ? { PARTITIONS: String(partitions) } : {}) } });
  project.provide('system', system);
  return stop;
}
