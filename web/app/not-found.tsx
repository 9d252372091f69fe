import type { Metadata } from 'next';
import Link from 'next/link';

export const metadata: Metadata = { title: 'Page not found' };

export default function NotFound() {
  return (
    <div className="mx-auto max-w-xl py-16 text-center">
      <p className="text-sm font-semibold text-sky-800">404</p>
      <h1 className="mt-2 text-2xl font-bold">Page not found</h1>
      <p className="mt-2 text-slate-700">There is no page at this address. An order lives at /orders/view/?id= followed by its id.</p>
      <p className="mt-6">
        <Link href="/" className="btn btn-primary">
          Go to the overview
        </Link>
      </p>
    </div>
  );
}
