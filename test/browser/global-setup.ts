import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { ensureWebExport } from '../../scripts/build-web';
import { startRuntimeProcess } from '../support/runtime-process';
import { CHROMIUM } from './browser';

/**
 * The dashboard tests' system: the export built if it is stale, then the local runtime with its web
 * server, in a namespace of its own on free ports, shared by the browser test files.
 */
export default async function setup(project: TestProject) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the dashboard tests drive Debian's chromium (apt-get install -y chromium; .ci/run does it)`);
  }
  await ensureWebExport({ log: (line) => process.stderr.write(`[browser tests] ${line}\n`) });
  const { system, stop } = await startRuntimeProcess({ env: { WEB_PORT: '0' } });
  if (!system.webUrl) throw new Error('the runtime started without its web server');
  project.provide('system', system);
  return stop;
}
