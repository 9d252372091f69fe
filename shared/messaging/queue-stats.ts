import type { ChannelModel } from 'amqplib';
import { ManagementApi, type QueueStats } from './broker-admin';

/**
 * Depth and consumers of the named queues. From the management API when there is one (one
 * request; ready and unacknowledged both counted); otherwise by passive declaration over AMQP,
 * which sees ready messages and consumers only. Queues that do not exist are left out.
 */
export async function queueStats(names: readonly string[], source: { managementUrl?: string; connection: () => Promise<ChannelModel> }): Promise<QueueStats[]> {
  if (source.managementUrl) {
    const wanted = new Set(names);
    return (await new ManagementApi(source.managementUrl, '/').listQueues()).filter((q) => wanted.has(q.name));
  }
  const connection = await source.connection();
  const stats: QueueStats[] = [];
  let channel = await connection.createChannel();
  try {
    for (const name of names) {
      try {
        const { messageCount, consumerCount } = await channel.checkQueue(name);
        stats.push({ name, messages: messageCount, ready: messageCount, unacknowledged: 0, consumers: consumerCount });
      } catch {
        // 404: the broker closed the channel; the queue is simply not there.
        channel = await connection.createChannel();
      }
    }
  } finally {
    await channel.close().catch(() => undefined);
  }
  return stats;
}
