/** The environments' heap reports (local/heap-report.ts), as the soak reads them. */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { HeapReport } from '../../local/heap-report';
import { processAlive } from '../../scripts/process-tree';

/** The latest report of every environment still running. */
export function readHeapReports(dir: string): HeapReport[] {
  const out: HeapReport[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    try {
      const r = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as HeapReport;
      if (processAlive(r.pid)) out.push(r);
    } catch {
      // being written, or gone meanwhile
    }
  }
  return out;
}
