'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { DeadLetters, QueueInfo } from '../../lib/api';
import { api, errorText } from '../../lib/api';
import { Badge, Empty, ErrorNotice, Loading, OrderLink, PageHeader, SuccessNotice, Time } from '../ui';

/** Counts only: reading them takes nothing off a queue. */
const DEPTH_EVERY_MS = 5_000;
/**
 * Reading a DLQ's messages takes each off and puts it back; so it is done only when the DLQ's depth
 * changed, at most this often, or when asked.
 */
const DEAD_LETTERS_MIN_MS = 15_000;

function DeadLetterPanel({ queue, depth, onRedriven }: { queue: QueueInfo; depth: number; onRedriven: (result: string) => void }) {
  const [letters, setLetters] = useState<DeadLetters | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const lastRead = useRef<{ at: number; depth: number } | null>(null);

  const read = useCallback(
    async (force = false) => {
      const last = lastRead.current;
      if (!force && last && (last.depth === depth || Date.now() - last.at < DEAD_LETTERS_MIN_MS)) return;
      lastRead.current = { at: Date.now(), depth };
      try {
        setLetters(await api.deadLetters(queue.name));
        setError(null);
      } catch (err) {
        setError(errorText(err));
      }
    },
    [queue.name, depth],
  );

  useEffect(() => {
    void read();
  }, [read]);

  async function redrive() {
    setBusy(true);
    setError(null);
    try {
      const r = await api.redrive(queue.name);
      setLetters(null);
      lastRead.current = null;
      // Told by the page: this panel goes away while the DLQ is empty.
      onRedriven(`Moved ${r.moved} message(s) from ${r.deadLetterQueue} back to ${r.queue}. What still cannot be processed is parked again, with its reason.`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  }

  return (
    <section aria-labelledby={`dlq-${queue.name}`} className="card mt-4 p-4" data-dlq={queue.deadLetter.name}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id={`dlq-${queue.name}`} className="text-base font-semibold">
          {queue.deadLetter.name} <Badge tone={depth ? 'bad' : 'good'}>{depth} parked</Badge>
        </h2>
        <div className="flex gap-2">
          <button type="button" className="btn" onClick={() => void read(true)}>
            Refresh messages
          </button>
          {depth > 0 && !confirming && (
            <button type="button" className="btn btn-primary" onClick={() => setConfirming(true)} disabled={busy}>
              Redrive to {queue.name}
            </button>
          )}
        </div>
      </div>
      {confirming && (
        <div role="group" aria-labelledby={`redrive-q-${queue.name}`} className="mt-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm">
          <p id={`redrive-q-${queue.name}`} className="font-medium text-amber-950">
            Move the {depth} parked message(s) back onto {queue.name}? Its consumer processes them again; fix their cause first.
          </p>
          <div className="mt-2 flex gap-2">
            <button type="button" className="btn btn-primary" onClick={() => void redrive()} disabled={busy}>
              {busy ? 'Moving…' : 'Yes, redrive'}
            </button>
            <button type="button" className="btn" onClick={() => setConfirming(false)}>
              Not now
            </button>
          </div>
        </div>
      )}
      {error && (
        <div className="mt-3">
          <ErrorNotice title="The dead letters could not be read" message={error} />
        </div>
      )}
      {!letters && !error && depth > 0 && <Loading what="parked messages" />}
      {letters && letters.messages.length > 0 && (
        <div className="mt-3 overflow-x-auto">
          <table className="table" aria-label={`Messages parked in ${queue.deadLetter.name}`}>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Order</th>
                <th scope="col">Why it was parked</th>
                <th scope="col">Parked at</th>
                <th scope="col">Message id</th>
              </tr>
            </thead>
            <tbody>
              {letters.messages.map((m, i) => (
                <tr key={`${m.messageId ?? 'none'}-${i}`} data-dead-letter={m.eventType ?? 'unknown'}>
                  <td className="font-mono text-xs">{m.eventType ?? 'not an event'}</td>
                  <td>{m.orderId ? <OrderLink id={m.orderId} /> : '—'}</td>
                  <td className="max-w-md text-red-900">{m.reason}</td>
                  <td>{m.parkedAt ? <Time iso={m.parkedAt} withDate /> : '—'}</td>
                  <td className="font-mono text-xs text-slate-600">{m.messageId?.slice(0, 8) ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {letters.truncated && <p className="mt-2 text-xs text-slate-600">The first {letters.messages.length} of {letters.depth} are shown.</p>}
        </div>
      )}
    </section>
  );
}

export function QueuesView() {
  const [queues, setQueues] = useState<{ checkedAt: string; queues: QueueInfo[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [redriven, setRedriven] = useState<string | null>(null);
  const refresh = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    const ctl = new AbortController();
    api.listQueues(ctl.signal).then(
      (q) => {
        setQueues(q);
        setError(null);
      },
      (err: unknown) => {
        if ((err as Error).name !== 'AbortError') setError(errorText(err));
      },
    );
    const timer = setTimeout(refresh, DEPTH_EVERY_MS);
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, [tick, refresh]);

  const parked = queues?.queues.filter((q) => q.deadLetter.depth > 0) ?? [];
  return (
    <>
      <PageHeader
        title="Queues"
        description="Each service queue with its backlog and consumers, and each dead-letter queue with why its messages were parked. Redrive moves them back to the queue they came from."
      >
        {queues && (
          <span className="text-xs text-slate-600">
            Checked <Time iso={queues.checkedAt} />, every {DEPTH_EVERY_MS / 1000} s
          </span>
        )}
      </PageHeader>
      {error && <ErrorNotice title="The queues could not be read" message={error} onRetry={refresh} />}
      {!queues && !error && <Loading what="queues" />}
      {queues && (
        <div className="card overflow-x-auto">
          <table className="table" aria-label="Queues">
            <thead>
              <tr>
                <th scope="col">Queue</th>
                <th scope="col" className="text-right">Waiting</th>
                <th scope="col" className="text-right">Consumers</th>
                <th scope="col">Dead-letter queue</th>
                <th scope="col" className="text-right">Parked</th>
              </tr>
            </thead>
            <tbody>
              {queues.queues.map((q) => (
                <tr key={q.name} data-queue={q.name}>
                  <td className="font-mono text-sm">
                    {q.name}
                    {q.partitions.length > 1 && (
                      <details className="mt-1 font-sans text-xs text-slate-700">
                        <summary className="cursor-pointer">{q.partitions.length} partitions</summary>
                        <ul className="mt-1 space-y-0.5">
                          {q.partitions.map((p) => (
                            <li key={p.name} className="font-mono">
                              {p.name}: {p.depth} waiting, {p.consumers} consumer(s)
                            </li>
                          ))}
                        </ul>
                      </details>
                    )}
                  </td>
                  <td className="text-right tabular-nums" data-field="depth">{q.depth}</td>
                  <td className="text-right tabular-nums">{q.consumers === 0 ? <Badge tone="bad">none</Badge> : q.consumers}</td>
                  <td className="font-mono text-sm">{q.deadLetter.name}</td>
                  <td className="text-right tabular-nums" data-field="parked">
                    {q.deadLetter.depth ? <Badge tone="bad">{q.deadLetter.depth}</Badge> : 0}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {redriven && (
        <div className="mt-4" data-redrive-result>
          <SuccessNotice>{redriven}</SuccessNotice>
        </div>
      )}
      {queues && parked.length === 0 && (
        <div className="mt-4">
          <Empty title="No dead letters">Every message was processed or is waiting its turn.</Empty>
        </div>
      )}
      {parked.map((q) => (
        <DeadLetterPanel
          key={q.name}
          queue={q}
          depth={q.deadLetter.depth}
          onRedriven={(result) => {
            setRedriven(result);
            refresh();
          }}
        />
      ))}
    </>
  );
}
