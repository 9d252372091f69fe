import { describe, expect, it } from 'vitest';
import { isStaleCodeFailure, reportIfStale, watchForStaleCode } from './new-version';

describe('a failure to load the dashboard\'s own code', () => {
  it('is told apart from other failures', () => {
    const chunk = Object.assign(new Error('Loading chunk 4213 failed.\n(error: https://x.cloudfront.net/_next/static/chunks/4213.js)'), { name: 'ChunkLoadError' });
    expect(isStaleCodeFailure(chunk)).toBe(true);
    expect(isStaleCodeFailure(new Error('Loading CSS chunk 77 failed.'))).toBe(true);
    expect(isStaleCodeFailure(new TypeError('Failed to fetch dynamically imported module: https://x/_next/static/chunks/a.js'))).toBe(true);
    expect(isStaleCodeFailure(new Error('Failed to load chunk /_next/static/chunks/b.js'))).toBe(true);
    expect(isStaleCodeFailure(new TypeError('Failed to fetch'))).toBe(false);
    expect(isStaleCodeFailure(new Error('401 Unauthorized'))).toBe(false);
    expect(isStaleCodeFailure('Loading chunk 1 failed')).toBe(false);
    expect(isStaleCodeFailure(null)).toBe(false);
  });

  it('is reported from an unhandled rejection, an error event or a handled failure, and not after unsubscribing', () => {
    const target = new EventTarget();
    let stale = 0;
    const stop = watchForStaleCode(target as unknown as Window, () => stale++);
    const rejection = Object.assign(new Event('unhandledrejection'), { reason: Object.assign(new Error('x'), { name: 'ChunkLoadError' }) });
    target.dispatchEvent(rejection);
    target.dispatchEvent(Object.assign(new Event('unhandledrejection'), { reason: new Error('something else') }));
    target.dispatchEvent(Object.assign(new Event('error'), { error: new Error('Loading chunk 9 failed.') }));
    expect(stale).toBe(2);
    // A failure the code handled itself (the sign-in library's import) is reported on purpose.
    reportIfStale(new TypeError('Failed to fetch dynamically imported module: /_next/static/chunks/c.js'), target as unknown as Window);
    reportIfStale(new Error('invalid_grant'), target as unknown as Window);
    expect(stale).toBe(3);
    stop();
    target.dispatchEvent(rejection);
    expect(stale).toBe(3);
  });
});
