/** Command line of `npm run bench`. Pure: parses argv into options, or says what is wrong. */
import { parseArgs } from 'node:util';
import { DEFAULT_PRODUCT_SET } from './products';
import type { ProductSetOptions } from './products';
import { DEFAULT_MIX } from './schedule';
import type { Mix } from './schedule';

export interface BenchOptions {
  mode: 'open' | 'closed';
  /** Offered rates (open loop) or concurrencies (closed loop), one level each. */
  levels: number[];
  seconds: number;
  warmupSeconds: number;
  runs: number;
  wsClients: number;
  /** subscribe: one subscription per order; all: connections that receive every event. */
  wsWatch: 'subscribe' | 'all';
  httpConnections: number;
  requestTimeoutMs: number;
  settleWaitMs: number;
  drainTimeoutSeconds: number;
  drainStallSeconds: number;
  mix: Mix;
  products: ProductSetOptions;
  /** Extra environment for the runtime (and for this process, so both derive the same topology). */
  env: Record<string, string>;
  outDir: string;
  name: string | null;
  seed: number;
  profile: boolean;
  /** Sampling frequency of a system-wide `perf record` over each measured window; null: none. */
  perfFrequency: number | null;
  chart: boolean;
  /** Run on a PostgreSQL, RabbitMQ and Redis of the bench's own (scripts/private-stack.ts). */
  privateStack: boolean;
  /** Count statements per order with pg_stat_statements (the private stack's PostgreSQL loads it). */
  statements: boolean;
}

export const HELP = `npm run bench -- [options]

Places orders against a runtime of its own (own namespace, free ports, removed afterwards) and
measures what a user sees: POST latency, and the time until the order's final status arrives on
a WebSocket. Checks the saga's invariants after every level; exits non-zero if one broke.

Load
  --mode open|closed        open: fixed offered rates (default); closed: N orders in flight
  --rates 250,500,1000      open loop: orders per second offered, one level each
                            (default 250,500,1000,1500,2000)
  --concurrency 8,32,128    closed loop: orders in flight, one level each (default 32)
  --seconds 60              measured seconds per level (default 60)
  --warmup 60               warm-up seconds before each level, reported apart (default 60: every
                            function environment JIT-compiles its own code; see BENCHMARKS.md);
                            an open-loop level warms up with 32 orders in flight, then offers its rate
  --runs 3                  repetitions; the report shows medians (default 3)
  --ws-clients 1            WebSocket connections that watch the orders (default 1)
  --ws-watch subscribe|all  subscribe to each order after its 201, unsubscribe once settled
                            (default); or subscribe to nothing and receive every event, as
                            the dashboard does
  --http-connections 64     keep-alive connections of the HTTP pool (default 64)

Mix
  --declined 0.1            share paid with the declined card (default 0.1)
  --scarce 0.05             share with a line for a scarce product (default 0.05)
  --cancel 0.05             share cancelled shortly after creation (default 0.05)
  --cancel-delay-ms 300     a cancellation follows the 201 after 0..this ms (default 300)
  --lines 1-3               lines per order (default 1-3); quantity 1-3 per line
  --products 100            plentiful products (stock 1,000,000 each)
  --scarce-products 3       scarce products, --scarce-stock 20 units each

Runtime and run
  --env KEY=VALUE           runtime setting (repeatable), e.g. --env PARTITIONS=2; plain
                            environment variables reach the runtime too
  --timeout-ms 10000        bound on one HTTP request, queueing included
  --settle-wait-ms 60000    closed loop: how long a worker waits for a final status
  --drain-timeout 600       seconds to wait after a level until nothing is pending
  --drain-stall 120         ... giving up earlier if the backlog stops shrinking this long
  --out bench/results       where the JSON and the charts go
  --name NAME               file name (default: the date and the mode)
  --seed 1                  seed of the order mix
  --profile                 CPU-profile the runtime (--cpu-prof); top functions in the report
  --perf                    record the whole machine with Linux perf over each measured window
                            (perf record -a -e cpu-clock); samples by process group, their split
                            (kernel, JIT code, the program, libraries) and top symbols in the report
  --perf-freq 499           its sampling frequency, Hz (default 499; implies --perf)
  --private-stack           start a PostgreSQL, RabbitMQ and Redis of its own (free ports, a
                            temporary folder, removed afterwards) instead of the shared ones
  --statements              with --private-stack: its PostgreSQL loads pg_stat_statements, and the
                            report gives statements per settled order, the most frequent first
  --no-chart                skip the SVG/PNG
  --replot FILE.json        print the tables and draw the chart again from a results file
  --compare REF             before/after: check out the git REF in a worktree (under
                            node_modules/.cache/eventflow/compare/), then run its bench and this
                            tree's alternately, --runs times each (at least 2, default 3), one run
                            per turn with the same options; prints both and the ratios
  --help                    this text

Quick check: npm run bench -- --rates 100 --seconds 10 --runs 1`;

function list(value: string, what: string): number[] {
  const xs = value.split(',').map((s) => Number(s.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isFinite(x) || x <= 0)) throw new Error(`${what}: expected positive numbers separated by commas, got "${value}"`);
  return xs;
}

function num(value: string | undefined, fallback: number, what: string, { min = 0, max = Number.POSITIVE_INFINITY } = {}): number {
  if (value === undefined) return fallback;
  const x = Number(value);
  if (!Number.isFinite(x) || x < min || x > max) throw new Error(`${what}: expected a number in [${min}, ${max}], got "${value}"`);
  return x;
}

