/**
 * Reads a system-wide `perf record` as `perf script -F comm,pid,tid,time,ip,sym,dso` prints it and says
 * where the machine's CPU went: samples by process group (the CPU table's groups), each group's
 * split between the kernel, JIT-compiled code, its own executable and shared libraries, and its
 * top symbols. Pure: the recording and the `perf script` run are in perf-record.ts.
 */
import path from 'node:path';

/** The fields of `perf script`, in its order: comm pid/tid time: ip sym (dso). */
export const PERF_SCRIPT_FIELDS = 'comm,pid,tid,time,ip,sym,dso';

export interface PerfSample {
  /** The process (thread group) id: a thread of beam.smp counts toward beam.smp. */
  pid: number;
  comm: string;
  /** Seconds, from an arbitrary origin (the kernel's monotonic clock). */
  time: number;
  ip: bigint;
  sym: string;
  dso: string;
}

/**
 * One line of `perf script`. The command name may hold spaces ("npm ci"), the symbol parentheses
 * ("operator()") and the file name too ("/memfd:vmem (deleted)"): the file is the balanced
 * parenthesis group that ends the line.
 */
export function parsePerfScriptLine(line: string): PerfSample | null {
  const trimmed = line.trimEnd();
  const head = /^\s*(.*?)\s+(\d+)\/\d+\s+(\d+\.\d+):\s+([0-9a-f]+)\s+/.exec(trimmed);
  if (!head || !trimmed.endsWith(')')) return null;
  let depth = 0;
  let open = -1;
  for (let i = trimmed.length - 1; i >= head[0].length; i--) {
    const c = trimmed[i];
    if (c === ')') depth++;
    else if (c === '(' && --depth === 0) {
      open = i;
      break;
    }
  }
  if (open < 0) return null;
  return {
    pid: Number(head[2]),
    comm: head[1]!,
    time: Number(head[3]),
    ip: BigInt(`0x${head[4]}`),
    sym: trimmed.slice(head[0].length, open).trim(),
    dso: trimmed.slice(open + 1, -1),
  };
}

export type CodeKind = 'kernel' | 'jit' | 'binary' | 'libraries' | 'unknown';

/** x86-64 and arm64 kernels live in the upper half of the address space. */
const KERNEL_SPACE = 0x8000_0000_0000_0000n;

/**
 * What kind of code a sample ran. JIT code has no file: perf names it after the map file a JIT may
 * write (/tmp/perf-<pid>.map, "[JIT] tid <pid>") whether or not one was written, and the Erlang
 * VM's JIT maps its code from a memfd.
 */
export function codeKind(s: Pick<PerfSample, 'ip' | 'dso'>): CodeKind {
  if (s.ip >= KERNEL_SPACE || s.dso.startsWith('[kernel')) return 'kernel';
  if (/(^|\/)perf-\d+\.map$/.test(s.dso) || s.dso.startsWith('[JIT]') || s.dso.startsWith('/memfd:') || s.dso === '//anon') return 'jit';
  if (s.dso === '[unknown]' || s.dso === '') return 'unknown';
  if (/\.so(\.[\d.]+)?$/.test(s.dso) || s.dso === '[vdso]') return 'libraries';
  return 'binary';
}

/**
 * The idle task halting or polling: the CPU had nothing to do. The idle task's other samples are
 * the kernel's work that ran on an idle CPU (softirqs: loopback networking), no process's.
 */
export function isIdle(s: Pick<PerfSample, 'pid' | 'sym'>): boolean {
  return s.pid === 0 && /idle|safe_halt|mwait/.test(s.sym);
}

export interface PerfGroup {
  group: string;
  samples: number;
  /** Share of all busy samples. */
  share: number;
  /** Samples by kind of code. */
  split: Record<CodeKind, number>;
  /** The executable most of its own-binary samples ran in (node, postgres, beam.smp). */
  binary: string | null;
  /** Top symbols, "symbol [file]", with their share of the group's samples. */
  topSymbols: { name: string; samples: number; share: number }[];
}

export interface PerfSummary {
  /** The perf.data file summarized. */
  file: string;
  frequency: number;
  /** Seconds recorded: from the first sample to the last, plus one sampling interval. */
  seconds: number;
  samples: number;
  idleSamples: number;
  /** Busy CPU time the samples stand for, in cores (busy samples / frequency / seconds). */
  busyCores: number;
  groups: PerfGroup[];
}

