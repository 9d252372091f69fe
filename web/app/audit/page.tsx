import type { Metadata } from 'next';
import { Suspense } from 'react';
import { Loading } from '../../components/ui';
import { AuditView } from '../../components/views/AuditView';

export const metadata: Metadata = { title: 'Audit' };

export default function Page() {
  return (
    <Suspense fallback={<Loading what="the audit trail" />}>
      <AuditView />
    </Suspense>
  );
}
