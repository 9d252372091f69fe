/**
 * Reads the V8 CPU profiles (`--cpu-prof`) the runtime wrote and says where its time went: self
 * time by function and by module (an npm package or a project file, with the builtins and Node
 * internals it called), idle left out.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  files: string[];
  /** Sampled non-idle time, ms. */
  busyMs: number;
  byModule: ProfileEntry[];
  byFunction: ProfileEntry[];
  /** The same per process group (a function's environments, or the runtime's main process). */
  byGroup: { group: string; busyMs: number; byModule: ProfileEntry[] }[];
}

/** The pid in a --cpu-prof file name: CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile. */
export function pidOfProfile(file: string): number | null {
  const m = /^CPU\.\d+\.\d+\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(path.basename(file));
  return m ? Number(m[1]) : null;
}

const PROJECT_ROOT = pathToFileURL(path.resolve(import.meta.dirname, '..')).href + '/';

/**
 * The module a script belongs to: an npm package ("pg", "@smithy/core"), a project file
 * ("functions/order/api.ts"), or one of Node's own ("node:internal/streams/writable").
 */
export function moduleOf(url: string, root = PROJECT_ROOT): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (url.startsWith(root)) return url.slice(root.length);
  return url;
}

/** Self time per module and per function over several profiles, top `top` of each. */
export function summarizeProfiles(profiles: CpuProfile[], top = 15): Omit<ProfileSummary, 'files' | 'byGroup'> {
  const byModule = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busyUs = 0;
  for (const p of profiles) {
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    /**
     * Builtins (JSON.parse, a socket write) and Node's own modules count toward the package or
     * project file that called them: a socket write made for pg is pg's time.
     */
    const moduleOfNode = (node: ProfileNode): string => {
      const { functionName, url } = node.callFrame;
      if (!url && functionName.startsWith('(')) return functionName; // (garbage collector), (program)
      let nodeOwn: string | null = null;
      for (let at: number | undefined = node.id; at !== undefined; at = parent.get(at)) {
        const frame = nodes.get(at)!.callFrame;
        if (!frame.url) continue;
        if (!frame.url.startsWith('node:')) return moduleOf(frame.url);
        nodeOwn ??= frame.url;
      }
      return nodeOwn ?? '(native)';
    };
    for (let i = 0; i < p.samples.length; i++) {
      const node = nodes.get(p.samples[i]!);
      const us = p.timeDeltas[i] ?? 0;
      if (!node || node.callFrame.functionName === '(idle)' || us <= 0) continue;
      busyUs += us;
      const { functionName, url, lineNumber } = node.callFrame;
      const mod = moduleOfNode(node);
      byModule.set(mod, (byModule.get(mod) ?? 0) + us);
      const fn = url ? `${functionName || '(anonymous)'} ${mod}:${lineNumber + 1}` : functionName.startsWith('(') ? functionName : `${functionName} (builtin, from ${mod})`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    }
  }
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), share: busyUs ? us / busyUs : 0 }));
  return { busyMs: Math.round(busyUs / 1000), byModule: rank(byModule), byFunction: rank(byFunction) };
}

/**
 * The runtime's functions run from esbuild bundles (local/bundles.ts): every frame of a function
 * points into one file. Each frame is taken back to its original source and name through the
 * bundle's source map, so that time lands on the package or project file that spent it.
 */
export function resolveBundledFrames(profile: CpuProfile): CpuProfile {
  const maps = new Map<string, SourceMap | null>();
  const mapOf = (url: string): SourceMap | null => {
    if (!url.startsWith('file://') || !url.endsWith('.mjs')) return null;
    if (!maps.has(url)) {
      const file = `${fileURLToPath(url)}.map`;
      maps.set(url, existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8'))) : null);
    }
    return maps.get(url)!;
  };
  for (const node of profile.nodes) {
    const { url, lineNumber, columnNumber } = node.callFrame;
    const map = mapOf(url);
    if (!map || lineNumber < 0) continue;
    const entry = map.findEntry(lineNumber, columnNumber ?? 0) as { originalSource?: string; originalLine?: number; name?: string };
    if (!entry?.originalSource) continue;
    node.callFrame = {
      functionName: entry.name ?? node.callFrame.functionName,
      url: new URL(entry.originalSource, url).href,
      lineNumber: entry.originalLine ?? lineNumber,
      columnNumber: 0,
    };
  }
  return profile;
}

/** Summarizes every profile in dir, overall and per group (groupOfPid names a file's process). */
export async function summarizeProfileDir(dir: string, groupOfPid: (pid: number) => string | undefined = () => undefined, top = 15): Promise<ProfileSummary | null> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f));
  if (files.length === 0) return null;
  const profiles = await Promise.all(files.map(async (f) => ({ file: f, profile: resolveBundledFrames(JSON.parse(await readFile(f, 'utf8')) as CpuProfile) })));
  const groups = new Map<string, CpuProfile[]>();
  for (const { file, profile } of profiles) {
    const pid = pidOfProfile(file);
    const group = (pid !== null && groupOfPid(pid)) || `pid ${pid ?? '?'}`;
    groups.set(group, [...(groups.get(group) ?? []), profile]);
  }
  const byGroup = [...groups]
    .map(([group, ps]) => {
      const s = summarizeProfiles(ps, 8);
      return { group, busyMs: s.busyMs, byModule: s.byModule };
    })
    .sort((a, b) => b.busyMs - a.busyMs);
  return { files, ...summarizeProfiles(profiles.map((p) => p.profile), top), byGroup };
}
