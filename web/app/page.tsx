import { OverviewView } from '../components/views/OverviewView';

export default function Page() {
  return <OverviewView />;
}
