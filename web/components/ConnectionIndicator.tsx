'use client';
import { useConfigState, useNow, useSocketState } from '../lib/hooks';
import { liveSocket } from '../lib/socket';

const LOOK = {
  idle: { dot: 'bg-slate-400', text: 'Starting' },
  connecting: { dot: 'bg-amber-500 animate-pulse', text: 'Connecting' },
  'catching-up': { dot: 'bg-sky-500 animate-pulse', text: 'Catching up' },
  live: { dot: 'bg-emerald-500', text: 'Live' },
  reconnecting: { dot: 'bg-amber-500 animate-pulse', text: 'Reconnecting' },
  unavailable: { dot: 'bg-red-600', text: 'Offline' },
} as const;

/** The WebSocket's state, in words, with a way to retry at once while it waits to reconnect. */
export function ConnectionIndicator() {
  const state = useSocketState();
  const config = useConfigState();
  const now = useNow(state.retryAt ? 1000 : 0);
  const look = LOOK[state.status];
  const seconds = state.retryAt ? Math.max(0, Math.ceil((state.retryAt - now) / 1000)) : null;
  const detail =
    state.status === 'reconnecting' || state.status === 'unavailable'
      ? `${state.reason ?? 'disconnected'}; attempt ${state.attempt}${seconds !== null ? `, next in ${seconds} s` : ''}`
      : state.status === 'live'
        ? 'receiving events as they happen'
        : config.status === 'error'
          ? config.message
          : null;
  return (
    <div className="flex items-center gap-2 text-sm" role="status" aria-live="polite" data-connection={state.status}>
      <span aria-hidden="true" className={`inline-block h-2.5 w-2.5 rounded-full ${look.dot}`} />
      <span className="font-medium text-slate-800">{look.text}</span>
      {/* "Live" says enough where the header is tight (an operator's seven pages and the account);
          why a connection is down, and when it retries, is worth the room from lg up. */}
      {detail && (
        <span className={`hidden max-w-64 truncate text-xs text-slate-600 ${state.status === 'live' ? '2xl:inline' : 'lg:inline'}`} title={detail}>
          {detail}
        </span>
      )}
      {(state.status === 'reconnecting' || state.status === 'unavailable') && (
        <button type="button" className="btn px-2 py-0.5 text-xs" onClick={() => liveSocket.retryNow()}>
          Reconnect now
        </button>
      )}
    </div>
  );
}
