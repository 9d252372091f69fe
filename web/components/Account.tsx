'use client';
import Link from 'next/link';
import { useState } from 'react';
import type { PageAccess } from '../lib/access';
import { allows, homeOf } from '../lib/access';
import { signIn, signOut } from '../lib/auth';
import { useAuthState } from '../lib/hooks';
import { ErrorNotice, Loading } from './ui';

const ROLE_LABEL = { operator: 'Operator', customer: 'Customer' } as const;

/** Who is signed in, as what, and the way out; or the way in. */
export function AccountMenu() {
  const auth = useAuthState();
  const [leaving, setLeaving] = useState(false);
  if (auth.status === 'signed-in') {
    const { account } = auth;
    return (
      <div className="flex items-center gap-2 text-sm" data-testid="account" data-role={account.role ?? 'none'}>
        <span className="max-w-48 truncate font-medium text-slate-800" title={account.email ?? account.sub}>
          {account.name}
        </span>
        <span className="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-semibold text-slate-700 ring-1 ring-slate-300 ring-inset">
          {account.role ? ROLE_LABEL[account.role] : 'No role'}
        </span>
        <button
          type="button"
          className="btn px-2 py-0.5 text-xs"
          disabled={leaving}
          onClick={() => {
            setLeaving(true);
            signOut().catch(() => setLeaving(false));
          }}
        >
          Sign out
        </button>
      </div>
    );
  }
  if (auth.status === 'signed-out') {
    return (
      <button type="button" className="btn btn-primary px-3 py-1 text-sm" onClick={() => void signIn()}>
        Sign in
      </button>
    );
  }
  return null;
}

/**
 * What a page shows until its reader may see it: the page itself once signed in with a role that
 * may open it; otherwise a way to sign in, or a word on whose page it is. Pages open to anyone
 * (the 404 page, the sign-in callback) render at once.
 */
export function Gate({ access, children }: { access: PageAccess; children: React.ReactNode }) {
  const auth = useAuthState();
  if (access === 'none') return <>{children}</>;
  switch (auth.status) {
    case 'loading':
      return <Loading what="your session" />;
    case 'error':
      return <ErrorNotice title="Signing in is not possible" message={auth.message} onRetry={() => window.location.reload()} />;
    case 'signed-out':
      return (
        <section aria-labelledby="sign-in-title" className="mx-auto max-w-xl py-12 text-center">
          <h1 id="sign-in-title" className="text-2xl font-bold">
            Sign in to EventFlow
          </h1>
          <p className="mt-2 text-slate-700">
            {auth.reason ?? 'Orders, events and operations are shown to signed-in users only.'} Customers see their own orders; operators see everything.
          </p>
          <p className="mt-6">
            <button type="button" className="btn btn-primary" onClick={() => void signIn()}>
              Sign in
            </button>
          </p>
        </section>
      );
    case 'signed-in':
      if (allows(auth.account.role, access)) return <>{children}</>;
      return (
        <section aria-labelledby="not-yours-title" className="mx-auto max-w-xl py-12 text-center">
          <h1 id="not-yours-title" className="text-2xl font-bold">
            {auth.account.role ? 'This page is for operators' : 'Your account has no role yet'}
          </h1>
          <p className="mt-2 text-slate-700">
            {auth.account.role
              ? 'It shows every customer\u2019s data. Your own orders and their events are on your pages.'
              : 'An administrator has to add your account to the customer or operator group.'}
          </p>
          {auth.account.role && (
            <p className="mt-6">
              <Link href={homeOf(auth.account.role)} className="btn btn-primary">
                Go to your orders
              </Link>
            </p>
          )}
        </section>
      );
  }
}
