/**
 * `npm run dlq`                      each dead-letter queue's depth and why its messages are there.
 * `npm run dlq -- redrive <queue>`   moves what <queue>.dlq holds now back onto <queue> (after an
 *                                    outage outlasted the delivery limit, or once a bug is fixed),
 *                                    each message to the partition of its order; audited, as the
 *                                    person EVENTFLOW_OPERATOR names (else this machine's account).
 * `npm run dlq -- drain <queue>`     empties a queue of an earlier partition layout (the runtime
 *                                    names it at start) onto the current partitions; the next start
 *                                    removes it, empty.
 *
 * It acts as the DLQ tools' broker user (functions/identities.ts: read the DLQs and service queues,
 * send back through their redrive exchanges as each message's original sender), never as the
 * broker's administrator.
 */
import { connectAmqp } from '../shared/messaging/broker';
import { brokerName, getConfig } from '../shared/config';
import { cliActor } from '../shared/audit/actor';
import { closePools } from '../shared/db/pool';
import { drainQueue, inspectDlq } from '../shared/messaging/dlq';
import { dlqOf } from '../shared/messaging/topology';
import { CLI_COMMANDS } from '../functions/catalog';
import { auditedRedrive } from '../functions/platform/redrive';
import { QUEUES, QUEUE_IDS, deploymentLayout, partitionQueues } from '../functions/topology';
import { brokerUserOf } from '../functions/identities';
import { brokerUrlOf } from './identities/urls';

const config = await getConfig();
const connection = await connectAmqp(brokerUrlOf(config, 'operator'));
const channel = await connection.createConfirmChannel();
const [command, target] = process.argv.slice(2);
const layout = deploymentLayout();
const services = QUEUE_IDS.map((id) => ({ id, name: brokerName(QUEUES[id].name, config.namespace), partitions: partitionQueues(id, config.namespace, layout) }));
const named = (name: string | undefined) => services.find((s) => s.name === name || s.name === brokerName(name ?? '', config.namespace));

try {
  if (command === 'redrive') {
    const service = named(target);
    if (!service) throw new Error(`name one of: ${services.map((s) => s.name).join(', ')}`);
    const moved = await auditedRedrive(channel, service, cliActor(), CLI_COMMANDS.dlqRedrive, brokerUserOf(service.id, config.namespace));
    console.log(`moved ${moved} message(s) from ${dlqOf(service.name)} back to ${service.name}`);
  } else if (command === 'drain') {
    const from = brokerName(target ?? '', config.namespace);
    const service = services.find((s) => from.startsWith(`${s.name}.p`) || from === s.name);
    if (!service || service.partitions.includes(from)) throw new Error(`${target} is not a queue of an earlier partition layout`);
    console.log(`moved ${await drainQueue(channel, from, service.partitions)} message(s) from ${from} to ${service.partitions.join(', ')}; the next start removes it`);
  } else {
    for (const service of services) {
      const { depth, reasons } = await inspectDlq(channel, service.partitions[0]!);
      console.log(`${dlqOf(service.name)}: ${depth} message(s)`);
      for (const [reason, n] of reasons) console.log(`  ${n} × ${reason}`);
    }
  }
} finally {
  await connection.close();
  await closePools();
}
