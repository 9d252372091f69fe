import type { Metadata } from 'next';
import { Suspense } from 'react';
import { Loading } from '../../components/ui';
import { OrdersView } from '../../components/views/OrdersView';

export const metadata: Metadata = { title: 'Orders' };

export default function Page() {
  return (
    <Suspense fallback={<Loading what="orders" />}>
      <OrdersView />
    </Suspense>
  );
}
