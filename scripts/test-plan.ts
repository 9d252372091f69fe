/**
 * What `npm run test:quick` runs and how the test runner (scripts/test-run.ts) splits work across
 * processes: pure functions of the changed paths, the test files and their last durations.
 */

/** Integration test files by name (test/integration/<name>.test.ts). */
const it = (...names: string[]) => names.map((n) => `test/integration/${n}.test.ts`);

/**
 * The integration tests that exercise a path: the first entry whose prefix starts the path
 * applies (so the more specific prefixes come first). The end-to-end set (DEFAULT_INTEGRATION)
 * is added for every change under shared/, functions/ and local/, since everything runs on it.
 */
export const INTEGRATION_AREAS: ReadonlyArray<{ prefix: string; tests: string[] }> = [
  // The services.
  { prefix: 'functions/order/', tests: it('saga', 'concurrency', 'http-input', 'redelivery', 'deadline', 'timeline-order', 'order-metrics', 'rebuild', 'audit') },
  { prefix: 'functions/payment/', tests: it('saga', 'payment-recovery', 'deadline', 'outage', 'redelivery', 'read-only-database') },
  { prefix: 'functions/inventory/', tests: it('saga', 'concurrency', 'http-input', 'redelivery', 'audit') },
  { prefix: 'functions/notification/', tests: it('notifications', 'recent-events-rebuild', 'access') },
  { prefix: 'functions/platform/', tests: it('operations', 'replay', 'rebuild', 'retention', 'broker-policies', 'audit', 'partitions', 'saga') },
  // The catalog and what derives from it.
  { prefix: 'functions/identities.ts', tests: it('identities', 'publish-refused', 'access') },
  { prefix: 'functions/topology.ts', tests: it('partitions', 'broker-policies', 'operations', 'redelivery', 'upgrade') },
  { prefix: 'functions/subscriptions.ts', tests: it('partitions', 'broker-policies', 'operations', 'redelivery') },
  { prefix: 'functions/', tests: it('access', 'http-input', 'http-fuzz', 'http-gateway', 'audit') },
  // The kernel, by part.
  { prefix: 'shared/auth/', tests: it('auth-issuer', 'access') },
  { prefix: 'shared/audit/', tests: it('audit') },
  { prefix: 'shared/http/rate-limit', tests: it('rate-limit', 'rate-limit-redis', 'rate-limit-outage', 'rate-limit-silent') },
  { prefix: 'shared/http/', tests: it('http-input', 'http-fuzz', 'http-gateway', 'broker-alarm') },
  { prefix: 'shared/db/locks', tests: it('order-locks', 'concurrency', 'redelivery', 'payment-recovery') },
  { prefix: 'shared/db/', tests: it('order-locks', 'prepared-statements', 'event-log', 'outage', 'payment-recovery', 'read-only-database', 'silent-database') },
  { prefix: 'shared/history/', tests: it('event-log', 'retention', 'rebuild', 'replay', 'recent-events-rebuild', 'redis-runs') },
  { prefix: 'shared/messaging/event-log', tests: it('event-log', 'rebuild', 'replay') },
  { prefix: 'shared/messaging/retention', tests: it('retention', 'event-log') },
  { prefix: 'shared/messaging/topology', tests: it('upgrade', 'broker-policies', 'partitions') },
  { prefix: 'shared/messaging/upgrade', tests: it('upgrade', 'partitions') },
  { prefix: 'shared/messaging/outbox', tests: it('publish-silent', 'publish-refused', 'broker-alarm', 'saga') },
  { prefix: 'shared/messaging/', tests: it('broker-policies', 'publish-refused', 'publish-silent', 'silent-database', 'partitions', 'operations', 'broker-cork', 'broker-alarm') },
  { prefix: 'shared/silence', tests: it('rate-limit-silent', 'publish-silent') },
  { prefix: 'shared/logger.ts', tests: it('console') },
  { prefix: 'shared/', tests: [] },
  // The local runtime.
  { prefix: 'local/console/', tests: it('console') },
  { prefix: 'local/auth/', tests: it('auth-issuer', 'access') },
  { prefix: 'local/identities/', tests: it('identities', 'publish-refused') },
  { prefix: 'local/lambda', tests: it('environments', 'http-gateway') },
  { prefix: 'local/environment', tests: it('environments', 'http-gateway') },
  { prefix: 'local/bundles', tests: it('environments') },
  { prefix: 'local/dlq', tests: it('operations') },
  { prefix: 'local/prepare', tests: it('upgrade', 'partitions') },
  { prefix: 'local/', tests: [] },
  // Paths the integration tests do not exercise: the CDK app (test/cdk), the dashboard
  // (test/browser, web/'s own tests), benchmarks, the tools, documents, the other test projects.
  { prefix: 'lib/', tests: [] },
  { prefix: 'bin/', tests: [] },
  { prefix: 'scripts/private-stack', tests: it('rate-limit-outage') },
  { prefix: 'scripts/', tests: [] },
  { prefix: 'web/', tests: [] },
  { prefix: 'bench/', tests: [] },
  { prefix: 'docs/', tests: [] },
  { prefix: 'test/unit/', tests: [] },
  { prefix: 'test/cdk/', tests: [] },
  { prefix: 'test/browser/', tests: [] },
  { prefix: 'test/stack/', tests: [] },
  { prefix: 'test/fixtures/environment-handler', tests: it('http-gateway', 'environments') },
  { prefix: 'test/fixtures/order-consumer-batch', tests: it('timeline-order') },
  { prefix: 'test/support/silent-link', tests: it('publish-silent', 'silent-database') },
];

