'use client';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { completeSignIn, signIn } from '../lib/auth';
import { ErrorNotice, Loading } from './ui';

/** Exchanges the authorization code for tokens, then goes where the sign-in started. */
export function SignInCallback() {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    completeSignIn().then(
      (path) => router.replace(path),
      (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
    );
  }, [router]);
  if (error) {
    return <ErrorNotice title="Signing in did not complete" message={`${error}. Start again.`} onRetry={() => void signIn('/')} />;
  }
  return <Loading what="your account" />;
}
