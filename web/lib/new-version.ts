/**
 * A tab opened before a deploy asks for code of its own build: if that code is gone (or a route's
 * payload no longer matches), the import fails. The site keeps earlier builds' hashed files
 * (lib/web.ts), so this is rare; when it happens, the dashboard offers a reload rather than a page
 * that silently stops working.
 */

/** Whether a failure is a piece of the dashboard's own code that could not be loaded. */
export function isStaleCodeFailure(reason: unknown): boolean {
  if (!reason || typeof reason !== 'object') return false;
  const { name, message } = reason as { name?: unknown; message?: unknown };
  if (name === 'ChunkLoadError') return true;
  if (typeof message !== 'string') return false;
  // webpack's and Turbopack's wording for a chunk, a CSS chunk and a dynamic import that failed.
  return /Loading (CSS )?chunk [^ ]+ failed|Failed to load chunk|Failed to fetch dynamically imported module|error loading dynamically imported module|Importing a module script failed/i.test(message);
}

const STALE_EVENT = 'eventflow:stale-code';

/** For a failure that is handled (so never reaches `unhandledrejection`): tells the watcher if it is stale code. */
export function reportIfStale(reason: unknown, target: Pick<Window, 'dispatchEvent'> = window): void {
  if (isStaleCodeFailure(reason)) target.dispatchEvent(new Event(STALE_EVENT));
}

/** Calls `onStale` when the page meets a failure to load its own code; returns the unsubscribe. */
export function watchForStaleCode(target: Pick<Window, 'addEventListener' | 'removeEventListener'>, onStale: () => void): () => void {
  const onRejection = (e: PromiseRejectionEvent) => {
    if (isStaleCodeFailure(e.reason)) onStale();
  };
  const onError = (e: ErrorEvent) => {
    if (isStaleCodeFailure(e.error)) onStale();
  };
  target.addEventListener('unhandledrejection', onRejection);
  target.addEventListener('error', onError);
  target.addEventListener(STALE_EVENT, onStale);
  return () => {
    target.removeEventListener('unhandledrejection', onRejection);
    target.removeEventListener('error', onError);
    target.removeEventListener(STALE_EVENT, onStale);
  };
}
