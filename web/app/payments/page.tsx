import type { Metadata } from 'next';
import { PaymentsView } from '../../components/views/PaymentsView';

export const metadata: Metadata = { title: 'Payments' };

export default function Page() {
  return <PaymentsView />;
}
