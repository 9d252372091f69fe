'use client';
import { useEffect, useState } from 'react';
import { watchForStaleCode } from '../lib/new-version';

/** Offers a reload once this tab has met code of its build that is no longer served (a deploy since it opened). */
export function NewVersionBanner() {
  const [stale, setStale] = useState(false);
  useEffect(() => watchForStaleCode(window, () => setStale(true)), []);
  if (!stale) return null;
  return (
    <div role="alert" data-new-version className="border-b border-amber-200 bg-amber-50 px-4 py-2 text-sm text-amber-900">
      <div className="mx-auto flex max-w-7xl items-center gap-3">
        <span>EventFlow was updated since this tab opened, and part of the page could not load.</span>
        <button type="button" onClick={() => window.location.reload()} className="rounded-md bg-amber-900 px-2.5 py-1 font-medium text-white hover:bg-amber-800">
          Reload
        </button>
      </div>
    </div>
  );
}
