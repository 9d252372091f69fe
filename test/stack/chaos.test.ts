/**
 * The fault run (`npm run chaos`), short: every fault, a small load, phases of a few seconds, on a
 * private stack of its own. What it asserts is what the run checks after each fault (nothing
 * lost, nothing done twice, DLQs holding exactly the malformed messages, /health reporting each
 * missing dependency), never how fast anything was.
 */
import { expect, it } from 'vitest';
import { FAULT_IDS, NETWORK_FAULTS } from '../../bench/chaos/faults';
import { DEFAULT_MIX } from '../../bench/schedule';
import { runChaos } from '../../bench/chaos/run';
import { networkFaultsUnavailable } from '../../bench/chaos/network';

/**
 * The full disk mounts a small filesystem (bench/chaos/disk.ts), which takes root: CI runs as root;
 * elsewhere the phase is left out, and said so below.
 */
const AS_ROOT = process.getuid?.() === 0;
if (!AS_ROOT) process.stderr.write('chaos: not root, so payment-disk-full is left out (npm run chaos -- --faults payment-disk-full, as root)\n');

/**
 * The network cuts put the runtime in a network namespace and drop packets with nftables
 * (bench/chaos/network.ts): root, `ip` and `nft` (.ci/run installs nftables). Without them they
 * are left out, and said so.
 */
const CANNOT_CUT = networkFaultsUnavailable();
if (CANNOT_CUT) process.stderr.write(`chaos: ${CANNOT_CUT}, so the network cuts are left out\n`);

/**
 * Not the tenfold burst either: what it judges is pace (p99 against the steady p99, refusals within
 * 2 s, the backlog within a minute) at ten times the machine's ceiling, a benchmark's question,
 * not a test's (`npm run chaos -- --faults tenfold-burst`, RELIABILITY.md).
 *
 * Every fault but the broker alarm: setting and clearing a watermark are two rabbitmqctl runs,
 * whose Erlang start-up took about two minutes on the shared machine under load, more than this
 * run may add (RELIABILITY.md); `npm run chaos -- --faults broker-alarm` runs it, and
 * test/integration/broker-alarm.test.ts covers what it fixed.
 */
const CI_FAULTS = FAULT_IDS.filter(
  (f) => f !== 'broker-alarm' && f !== 'tenfold-burst' && (f !== 'payment-disk-full' || AS_ROOT) && (NETWORK_FAULTS[f] === undefined || CANNOT_CUT === null),
);

it('every fault, under load: nothing lost, nothing duplicated, only the malformed messages dead-lettered', async () => {
  const report = await runChaos(
    {
      rate: 20,
      seconds: 6,
      faults: CI_FAULTS,
      downSeconds: 3,
      drainTimeoutSeconds: 300,
      malformedPerExchange: 5,
      duplicatesPerService: 20,
      // More cancellations and declines than the default mix, so each phase has some of every kind.
      mix: { ...DEFAULT_MIX, declined: 0.15, scarce: 0.1, cancelled: 0.15 },
      seed: 7,
      ceiling: 150,
      burstSeconds: 20,
      httpConnections: 16,
      requestTimeoutMs: 15_000,
      out: null,
    },
    { log: (line) => process.stderr.write(`${line}\n`) },
  );
  expect(report.phases.map((p) => p.fault)).toEqual(CI_FAULTS);
  for (const p of report.phases) {
    expect({ fault: p.fault, violations: p.violations, examples: p.examples, drained: p.drained }).toEqual({ fault: p.fault, violations: 0, examples: [], drained: true });
    // The runtime took orders and settled them again after each fault.
    expect(p.accepted, p.fault).toBeGreaterThan(0);
    expect(p.recoverySeconds, `${p.fault}: no order placed after the fault settled, or /health never said ok again`).not.toBeNull();
  }
  expect(report.ok).toBe(true);
}, 900_000);
