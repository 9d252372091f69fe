/** The fault run's table, as printed and as pasted into RELIABILITY.md. Pure. */
import type { ChaosReport, PhaseResult } from './run';

const seconds = (s: number | null) => (s === null ? '—' : s.toFixed(1));

export function formatTable(phases: PhaseResult[]): string {
  const header = ['fault', 'accepted', '201 p99 (ms)', 'POST errors', 'of which 503', 'lost', 'duplicated', 'violations', 'away (s)', 'detected in (s)', 'recovered in (s)', 'drain (s)', '/health said'];
  const rows = phases.map((p) => [
    p.title,
    String(p.accepted),
    p.acceptedPostP99Ms === null ? '—' : String(Math.round(p.acceptedPostP99Ms)),
    String(p.postErrors),
    String(p.refused),
    String(p.lost),
    String(p.duplicated),
    String(p.violations) + (p.drained ? '' : ' (not drained)'),
    seconds(p.downSeconds),
    seconds(p.detectSeconds),
    seconds(p.recoverySeconds),
    seconds(p.drainSeconds),
    p.health.replace(/\|/g, '/'),
  ]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((h, i) => (i === 0 || i === header.length - 1 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

export function formatReport(report: ChaosReport): string {
  const o = report.options;
  const lines = [
    `Fault run ${report.startedAt.slice(0, 19).replace('T', ' ')} UTC: ${o.rate} orders/s, ${o.seconds} s of load per fault, services away ${o.downSeconds} s; ` +
      `${report.machine.cores} cores, load average ${report.machine.loadAtStart.toFixed(1)} at the start, ${report.machine.loadAtEnd.toFixed(1)} at the end`,
    '',
    formatTable(report.phases),
    '',
    report.ok ? 'Every check held after every fault.' : 'FAILED: a check broke (see above), or a phase did not drain.',
  ];
  return lines.join('\n');
}
