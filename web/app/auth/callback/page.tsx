import type { Metadata } from 'next';
import { SignInCallback } from '../../../components/SignInCallback';

export const metadata: Metadata = { title: 'Signing in' };

// Where the issuer sends the browser back with the authorization code: a static page of the export.
export default function Page() {
  return <SignInCallback />;
}
