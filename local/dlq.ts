/**
 * `npm run dlq`                      each dead-letter queue's depth and why its messages are there.
 * `npm run dlq -- redrive <queue>`   moves <queue>.dlq back onto <queue> (after an outage outlasted
 *                                    the delivery limit, or once a bug is fixed).
 */
import { connectAmqp } from '../shared/messaging/broker';
import { brokerName, getConfig } from '../shared/config';
import { inspectDlq, redriveDlq } from '../shared/messaging/dlq';
import { QUEUES, dlqOf } from '../shared/messaging/topology';

const config = await getConfig();
const connection = await connectAmqp(config.rabbitmqUrl);
const channel = await connection.createConfirmChannel();
const [command, target] = process.argv.slice(2);
const queues = Object.values(QUEUES).map((q) => brokerName(q.name, config.namespace));

try {
  if (command === 'redrive') {
    const queue = queues.find((q) => q === target || q === brokerName(target ?? '', config.namespace));
    if (!queue) throw new Error(`name one of: ${queues.join(', ')}`);
    console.log(`moved ${await redriveDlq(channel, queue)} message(s) from ${dlqOf(queue)} back to ${queue}`);
  } else {
    for (const queue of queues) {
      const { depth, reasons } = await inspectDlq(channel, queue);
      console.log(`${dlqOf(queue)}: ${depth} message(s)`);
      for (const [reason, n] of reasons) console.log(`  ${n} × ${reason}`);
    }
  }
} finally {
  await connection.close();
}
