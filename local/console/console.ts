/**
 * Where `npm run dev`'s output goes. Off a terminal (CI, files, pipes) and whenever LOG_FORMAT=json,
 * exactly what it always was: each function's JSON lines on stdout straight from its environments,
 * the runtime's own lines on stderr. On a terminal (or LOG_FORMAT=pretty), the runtime reads its
 * environments' output itself and prints one readable line per entry (format.ts); the INFO lines
 * that come per order, per event or per batch are counted into a status line every 10 s instead
 * (status.ts), unless LOG_LEVEL=DEBUG; warnings and errors show at once, with what to do when the
 * cause is known (advice.ts). The decision is made here, in the process that owns the terminal:
 * the environments always write JSON, as on Lambda.
 */
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { FunctionSpec } from '../../functions/catalog';
import { LAMBDA_ENV } from '../../shared/env';
import { adviceFor } from './advice';
import type { AdviceContext } from './advice';
import { formatAdvice, formatEntry, formatLine, parseLogLine } from './format';
import type { FormatOptions, Level, LogEntry } from './format';
import type { RuntimeCounters } from './status';

export type ConsoleMode = 'json' | 'pretty';

/** LOG_FORMAT=pretty|json decides; otherwise pretty exactly when stdout is a terminal. */
export function consoleMode(env: NodeJS.ProcessEnv, stdoutIsTerminal: boolean): ConsoleMode {
  const wanted = env.LOG_FORMAT?.trim().toLowerCase();
  if (wanted === 'pretty' || wanted === 'json') return wanted;
  if (wanted) throw new Error(`LOG_FORMAT must be "pretty" or "json", got ${JSON.stringify(env.LOG_FORMAT)}`);
  return stdoutIsTerminal ? 'pretty' : 'json';
}

/** Colour on a terminal, unless NO_COLOR says otherwise (https://no-color.org); FORCE_COLOR forces it. */
export function useColor(env: NodeJS.ProcessEnv, stdoutIsTerminal: boolean): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  return stdoutIsTerminal;
}

/** What kind of function wrote an entry (its trigger): queue consumers and schedules log per batch. */
export type SourceKind = FunctionSpec['trigger']['kind'];

/**
 * Whether an entry is traffic the status line stands for: INFO about one order or one event, or
 * any INFO of a function that runs per batch (a queue consumer, a schedule). DEBUG entries only
 * exist with LOG_LEVEL=DEBUG, and then every entry shows.
 */
export function isSummarised(entry: LogEntry, kind: SourceKind, debug: boolean): boolean {
  if (debug || entry.level !== 'INFO') return false;
  return kind === 'queue' || kind === 'schedule' || 'orderId' in entry.fields || 'eventId' in entry.fields;
}

/** The text to look for a known cause in: the message and the fields that carry errors. */
function causeText(entry: LogEntry): string {
  const f = entry.fields as { error?: unknown; reason?: unknown };
  const error = typeof f.error === 'object' && f.error ? JSON.stringify(f.error) : String(f.error ?? '');
  return `${entry.message} ${error} ${String(f.reason ?? '')}`;
}

export interface ConsoleOptions {
  mode: ConsoleMode;
  color: boolean;
  /** LOG_LEVEL=DEBUG: every line shows. */
  debug: boolean;
  /** Where lines go; by default stdout (pretty) and stderr (the runtime's own lines, as JSON mode always had them). */
  out?: (line: string) => void;
  err?: (line: string) => void;
}

export function createConsole(opts: ConsoleOptions) {
  const out = opts.out ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const err = opts.err ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const style: FormatOptions = { color: opts.color };
  const pretty = opts.mode === 'pretty';
  let advice: AdviceContext = { services: [], ports: [] };
  let counters: RuntimeCounters = { throttled: 0, rateLimited: 0, summarised: 0 };

  const advise = (text: string) => {
    const what = adviceFor(text, advice);
    if (what) out(formatAdvice(what, style));
  };
  const runtimeLine = (level: Level, line: string) => {
    out(formatLine(level, 'runtime', line, [], Date.now(), style));
    if (level !== 'INFO') advise(line);
  };

  return {
    mode: opts.mode,
    /** The services and ports advice may name, once the configuration is known. */
    setAdviceContext(ctx: AdviceContext) {
      advice = ctx;
    },
    log(line: string) {
      if (pretty) runtimeLine('INFO', line);
      else err(`[eventflow] ${line}`);
    },
    warn(line: string) {
      if (pretty) runtimeLine('WARN', line);
      else err(`[eventflow] ${line}`);
    },
    logError(line: string, e: unknown) {
      if (!pretty) return err(`[eventflow] ${line}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      const message = e instanceof Error ? e.message : String(e);
      out(formatLine('ERROR', 'runtime', `${line}: ${message}`, [], Date.now(), style));
      if (opts.debug && e instanceof Error && e.stack) for (const l of e.stack.split('\n').slice(1)) out(`    ${l.trim()}`);
      advise(`${line} ${message} ${(e as { code?: unknown })?.code ?? ''}`);
    },
    /**
     * How an environment's output is handled: in JSON mode not at all (the environment inherits
     * stdout and stderr, as always); in pretty mode, read here line by line. The logger writes
     * warnings and errors to stderr, the rest to stdout; anything else (a stack trace the process
     * printed as it died) passes as it came.
     */
    environmentOutput: pretty
      ? (functionId: string, kind: SourceKind, stdout: Readable, stderr: Readable) => {
          const read = (stream: Readable, raw: (line: string) => void) =>
            createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
              const entry = parseLogLine(line);
              if (!entry) return void (line.trim() && raw(line));
              if (isSummarised(entry, kind, opts.debug)) return void counters.summarised++;
              out(formatEntry(entry, functionId, style));
              if (entry.level !== 'DEBUG' && entry.level !== 'INFO') advise(causeText(entry));
            });
          read(stdout, out);
          read(stderr, err);
        }
      : undefined,
    throttled() {
      counters.throttled++;
    },
    rateLimited() {
      counters.rateLimited++;
    },
    /** The counts since the last call; they start again from zero. */
    takeCounters(): RuntimeCounters {
      const taken = counters;
      counters = { throttled: 0, rateLimited: 0, summarised: 0 };
      return taken;
    },
    status(text: string) {
      out(formatLine('STATUS', 'runtime', text, [], Date.now(), style));
    },
  };
}

export type RuntimeConsole = ReturnType<typeof createConsole>;

/** Whether LOG_LEVEL asks for every line. */
export const isDebug = (env: NodeJS.ProcessEnv) => (env[LAMBDA_ENV.logLevel] ?? '').toUpperCase() === 'DEBUG';
