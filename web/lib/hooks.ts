'use client';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { authStore, startAuth } from './auth';
import { configStore, loadConfig } from './config';
import type { LiveEvent } from './events';
import { liveSocket } from './socket';

const noop = () => () => undefined;

export function useConfigState() {
  return useSyncExternalStore(configStore.subscribe, configStore.get, configStore.getServer);
}

const SERVER_SOCKET_STATE = { status: 'idle', attempt: 0, retryAt: null, reason: null } as const;

export function useSocketState() {
  return useSyncExternalStore(liveSocket.subscribeState, liveSocket.getState, () => SERVER_SOCKET_STATE);
}

export function useAuthState() {
  return useSyncExternalStore(authStore.subscribe, authStore.get, authStore.getServer);
}

/** Who is signed in (pages render only once someone is: see components/Account.tsx). */
export function useAccount() {
  const auth = useAuthState();
  return auth.status === 'signed-in' ? auth.account : null;
}

/** Starts reading the config and the session and connecting the socket (once signed in), once, in the browser. */
export function useStartLive() {
  useEffect(() => {
    loadConfig().catch(() => undefined);
    startAuth();
    liveSocket.start();
  }, []);
}

/**
 * Declares what this view shows on the socket (an order id, or null for every event) and hands
 * it each batch of new events. `onEvents` may change between renders; the latest one is called.
 */
export function useLiveEvents(orderId: string | null | undefined, onEvents: (events: LiveEvent[]) => void, onGap?: () => void) {
  const handler = useRef(onEvents);
  const gap = useRef(onGap);
  handler.current = onEvents;
  gap.current = onGap;
  useEffect(() => {
    if (orderId === undefined) return;
    const stopEvents = liveSocket.onEvents((events) => handler.current(events));
    const stopGap = liveSocket.onGap(() => gap.current?.());
    const stopWant = liveSocket.want(orderId);
    return () => {
      stopEvents();
      stopGap();
      stopWant();
    };
  }, [orderId]);
}

/**
 * A value read from a source that changes often, re-read at most every `everyMs` after a change: a
 * page under hundreds of events per second renders a few times a second, not once per event.
 * `subscribe` registers a listener for changes and returns its removal.
 */
export function useSampled<T>(subscribe: (onChange: () => void) => () => void, read: () => T, everyMs: number, initial: () => T): T {
  const [value, setValue] = useState(initial);
  const readRef = useRef(read);
  readRef.current = read;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    let last = 0;
    const flush = () => {
      timer = null;
      last = Date.now();
      setValue(readRef.current());
    };
    const stop = subscribe(() => {
      if (timer) return;
      timer = setTimeout(flush, Math.max(0, last + everyMs - Date.now()));
    });
    flush();
    return () => {
      stop();
      if (timer) clearTimeout(timer);
    };
  }, [subscribe, everyMs]);
  return value;
}

const noEvents = (): LiveEvent[] => [];

/** The socket's recent events, oldest first, re-read at most every `everyMs`. */
export function useRecentEvents(everyMs = 250): LiveEvent[] {
  return useSampled(liveSocket.subscribeRecent, liveSocket.getRecent, everyMs, noEvents);
}

/** Re-renders every `everyMs` (clocks, "3 s ago"). */
export function useNow(everyMs = 1000): number {
  return useSyncExternalStore(
    everyMs > 0 ? (l) => {
      const t = setInterval(l, everyMs);
      return () => clearInterval(t);
    } : noop,
    () => Math.floor(Date.now() / everyMs) * everyMs,
    () => 0,
  );
}

/**
 * A listing's filters, kept in the page's query so that a link or a reload shows the same list: the
 * query as it is, and a way to set some filters (an empty value drops one).
 */
export function useQueryFilters() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const setQuery = useCallback(
    (next: Record<string, string | undefined>) => {
      const q = new URLSearchParams(params.toString());
      for (const [k, v] of Object.entries(next)) {
        if (v) q.set(k, v);
        else q.delete(k);
      }
      router.replace(`${pathname}${q.size ? `?${q}` : ''}`);
    },
    [params, router, pathname],
  );
  return { params, setQuery };
}
