'use client';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
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

/** Starts reading the config and connecting the socket, once, in the browser. */
export function useStartLive() {
  useEffect(() => {
    loadConfig().catch(() => undefined);
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
 * A value recomputed from the socket's recent events at most every `everyMs`, so a page under a
 * stream of hundreds of events per second renders a few times a second, not hundreds.
 */
export function useRecentEvents(everyMs = 250): LiveEvent[] {
  const version = useSyncExternalStore(liveSocket.subscribeRecent, liveSocket.getRecentVersion, () => 0);
  return useThrottled(version, everyMs, () => liveSocket.getRecent());
}

/** Recomputes `compute` when `key` changes, at most once per `everyMs`. */
export function useThrottled<T>(key: unknown, everyMs: number, compute: () => T): T {
  const [value, setValue] = useState(compute);
  const last = useRef(0);
  const computeRef = useRef(compute);
  computeRef.current = compute;
  useEffect(() => {
    const wait = Math.max(0, last.current + everyMs - Date.now());
    const timer = setTimeout(() => {
      last.current = Date.now();
      setValue(computeRef.current());
    }, wait);
    return () => clearTimeout(timer);
  }, [key, everyMs]);
  return value;
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
