'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { navFor, pageAccess } from '../lib/access';
import { useAuthState, useStartLive } from '../lib/hooks';
import { AccountMenu, Gate } from './Account';
import { ConnectionIndicator } from './ConnectionIndicator';
import { NewVersionBanner } from './NewVersionBanner';

function isCurrent(pathname: string, href: string): boolean {
  if (href === '/') return pathname === '/';
  if (href === '/orders/') return pathname === '/orders/' || pathname.startsWith('/orders/view');
  return pathname.startsWith(href);
}

/**
 * The frame every page renders in at once: the reader's navigation, the connection's state and who
 * is signed in. The page itself waits for a sign-in that may open it.
 */
export function Shell({ children }: { children: React.ReactNode }) {
  useStartLive();
  const auth = useAuthState();
  const pathname = usePathname() ?? '/';
  const path = pathname.endsWith('/') ? pathname : `${pathname}/`;
  const nav = navFor(auth.status === 'signed-in' ? auth.account.role : null);
  return (
    <>
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2">
        Skip to content
      </a>
      <NewVersionBanner />
      <header className="sticky top-0 z-40 border-b border-slate-200 bg-white/95 backdrop-blur">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-2.5">
          <Link href="/" className="flex items-center gap-2 text-base font-bold tracking-tight text-slate-900">
            <span aria-hidden="true" className="inline-block h-5 w-5 rounded bg-gradient-to-br from-sky-600 to-emerald-500" />
            EventFlow
          </Link>
          <nav aria-label="Main" className="flex-1">
            <ul className="flex flex-wrap gap-1">
              {nav.map((item) => {
                const current = isCurrent(path, item.href);
                return (
                  <li key={item.href}>
                    <Link
                      href={item.href}
                      aria-current={current ? 'page' : undefined}
                      className={`rounded-md px-2.5 py-1.5 text-sm font-medium ${current ? 'bg-slate-900 text-white' : 'text-slate-700 hover:bg-slate-100 hover:text-slate-900'}`}
                    >
                      {item.label}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </nav>
          {auth.status === 'signed-in' && <ConnectionIndicator />}
          <AccountMenu />
        </div>
      </header>
      <main id="main" className="mx-auto max-w-7xl px-4 py-6">
        <Gate access={pageAccess(path)}>{children}</Gate>
      </main>
    </>
  );
}
