/**
 * The relay between the runtime's network namespace and the private services (bench/chaos/network.ts),
 * run as a process of its own so that the bytes it moves cost the load generator nothing. Each
 * route listens on the namespace link's host address and forwards to a service on loopback.
 *
 * It exists for one thing the kernel here cannot do: this machine's kernel has no netem, so added
 * latency is made here, by holding every chunk the runtime sends for `delayMs` before passing it
 * on, in order (as netem on the runtime's side of the link would delay what it sends). Loss and
 * cuts are the kernel's (nftables rules in the namespace), so TCP itself meets them.
 *
 * Started with a JSON list of routes as its argument; prints `ready` once every route listens;
 * takes `{ delayMs }` messages over IPC.
 */
import net from 'node:net';

export interface RelayRoute {
  listen: { host: string; port: number };
  target: { host: string; port: number };
}

let delayMs = 0;

/** Copies what the runtime sends to the service, each chunk no sooner than delayMs after it came, never reordered. */
function delayedPipe(from: net.Socket, to: net.Socket) {
  const queue: { due: number; chunk: Buffer }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const flush = () => {
    timer = undefined;
    const now = Date.now();
    while (queue.length > 0 && queue[0]!.due <= now) to.write(queue.shift()!.chunk);
    if (queue.length > 0) timer = setTimeout(flush, queue[0]!.due - now);
    else if (ended) to.end();
  };
  from.on('data', (chunk: Buffer) => {
    if (delayMs === 0 && queue.length === 0) {
      to.write(chunk);
      return;
    }
    // Never before an earlier chunk: a shorter delay set meanwhile must not reorder the stream.
    const due = Math.max(Date.now() + delayMs, queue.at(-1)?.due ?? 0);
    queue.push({ due, chunk });
    timer ??= setTimeout(flush, due - Date.now());
  });
  from.on('end', () => {
    ended = true;
    if (queue.length === 0) to.end();
  });
}

function serve(route: RelayRoute): Promise<void> {
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const upstream = net.connect({ ...route.target, noDelay: true });
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    delayedPipe(client, upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(route.listen.port, route.listen.host, () => resolve());
  });
}

const routes = JSON.parse(process.argv[2] ?? '[]') as RelayRoute[];
process.on('message', (m: { delayMs?: number }) => {
  if (typeof m.delayMs === 'number') delayMs = m.delayMs;
});
// The run that started it is gone: so is the relay.
process.on('disconnect', () => process.exit(0));
await Promise.all(routes.map(serve));
process.send?.('ready');
