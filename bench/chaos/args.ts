/** Command line of `npm run chaos`. Pure: parses argv into options, or says what is wrong. */
import { parseArgs } from 'node:util';
import { DEFAULT_MIX } from '../schedule';
import type { Mix } from '../schedule';
import { FAULT_IDS } from './faults';
import type { FaultId } from './faults';

export interface ChaosOptions {
  /** Orders per second offered, open loop, through every phase. */
  rate: number;
  /** Seconds of load per fault: a third before it, the rest after it is over. */
  seconds: number;
  faults: FaultId[];
  /** Seconds a stopped service stays stopped. */
  downSeconds: number;
  drainTimeoutSeconds: number;
  /** Malformed messages per exchange, and copies of recent events per service, in the burst. */
  malformedPerExchange: number;
  duplicatesPerService: number;
  mix: Mix;
  seed: number;
  httpConnections: number;
  requestTimeoutMs: number;
  /** The machine's measured ceiling (settled orders/s): the tenfold burst offers ten times it. */
  ceiling: number;
  /** Seconds the tenfold burst lasts. */
  burstSeconds: number;
  /** Where the JSON record of the run goes (null: nowhere). */
  out: string | null;
}

export const HELP = `npm run chaos -- [options]

The fault run. Starts a PostgreSQL, RabbitMQ and Redis of its own (free ports, a temporary
folder, removed at the end; the machine's own services are never touched) and the runtime on
them, offers a steady open-loop load of orders (declined cards, scarce products, cancellations)
and injects the faults in turn. After each: drains, then checks from the databases and the
broker that every accepted order settled, stock and money are conserved, nothing happened twice,
no terminal status changed, every order's timeline agrees with its status, and the DLQs hold
exactly the malformed messages. Prints a table and
exits non-zero on any violation. See RELIABILITY.md.

  --rate 100              orders per second offered (default 100)
  --seconds 30            seconds of load per fault; the fault comes a third of the way in,
                          and the load goes on at least as long again after it (default 30)
  --faults LIST           comma-separated, in this order by default:
                          ${FAULT_IDS.join(',')}
  --down 5                seconds a stopped service stays stopped (default 5)
  --drain-timeout 300     seconds to wait after a phase until nothing is pending (default 300)
  --malformed 20          malformed messages per exchange in the burst (default 20)
  --duplicates 50         copies of recent events per service in the burst (default 50)
  --declined 0.1          share paid with the declined card (default 0.1)
  --scarce 0.05           share with a line for a scarce product (default 0.05)
  --cancel 0.05           share cancelled shortly after creation (default 0.05)
  --seed 1                seed of the order mix
  --ceiling 150           the machine's ceiling in settled orders/s (BENCHMARKS.md); the
                          tenfold burst offers ten times it (default 150)
  --burst-seconds 20      how long the tenfold burst lasts (default 20)
  --http-connections 32   keep-alive connections of the HTTP pool (default 32)
  --timeout-ms 10000      bound on one HTTP request
  --out FILE.json         also write the run's figures as JSON
  --help                  this text

Quick check: npm run chaos -- --rate 20 --seconds 9`;

function num(value: string | undefined, fallback: number, what: string, { min = 0, max = Number.POSITIVE_INFINITY } = {}): number {
  if (value === undefined) return fallback;
  const x = Number(value);
  if (!Number.isFinite(x) || x < min || x > max) throw new Error(`${what}: expected a number in [${min}, ${max}], got "${value}"`);
  return x;
}

export type ParsedChaosArgs = { kind: 'help' } | { kind: 'run'; options: ChaosOptions };

export function parseChaosArgs(argv: string[]): ParsedChaosArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      rate: { type: 'string' },
      seconds: { type: 'string' },
      faults: { type: 'string' },
      down: { type: 'string' },
      'drain-timeout': { type: 'string' },
      malformed: { type: 'string' },
      duplicates: { type: 'string' },
      declined: { type: 'string' },
      scarce: { type: 'string' },
      cancel: { type: 'string' },
      seed: { type: 'string' },
      ceiling: { type: 'string' },
      'burst-seconds': { type: 'string' },
      'http-connections': { type: 'string' },
      'timeout-ms': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { kind: 'help' };
  const faults = (values.faults ?? FAULT_IDS.join(',')).split(',').map((f) => f.trim()).filter(Boolean);
  for (const f of faults) if (!(FAULT_IDS as readonly string[]).includes(f)) throw new Error(`--faults: "${f}" is not one of ${FAULT_IDS.join(', ')}`);
  if (faults.length === 0) throw new Error('--faults: name at least one');
  return {
    kind: 'run',
    options: {
      rate: num(values.rate, 100, '--rate', { min: 1 }),
      seconds: num(values.seconds, 30, '--seconds', { min: 3 }),
      faults: faults as FaultId[],
      downSeconds: num(values.down, 5, '--down', { min: 0 }),
      drainTimeoutSeconds: num(values['drain-timeout'], 300, '--drain-timeout', { min: 10 }),
      malformedPerExchange: Math.round(num(values.malformed, 20, '--malformed', { min: 1 })),
      duplicatesPerService: Math.round(num(values.duplicates, 50, '--duplicates')),
      mix: {
        ...DEFAULT_MIX,
        declined: num(values.declined, DEFAULT_MIX.declined, '--declined', { max: 1 }),
        scarce: num(values.scarce, DEFAULT_MIX.scarce, '--scarce', { max: 1 }),
        cancelled: num(values.cancel, DEFAULT_MIX.cancelled, '--cancel', { max: 1 }),
      },
      seed: Math.round(num(values.seed, 1, '--seed')),
      ceiling: num(values.ceiling, 150, '--ceiling', { min: 1 }),
      burstSeconds: num(values['burst-seconds'], 20, '--burst-seconds', { min: 1 }),
      httpConnections: Math.round(num(values['http-connections'], 32, '--http-connections', { min: 1 })),
      requestTimeoutMs: num(values['timeout-ms'], 10_000, '--timeout-ms', { min: 100 }),
      out: values.out ?? null,
    },
  };
}
