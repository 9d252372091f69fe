'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { DeadLetters, QueueInfo } from '../../lib/api';
import { api, errorText } from '../../lib/api';
import { DataTable } from '../DataTable';
import type { TableSpec } from '../DataTable';
import { Badge, Empty, OrderLink, PageHeader, SuccessNotice, Time } from '../ui';

/** Counts only: reading them takes nothing off a queue. */
const DEPTH_EVERY_MS = 5_000;
/**
 * Reading a DLQ's messages takes each off and puts it back; so it is done only when the DLQ's depth
 * changed, at most this often, or when asked.
 */
const DEAD_LETTERS_MIN_MS = 15_000;

type ParkedRow = DeadLetters['messages'][number] & { key: string };

const DEAD_LETTER_TABLE = (dlq: string): TableSpec<ParkedRow> => ({
  label: `Messages parked in ${dlq}`,
  loading: 'parked messages',
  errorTitle: 'The dead letters could not be read',
  row: (m) => ({ key: m.key, 'data-dead-letter': m.eventType ?? 'unknown' }),
  columns: [
    { key: 'event', header: 'Event', className: 'font-mono text-xs', cell: (m) => m.eventType ?? 'not an event', sortValue: (m) => m.eventType ?? '' },
    { key: 'order', header: 'Order', cell: (m) => (m.orderId ? <OrderLink id={m.orderId} /> : '—') },
    { key: 'reason', header: 'Why it was parked', className: 'max-w-md text-red-900', cell: (m) => m.reason, sortValue: (m) => m.reason },
    { key: 'parkedAt', header: 'Parked at', cell: (m) => (m.parkedAt ? <Time iso={m.parkedAt} withDate /> : '—'), sortValue: (m) => m.parkedAt ?? '' },
    { key: 'messageId', header: 'Message id', className: 'font-mono text-xs text-slate-600', cell: (m) => m.messageId?.slice(0, 8) ?? '—' },
  ],
});

const QUEUE_TABLE: TableSpec<QueueInfo> = {
  label: 'Queues',
  errorTitle: 'The queues could not be read',
  row: (q) => ({ key: q.name, 'data-queue': q.name }),
  columns: [
    {
      key: 'queue',
      header: 'Queue',
      className: 'font-mono text-sm',
      sortValue: (q) => q.name,
      cell: (q) => (
        <>
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
        </>
      ),
    },
    { key: 'depth', header: 'Waiting', numeric: true, field: 'depth', cell: (q) => q.depth, sortValue: (q) => q.depth },
    { key: 'consumers', header: 'Consumers', numeric: true, cell: (q) => (q.consumers === 0 ? <Badge tone="bad">none</Badge> : q.consumers), sortValue: (q) => q.consumers },
    { key: 'dlq', header: 'Dead-letter queue', className: 'font-mono text-sm', cell: (q) => q.deadLetter.name },
    { key: 'parked', header: 'Parked', numeric: true, field: 'parked', cell: (q) => (q.deadLetter.depth ? <Badge tone="bad">{q.deadLetter.depth}</Badge> : 0), sortValue: (q) => q.deadLetter.depth },
  ],
};

function DeadLetterPanel({ queue, depth, onRedriven }: { queue: QueueInfo; depth: number; onRedriven: (result: string) => void }) {
  const [letters, setLetters] = useState<(Omit<DeadLetters, 'messages'> & { messages: ParkedRow[] }) | null>(null);
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
        const read = await api.deadLetters(queue.name);
        // Message ids may be missing or repeat (a message parked twice): a row's key is its place too.
        setLetters({ ...read, messages: read.messages.map((m, i) => ({ ...m, key: `${m.messageId ?? 'none'}-${i}` })) });
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
      <div className="mt-3 overflow-x-auto">
        <DataTable
          table={DEAD_LETTER_TABLE(queue.deadLetter.name)}
          frame="none"
          rows={letters?.messages ?? null}
          error={error}
          empty={{ title: 'Nothing parked', children: 'Every message was processed or is waiting its turn.' }}
        />
        {letters?.truncated && <p className="mt-2 text-xs text-slate-600">The first {letters.messages.length} of {letters.depth} are shown.</p>}
      </div>
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
      <DataTable table={QUEUE_TABLE} rows={queues?.queues ?? null} error={error} onRetry={refresh} empty={{ title: 'No queues', children: "The broker holds none of this deployment's queues." }} />
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
