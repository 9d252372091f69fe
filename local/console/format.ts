/**
 * One readable line per log entry, for a person at a terminal: time, level (coloured), where it
 * came from (a function, or the runtime), the message and the few fields that matter. The entries
 * are the functions' own JSON lines (Powertools' format, unchanged: what AWS gets), read back.
 * Pure: no I/O.
 */
export type Level = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL';

export interface LogEntry {
  level: Level;
  message: string;
  /** Milliseconds since the epoch. */
  at: number;
  fields: Record<string, unknown>;
}

const LEVELS: readonly Level[] = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'];

/** What Powertools puts on every line, and what a person does not need on each: left out. */
const BOILERPLATE = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'sampling_rate',
  'xray_trace_id',
  'correlationId',
  'eventId',
]);

/** Fields shown first, in this order; the rest follow as they came, up to MAX_FIELDS in all. */
const FIRST = ['orderId', 'eventType', 'queue', 'events', 'count', 'ms', 'durationMs', 'reason', 'why', 'error'];
const MAX_FIELDS = 6;
const MAX_VALUE = 120;

/** A function's JSON log line as an entry, or null for anything else (a stack trace, a stray print). */
export function parseLogLine(line: string): LogEntry | null {
  if (!line.startsWith('{')) return null;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return null;
  }
  if (!json || typeof json !== 'object') return null;
  const o = json as Record<string, unknown>;
  const level = typeof o.level === 'string' ? (o.level.toUpperCase() as Level) : null;
  if (!level || !LEVELS.includes(level) || typeof o.message !== 'string') return null;
  const at = typeof o.timestamp === 'string' ? Date.parse(o.timestamp) : Number.NaN;
  return { level, message: o.message, at: Number.isNaN(at) ? Date.now() : at, fields: o };
}

function valueText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v.length > MAX_VALUE ? `${v.slice(0, MAX_VALUE - 1)}…` : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.length <= 3 && v.every((x) => typeof x !== 'object') ? v.join(',') : `[${v.length}]`;
  if (typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') return valueText((v as { message: string }).message);
  return null;
}

/** The fields worth a place on the line, as `key=value`. */
export function shownFields(fields: Record<string, unknown>): string[] {
  const keys = Object.keys(fields).filter((k) => !BOILERPLATE.has(k));
  const ordered = [...FIRST.filter((k) => keys.includes(k)), ...keys.filter((k) => !FIRST.includes(k))];
  const out: string[] = [];
  for (const k of ordered) {
    const text = valueText(fields[k]);
    if (text === null || text === '') continue;
    out.push(`${k}=${/\s/.test(text) ? JSON.stringify(text) : text}`);
    if (out.length === MAX_FIELDS) break;
  }
  return out;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** The local time of day, to the millisecond: 14:03:07.215. */
export function timeOfDay(at: number): string {
  const d = new Date(at);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

// SGR codes (ECMA-48): a handful, so no colour library; Node's util.styleText changes its rules
// about streams between versions.
const STYLES = { gray: '90', green: '32', yellow: '33', red: '31', redBold: '1;31', cyan: '36', magenta: '35' } as const;
type Style = keyof typeof STYLES;
const LEVEL_STYLE: Record<Level | 'STATUS', Style> = { DEBUG: 'gray', INFO: 'green', WARN: 'yellow', ERROR: 'red', CRITICAL: 'redBold', STATUS: 'magenta' };

export interface FormatOptions {
  color: boolean;
}

const paint = (style: Style, text: string, o: FormatOptions) => (o.color ? `\x1b[${STYLES[style]}m${text}\x1b[0m` : text);

/** Widths of the level and source columns: CRITICAL and the catalog's longest function id fit. */
const LEVEL_WIDTH = 9;
const SOURCE_WIDTH = 24;
/** Where the message starts: the time (12), a space, the two columns. */
const MESSAGE_COLUMN = 13 + LEVEL_WIDTH + SOURCE_WIDTH;

/** `14:03:07.215 WARN     order-consumer          message  orderId=… events=3` */
export function formatLine(level: Level | 'STATUS', source: string, message: string, fields: string[], at: number, o: FormatOptions): string {
  const head = `${paint('gray', timeOfDay(at), o)} ${paint(LEVEL_STYLE[level], level.padEnd(LEVEL_WIDTH), o)}${paint('cyan', source.padEnd(SOURCE_WIDTH), o)}${message}`;
  return fields.length ? `${head}  ${paint('gray', fields.join(' '), o)}` : head;
}

export function formatEntry(entry: LogEntry, source: string, o: FormatOptions): string {
  return formatLine(entry.level, source, entry.message, shownFields(entry.fields), entry.at, o);
}

/** The line that follows a warning or an error whose cause is known: what to do about it. */
export function formatAdvice(advice: string, o: FormatOptions): string {
  return `${' '.repeat(MESSAGE_COLUMN)}${paint('yellow', `→ ${advice}`, o)}`;
}