/** The file a symbol is reported with: JIT code of every process as one, the rest by base name. */
function fileLabel(kind: CodeKind, dso: string): string {
  if (kind === 'jit') return 'JIT';
  if (kind === 'kernel') return 'kernel';
  return path.basename(dso) || dso;
}

/** A span of the recording's clock, in seconds: samples outside it are left out. */
export interface PerfWindow {
  from: number;
  to: number;
}

/**
 * Tallies `perf script` lines as they come (a minute of two cores is some 60,000 lines).
 * groupOf names a sample's process group; the idle task's non-idle samples reach it as pid 0.
 */
export function perfTally(groupOf: (pid: number, comm: string) => string, window?: PerfWindow) {
  let samples = 0;
  let idle = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const groups = new Map<string, { samples: number; split: Record<CodeKind, number>; binaries: Map<string, number>; symbols: Map<string, number> }>();
  return {
    add(line: string): void {
      const s = parsePerfScriptLine(line);
      if (!s || (window && (s.time < window.from || s.time >= window.to))) return;
      samples++;
      first = Math.min(first, s.time);
      last = Math.max(last, s.time);
      if (isIdle(s)) {
        idle++;
        return;
      }
      const name = groupOf(s.pid, s.comm);
      let g = groups.get(name);
      if (!g) groups.set(name, (g = { samples: 0, split: { kernel: 0, jit: 0, binary: 0, libraries: 0, unknown: 0 }, binaries: new Map(), symbols: new Map() }));
      const kind = codeKind(s);
      const file = fileLabel(kind, s.dso);
      g.samples++;
      g.split[kind]++;
      if (kind === 'binary') g.binaries.set(file, (g.binaries.get(file) ?? 0) + 1);
      // Unnamed code (JIT code without a map, a stripped function) is named by its file only.
      const symbol = s.sym === '[unknown]' || s.sym === '' ? `[unknown] [${file}]` : `${s.sym} [${file}]`;
      g.symbols.set(symbol, (g.symbols.get(symbol) ?? 0) + 1);
    },
    summary(meta: { file: string; frequency: number }, top = 8): PerfSummary {
      const busy = samples - idle;
      const seconds = samples > 0 && meta.frequency > 0 ? last - first + 1 / meta.frequency : 0;
      const rank = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      return {
        ...meta,
        seconds,
        samples,
        idleSamples: idle,
        busyCores: seconds > 0 ? busy / meta.frequency / seconds : 0,
        groups: [...groups]
          .map(([group, g]) => ({
            group,
            samples: g.samples,
            share: busy ? g.samples / busy : 0,
            split: g.split,
            binary: rank(g.binaries)[0]?.[0] ?? null,
            topSymbols: rank(g.symbols)
              .slice(0, top)
              .map(([name, n]) => ({ name, samples: n, share: n / g.samples })),
          }))
          .sort((a, b) => b.samples - a.samples || (a.group < b.group ? -1 : 1)),
      };
    },
  };
}

/**
 * A C++ symbol made readable: template arguments and lambda bodies elided
 * ("v8::internal::MarkingVisitorBase<…>::ProcessStrongHeapObject<…>"). Left whole if its brackets
 * do not balance (an operator<, say).
 */
export function shortSymbol(sym: string): string {
  let out = '';
  let depth = 0;
  for (const c of sym) {
    if (c === '<' || c === '{') {
      if (depth === 0) out += c === '<' ? '<…' : '{…';
      depth++;
    } else if (c === '>' || c === '}') {
      if (--depth < 0) return sym;
      if (depth === 0) out += c;
    } else if (depth === 0) out += c;
  }
  return depth === 0 ? out : sym;
}

/** Summarizes the whole text of a `perf script` run. */
export function summarizePerfScript(
  text: string,
  groupOf: (pid: number, comm: string) => string,
  meta: { file: string; frequency: number },
  { top = 8, window }: { top?: number; window?: PerfWindow } = {},
): PerfSummary {
  const tally = perfTally(groupOf, window);
  for (const line of text.split('\n')) tally.add(line);
  return tally.summary(meta, top);
}
