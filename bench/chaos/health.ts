/**
 * Watches GET /health through a fault: polls it, keeps what it said and when, and lets the run
 * wait until it says something (the dependency reported missing; everything ok again).
 */
import { apiFetch } from '../http';

/** One dependency's check; `error` says why it is down ("read-only: …", "blocked: …"). */
type Check = { status: 'up' | 'down'; error?: string };

export interface HealthBody {
  status: 'ok' | 'degraded' | 'down';
  checks: {
    postgres: Record<string, Check>;
    rabbitmq: Check;
    redis: Check;
  };
}

/** One answer, or `unreachable` when the runtime did not answer (killed, restarting). */
export type HealthSample = { at: number; body: HealthBody | 'unreachable' };

export type HealthExpectation = (body: HealthBody) => boolean;

/** What /health must say while each dependency is missing (functions/platform/health.ts). */
export const EXPECTED_WHILE_MISSING = {
  postgres: (b: HealthBody) => b.status === 'down' && Object.values(b.checks.postgres).every((c) => c.status === 'down'),
  rabbitmq: (b: HealthBody) => b.status === 'down' && b.checks.rabbitmq.status === 'down',
  redis: (b: HealthBody) => b.status === 'degraded' && b.checks.redis.status === 'down',
} satisfies Record<string, HealthExpectation>;

/** While the broker blocks publishers (a memory or disk alarm): down, and the broker's check says blocked. */
export const EXPECTED_WHILE_BLOCKED: HealthExpectation = (b) => b.status === 'down' && b.checks.rabbitmq.status === 'down' && /^blocked\b/.test(b.checks.rabbitmq.error ?? '');

/** While one service's database takes no writes: down, and that database's check says read-only. */
export const EXPECTED_WHILE_READ_ONLY =
  (db: string): HealthExpectation =>
  (b) =>
    b.status === 'down' && b.checks.postgres[db]?.status === 'down' && /^read-only\b/.test(b.checks.postgres[db]?.error ?? '');

/** While one service's database does not answer (its link cut): down, and that database's check says so. */
export const EXPECTED_WHILE_UNREACHABLE =
  (db: string): HealthExpectation =>
  (b) =>
    b.status === 'down' && b.checks.postgres[db]?.status === 'down';

export const isOk: HealthExpectation = (b) => b.status === 'ok';

export function startHealthWatch(httpUrl: string, everyMs = 250) {
  const samples: HealthSample[] = [];
  let stopped = false;
  const waiters = new Set<{ since: number; match: HealthExpectation; resolve: (at: number | null) => void }>();
  const loop = (async () => {
    while (!stopped) {
      let body: HealthSample['body'] = 'unreachable';
      try {
        const res = await apiFetch(`${httpUrl}/health`, { timeoutMs: 5_000 });
        const json = (await res.json()) as Partial<HealthBody>;
        // Anything but the health function's answer (the gateway's own 500, say) counts as no answer.
        if (typeof json.status === 'string' && json.checks?.postgres && json.checks.rabbitmq && json.checks.redis) body = json as HealthBody;
      } catch {
        // not answering
      }
      const sample = { at: Date.now(), body };
      samples.push(sample);
      for (const w of waiters) {
        if (body !== 'unreachable' && sample.at >= w.since && w.match(body)) {
          waiters.delete(w);
          w.resolve(sample.at);
        }
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    samples,
    /** When /health first said what `match` wants at or after `since`, or null if not within ms. */
    waitFor(match: HealthExpectation, since: number, ms: number): Promise<number | null> {
      const seen = samples.find((s) => s.at >= since && s.body !== 'unreachable' && match(s.body));
      if (seen) return Promise.resolve(seen.at);
      return new Promise((resolve) => {
        const w = { since, match, resolve: (at: number | null) => (clearTimeout(timer), resolve(at)) };
        const timer = setTimeout(() => (waiters.delete(w), resolve(null)), ms);
        waiters.add(w);
      });
    },
    async stop() {
      stopped = true;
      for (const w of waiters) w.resolve(null);
      waiters.clear();
      await loop;
    },
  };
}

export type HealthWatch = ReturnType<typeof startHealthWatch>;

/** What /health said from `from` on, run-length encoded: "ok 3.1 s → down (rabbitmq) 12.0 s → ok". */
export function healthTimeline(samples: HealthSample[], from: number): string {
  const label = (s: HealthSample) => {
    if (s.body === 'unreachable') return 'unreachable';
    const b = s.body;
    // "read-only" or "blocked" when the check says so, rather than plain down.
    const why = (c: Check) => /^(read-only|blocked)\b/.exec(c.error ?? '')?.[1];
    const name = (what: string, c: Check) => (why(c) ? `${what} ${why(c)}` : what);
    const missing = [
      ...Object.entries(b.checks.postgres)
        .filter(([, c]) => c.status === 'down')
        .map(([db, c]) => name(`postgres ${db}`, c)),
      ...(b.checks.rabbitmq.status === 'down' ? [name('rabbitmq', b.checks.rabbitmq)] : []),
      ...(b.checks.redis.status === 'down' ? ['redis'] : []),
    ];
    return missing.length ? `${b.status} (${missing.join(', ')})` : b.status;
  };
  const runs: { label: string; from: number; to: number }[] = [];
  for (const s of samples) {
    if (s.at < from) continue;
    const l = label(s);
    const last = runs.at(-1);
    if (last && last.label === l) last.to = s.at;
    else runs.push({ label: l, from: s.at, to: s.at });
  }
  return runs.map((r, i) => (i === runs.length - 1 ? r.label : `${r.label} ${((runs[i + 1]!.from - r.from) / 1000).toFixed(1)} s`)).join(' → ');
}
