import { QUEUE_IDS, catalogLayout } from '../shared/messaging/topology';
import type { PartitionLayout, QueueId } from '../shared/messaging/topology';
import { assertPartitionCount } from '../shared/messaging/routing';

/**
 * The partition layout the local runtime declares and consumes: the catalog's, or overridden for
 * experiments with PARTITIONS, either one count for every service queue ("4") or per queue
 * ("order=2,inventory=4,payment=2,notification=1").
 */
export function localLayout(env: NodeJS.ProcessEnv = process.env): PartitionLayout {
  const layout = catalogLayout();
  const spec = env.PARTITIONS?.trim();
  if (!spec) return layout;
  if (/^\d+$/.test(spec)) {
    for (const id of QUEUE_IDS) if (id !== 'notification') layout[id] = Number(spec);
  } else {
    for (const part of spec.split(',')) {
      const [id, n] = part.split('=').map((x) => x.trim());
      if (!QUEUE_IDS.includes(id as QueueId) || !n) throw new Error(`PARTITIONS: "${part}" is not <queue>=<count> with a queue among ${QUEUE_IDS.join(', ')}`);
      layout[id as QueueId] = Number(n);
    }
  }
  for (const [id, n] of Object.entries(layout)) assertPartitionCount(n, `PARTITIONS ${id}`);
  return layout;
}
