'use client';
import { useMemo, useRef, useState } from 'react';
import type { LiveEvent, Publisher } from '../../lib/events';
import { EVENT_TYPES, SERVICES, SERVICE_NAMES, describeEvent, orderIdOf } from '../../lib/events';
import { useLiveEvents, useRecentEvents } from '../../lib/hooks';
import { RECENT_MAX } from '../../lib/socket';
import { FilterBar, SelectField, TextField } from '../Fields';
import { Empty, OrderLink, PageHeader, Time } from '../ui';

const ROW_H = 40;
const VIEW_H = 560;
const OVERSCAN = 8;

/**
 * Only the rows in view are in the DOM (a window over the list), so an hour of events at hundreds
 * per second keeps the page as light as a minute of them.
 */
function EventRows({ events, selected, onSelect }: { events: LiveEvent[]; selected: string | null; onSelect: (e: LiveEvent) => void }) {
  const [scrollTop, setScrollTop] = useState(0);
  const first = Math.max(0, Math.floor(scrollTop / ROW_H) - OVERSCAN);
  const last = Math.min(events.length, Math.ceil((scrollTop + VIEW_H) / ROW_H) + OVERSCAN);
  return (
    <div
      className="relative overflow-y-auto"
      style={{ height: VIEW_H }}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      tabIndex={0}
      role="region"
      aria-label={`Event feed, ${events.length} event(s), newest first`}
    >
      <ol style={{ height: events.length * ROW_H, position: 'relative' }}>
        {events.slice(first, last).map((e, i) => {
          const orderId = orderIdOf(e);
          const index = first + i;
          return (
            <li
              key={e.id}
              data-event-type={e.type}
              data-order-id={orderId ?? undefined}
              className={`absolute inset-x-0 flex items-center gap-3 border-b border-slate-100 px-3 text-sm ${selected === e.id ? 'bg-sky-50' : ''}`}
              style={{ top: index * ROW_H, height: ROW_H }}
            >
              <span className="w-24 shrink-0 font-mono text-xs text-slate-600">
                <Time iso={e.occurredAt} />
              </span>
              <span className="w-20 shrink-0 text-xs font-semibold text-slate-700 uppercase">{SERVICES[e.source]?.label ?? e.source}</span>
              <button type="button" className="w-52 shrink-0 truncate text-left font-mono text-xs text-sky-900 hover:underline" onClick={() => onSelect(e)} aria-pressed={selected === e.id}>
                {e.type}
              </button>
              <span className="w-20 shrink-0">{orderId ? <OrderLink id={orderId} /> : <span className="text-xs text-slate-500">—</span>}</span>
              <span className="truncate text-slate-700">{describeEvent(e)}</span>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

export function EventsView() {
  const recent = useRecentEvents(250);
  const [paused, setPaused] = useState<LiveEvent[] | null>(null);
  const [service, setService] = useState<Publisher | ''>('');
  const [type, setType] = useState('');
  const [orderFilter, setOrderFilter] = useState('');
  const [selected, setSelected] = useState<LiveEvent | null>(null);
  const arrivedWhilePaused = useRef(0);
  useLiveEvents(null, (events) => {
    if (paused) arrivedWhilePaused.current += events.length;
  });

  const source = paused ?? recent;
  const shown = useMemo(() => {
    const needle = orderFilter.trim().toLowerCase();
    const out: LiveEvent[] = [];
    for (let i = source.length - 1; i >= 0; i--) {
      const e = source[i]!;
      if (service && e.source !== service) continue;
      if (type && e.type !== type) continue;
      if (needle && !(orderIdOf(e) ?? '').toLowerCase().includes(needle)) continue;
      out.push(e);
    }
    return out;
  }, [source, service, type, orderFilter]);

  return (
    <>
      <PageHeader
        title="Events"
        description={`Every event of every service, newest first, as it is published (the latest ${RECENT_MAX.toLocaleString('en-US')} are kept). Pick an event type to read an event whole.`}
      >
        <button
          type="button"
          className={`btn ${paused ? 'btn-primary' : ''}`}
          aria-pressed={paused !== null}
          onClick={() => {
            arrivedWhilePaused.current = 0;
            setPaused((p) => (p ? null : recent));
          }}
        >
          {paused ? 'Resume' : 'Pause'}
        </button>
      </PageHeader>
      <FilterBar>
        <SelectField
          id="f-service"
          label="Service"
          value={service}
          onChange={(value) => setService(value as Publisher | '')}
          options={[{ value: '', label: 'All services' }, ...SERVICE_NAMES.map((s) => ({ value: s, label: SERVICES[s].label }))]}
        />
        <SelectField
          id="f-type"
          label="Event type"
          value={type}
          onChange={setType}
          options={[{ value: '', label: 'All types' }, ...EVENT_TYPES.filter((t) => !service || t.startsWith(`${service}.`)).map((t) => ({ value: t, label: t }))]}
        />
        <TextField id="f-order" label="Order id" className="min-w-72 flex-1" inputClassName="font-mono" value={orderFilter} onChange={setOrderFilter} placeholder="all or part of an order id" />
        <p className="text-sm text-slate-600" role="status" aria-live="polite">
          {paused ? `Paused: ${arrivedWhilePaused.current} new event(s) waiting.` : `Showing ${shown.length} of ${source.length}.`}
        </p>
      </FilterBar>
      <div className="grid gap-4 lg:grid-cols-3">
        <div className="card overflow-hidden lg:col-span-2">
          {shown.length === 0 ? (
            <div className="p-4">
              <Empty title={source.length ? 'No event matches these filters' : 'No events yet'}>
                {source.length ? 'Clear a filter to see more.' : 'Events appear here the moment a service publishes them: place an order to see its saga go by.'}
              </Empty>
            </div>
          ) : (
            <EventRows events={shown} selected={selected?.id ?? null} onSelect={setSelected} />
          )}
        </div>
        <section aria-labelledby="event-detail-title" className="card p-4">
          <h2 id="event-detail-title" className="mb-2 text-base font-semibold">
            {selected ? selected.type : 'Event'}
          </h2>
          {selected ? (
            <>
              {orderIdOf(selected) && (
                <p className="mb-2 text-sm">
                  Order <OrderLink id={orderIdOf(selected)!} full />
                </p>
              )}
              <pre className="max-h-[28rem] overflow-auto rounded bg-slate-900 p-3 text-xs text-slate-100">{JSON.stringify(selected, null, 2)}</pre>
            </>
          ) : (
            <p className="text-sm text-slate-600">Choose an event type in the feed to read the event whole.</p>
          )}
        </section>
      </div>
    </>
  );
}