export type ParsedArgs = { kind: 'help' } | { kind: 'replot'; file: string } | { kind: 'run'; options: BenchOptions };

export function parseBenchArgs(argv: string[]): ParsedArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      mode: { type: 'string' },
      rates: { type: 'string' },
      concurrency: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      runs: { type: 'string' },
      'ws-clients': { type: 'string' },
      'ws-watch': { type: 'string' },
      'http-connections': { type: 'string' },
      declined: { type: 'string' },
      scarce: { type: 'string' },
      cancel: { type: 'string' },
      'cancel-delay-ms': { type: 'string' },
      lines: { type: 'string' },
      products: { type: 'string' },
      'scarce-products': { type: 'string' },
      'scarce-stock': { type: 'string' },
      env: { type: 'string', multiple: true },
      'timeout-ms': { type: 'string' },
      'settle-wait-ms': { type: 'string' },
      'drain-timeout': { type: 'string' },
      'drain-stall': { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      seed: { type: 'string' },
      profile: { type: 'boolean' },
      perf: { type: 'boolean' },
      'perf-freq': { type: 'string' },
      'private-stack': { type: 'boolean' },
      statements: { type: 'boolean' },
      'no-chart': { type: 'boolean' },
      replot: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { kind: 'help' };
  if (values.replot) return { kind: 'replot', file: values.replot };
  const mode = values.mode ?? 'open';
  if (mode !== 'open' && mode !== 'closed') throw new Error(`--mode: open or closed, got "${mode}"`);
  const levels = mode === 'open' ? list(values.rates ?? '250,500,1000,1500,2000', '--rates') : list(values.concurrency ?? '32', '--concurrency').map(Math.round);
  const wsWatch = values['ws-watch'] ?? 'subscribe';
  if (wsWatch !== 'subscribe' && wsWatch !== 'all') throw new Error(`--ws-watch: subscribe or all, got "${wsWatch}"`);
  const lines = /^(\d+)(?:-(\d+))?$/.exec(values.lines ?? '1-3');
  if (!lines) throw new Error(`--lines: N or N-M, got "${values.lines}"`);
  const minLines = Number(lines[1]);
  const maxLines = Number(lines[2] ?? lines[1]);
  if (minLines < 1 || maxLines < minLines) throw new Error(`--lines: 1 <= N <= M, got "${values.lines}"`);
  const plentiful = num(values.products, DEFAULT_PRODUCT_SET.plentiful, '--products', { min: 1 });
  if (maxLines > plentiful) throw new Error('--lines: more lines than --products');
  // The shared PostgreSQL is never reconfigured: only the bench's own loads the extension.
  if (values.statements && !values['private-stack']) throw new Error('--statements needs --private-stack');
  const env: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new Error(`--env: KEY=VALUE, got "${pair}"`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    kind: 'run',
    options: {
      mode,
      levels,
      seconds: num(values.seconds, 60, '--seconds', { min: 1 }),
      warmupSeconds: num(values.warmup, 60, '--warmup'),
      runs: Math.round(num(values.runs, 3, '--runs', { min: 1 })),
      wsClients: Math.round(num(values['ws-clients'], 1, '--ws-clients', { min: 1, max: 1000 })),
      wsWatch,
      httpConnections: Math.round(num(values['http-connections'], 64, '--http-connections', { min: 1 })),
      requestTimeoutMs: num(values['timeout-ms'], 10_000, '--timeout-ms', { min: 100 }),
      settleWaitMs: num(values['settle-wait-ms'], 60_000, '--settle-wait-ms', { min: 100 }),
      drainTimeoutSeconds: num(values['drain-timeout'], 600, '--drain-timeout', { min: 1 }),
      drainStallSeconds: num(values['drain-stall'], 120, '--drain-stall', { min: 1 }),
      mix: {
        ...DEFAULT_MIX,
        declined: num(values.declined, DEFAULT_MIX.declined, '--declined', { max: 1 }),
        scarce: num(values.scarce, DEFAULT_MIX.scarce, '--scarce', { max: 1 }),
        cancelled: num(values.cancel, DEFAULT_MIX.cancelled, '--cancel', { max: 1 }),
        cancelDelayMaxMs: num(values['cancel-delay-ms'], DEFAULT_MIX.cancelDelayMaxMs, '--cancel-delay-ms'),
        minLines,
        maxLines,
      },
      products: {
        ...DEFAULT_PRODUCT_SET,
        plentiful,
        scarce: Math.round(num(values['scarce-products'], DEFAULT_PRODUCT_SET.scarce, '--scarce-products')),
        scarceStock: Math.round(num(values['scarce-stock'], DEFAULT_PRODUCT_SET.scarceStock, '--scarce-stock')),
      },
      env,
      outDir: values.out ?? 'bench/results',
      name: values.name ?? null,
      seed: Math.round(num(values.seed, 1, '--seed')),
      profile: values.profile ?? false,
      perfFrequency: values.perf || values['perf-freq'] !== undefined ? Math.round(num(values['perf-freq'], 499, '--perf-freq', { min: 1, max: 10_000 })) : null,
      chart: !values['no-chart'],
      privateStack: values['private-stack'] ?? false,
      statements: values.statements ?? false,
    },
  };
}
