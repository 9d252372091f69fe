import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startHeapReports } from '../../local/heap-report';
import { readHeapReports } from '../../bench/soak/heaps';

const dir = mkdtempSync(path.join(os.tmpdir(), 'heap-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('heap reports (local/heap-report.ts, read by bench/soak/heaps.ts)', () => {
  it("read each running environment's latest heap figures, and none of a process that has ended", () => {
    // A process that reports and ends: its file goes with it, and a file left by a dead pid is not read.
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', `import('${path.resolve('local/heap-report.ts')}').then((m) => m.startHeapReports(${JSON.stringify(dir)}, 'order-api'))`], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    expect(readdirSync(dir)).toEqual([]);

    startHeapReports(dir, 'payment-consumer', 60_000);
    const reports = readHeapReports(dir);
    expect(reports).toEqual([expect.objectContaining({ function: 'payment-consumer', pid: process.pid })]);
    expect(reports[0]!.heapUsedMiB).toBeGreaterThan(1);
    expect(reports[0]!.heapTotalMiB).toBeGreaterThanOrEqual(reports[0]!.heapUsedMiB);
  });
});
