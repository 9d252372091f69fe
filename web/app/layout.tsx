import type { Metadata } from 'next';
import { Shell } from '../components/Shell';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'EventFlow', template: '%s · EventFlow' },
  description: 'Live operations console for EventFlow: orders, sagas, events, stock, payments and queues.',
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Shell>{children}</Shell>
      </body>
    </html>
  );
}
