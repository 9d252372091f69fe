/**
 * `npm run chaos`: the fault run (see `npm run chaos -- --help` and RELIABILITY.md). Exits 0 when
 * every check held after every fault, 1 when one broke, 2 on a bad command line.
 */
import { writeFile } from 'node:fs/promises';
import { HELP, parseChaosArgs } from './args';
import { formatReport } from './report';
import { runChaos } from './run';

const log = (line: string) => process.stderr.write(`${line}\n`);

let parsed: ReturnType<typeof parseChaosArgs>;
try {
  parsed = parseChaosArgs(process.argv.slice(2));
} catch (err) {
  log(`${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
  process.exit(2);
}
if (parsed.kind === 'help') {
  console.log(HELP);
} else {
  const cleanups = new Set<() => Promise<void>>();
  let interrupted = false;
  const onSignal = (signal: string) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping the load, the runtime and the private stack…`);
    void Promise.allSettled([...cleanups].map((f) => f())).then(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  try {
    const report = await runChaos(parsed.options, {
      log,
      registerCleanup: (fn) => {
        cleanups.add(fn);
        return () => cleanups.delete(fn);
      },
    });
    console.log(`\n${formatReport(report)}`);
    if (parsed.options.out) {
      await writeFile(parsed.options.out, `${JSON.stringify(report, null, 2)}\n`);
      log(`wrote ${parsed.options.out}`);
    }
    process.exit(report.ok ? 0 : 1);
  } catch (err) {
    log(`\nCHAOS RUN FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  }
}
