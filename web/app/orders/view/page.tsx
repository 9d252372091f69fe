import type { Metadata } from 'next';
import { Suspense } from 'react';
import { Loading } from '../../../components/ui';
import { OrderView } from '../../../components/views/OrderView';

export const metadata: Metadata = { title: 'Order' };

// The order's id is known only at run time: one static page reads it from ?id=.
export default function Page() {
  return (
    <Suspense fallback={<Loading what="the order" />}>
      <OrderView />
    </Suspense>
  );
}
