/**
 * How every function is bundled. The stack (NodejsFunction) and scripts/bundle-report.ts both read
 * this, so the sizes the report prints are the sizes that get deployed.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICES } from '../shared/config';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** esbuild target matching the Lambda runtime (lambda.Runtime.NODEJS_22_X). */
export const NODE_TARGET = 'node22';

/**
 * The Node.js 22 runtime ships AWS SDK v3, so it is left out of every bundle. `pg-native` is an
 * optional dependency of `pg` that we never load.
 */
export const EXTERNAL_MODULES = ['@aws-sdk/*', 'pg-native'];

/** ESM output still meets CommonJS dependencies that call require(); give them one. */
export const ESM_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** Folders the migrate function reads at run time, copied into its bundle with the same layout. */
export const MIGRATION_DIRS = ['shared/db/migrations', ...SERVICES.map((s) => `functions/${s}/migrations`)];
