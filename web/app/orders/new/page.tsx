import type { Metadata } from 'next';
import { NewOrderView } from '../../../components/views/NewOrderView';

export const metadata: Metadata = { title: 'New order' };

export default function Page() {
  return <NewOrderView />;
}