/**
 * The end-to-end set: an order through all four services (saga), events delivered twice, out of
 * order and malformed (redelivery), bad input refused (http-input), every route's access (access)
 * and the WebSocket (notifications). Added for any change to the code the runtime runs, and the
 * whole of the quick run's integration tests when a change maps to nothing more specific.
 */
export const DEFAULT_INTEGRATION = it('saga', 'redelivery', 'http-input', 'access', 'notifications');

/** Paths whose change cannot affect what any test checks. */
const INERT = /(^|\/)[^/]+\.md$|^\.gitignore$|^LICENSE$/;

/** Prefixes whose changes reach everything the runtime runs: the end-to-end set is added to what they map to. */
const RUNTIME_CODE = /^(shared|functions|local)\//;

export interface QuickPlan {
  /** Integration test files to run, sorted. */
  integration: string[];
  /** Why each file is in the plan (the first path that brought it), for the run's header. */
  because: Record<string, string>;
}

/**
 * The integration test files a set of changed paths calls for. An integration test file that
 * changed runs itself; a path under shared/, functions/ or local/ adds its area's tests and the
 * end-to-end set; a path no area names (package.json, the lock file, test/support, a new folder)
 * adds the end-to-end set; documents, the CDK app, the dashboard and the other test projects add nothing.
 */
export function planIntegration(changed: readonly string[], integrationFiles: readonly string[]): QuickPlan {
  const known = new Set(integrationFiles);
  const because: Record<string, string> = {};
  const add = (files: readonly string[], path: string) => {
    for (const f of files) if (known.has(f) && !(f in because)) because[f] = path;
  };
  for (const path of changed) {
    if (INERT.test(path)) continue;
    if (known.has(path)) {
      add([path], path);
      continue;
    }
    if (path.startsWith('test/integration/')) {
      // A deleted test file, or a helper beside the tests: the end-to-end set.
      add(DEFAULT_INTEGRATION, path);
      continue;
    }
    const area = INTEGRATION_AREAS.find((a) => path.startsWith(a.prefix));
    if (!area) {
      add(DEFAULT_INTEGRATION, path);
      continue;
    }
    add(area.tests, path);
    if (RUNTIME_CODE.test(path)) add(DEFAULT_INTEGRATION, path);
  }
  return { integration: Object.keys(because).sort(), because };
}

/**
 * Splits test files into at most `groups` groups of about equal total duration (longest first,
 * each to the group with the least so far); a file without a known duration counts as the median
 * of the known ones. Groups come back longest first, without empty ones.
 */
export function balance(files: readonly string[], durations: ReadonlyMap<string, number>, groups: number): string[][] {
  const known = files.map((f) => durations.get(f)).filter((d): d is number => d !== undefined).sort((a, b) => a - b);
  const fallback = known.length ? known[Math.floor(known.length / 2)]! : 1;
  const weight = (f: string) => durations.get(f) ?? fallback;
  const sorted = [...files].sort((a, b) => weight(b) - weight(a) || a.localeCompare(b));
  const bins = Array.from({ length: Math.max(1, Math.min(groups, files.length)) }, () => ({ total: 0, files: [] as string[] }));
  for (const f of sorted) {
    const bin = bins.reduce((min, b) => (b.total < min.total ? b : min));
    bin.files.push(f);
    bin.total += weight(f);
  }
  return bins
    .filter((b) => b.files.length)
    .sort((a, b) => b.total - a.total)
    .map((b) => b.files);
}
