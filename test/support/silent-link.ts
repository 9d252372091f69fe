/**
 * A link to a real service that can go silent: a TCP forwarder on a free loopback port which, when
 * silenced, stops passing bytes either way without closing anything (no FIN, no RST), as a network
 * that drops packets does; new connections are taken but get nothing. Restored, what waited flows
 * again. The service behind it is the real one: only the path to it is disturbed.
 */
import net from 'node:net';

export interface SilentLink {
  port: number;
  silence(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startSilentLink(target: { host: string; port: number }): Promise<SilentLink> {
  let silent = false;
  const pairs = new Set<{ client: net.Socket; upstream?: net.Socket }>();
  const join = (pair: { client: net.Socket; upstream?: net.Socket }) => {
    const upstream = net.connect(target);
    pair.upstream = upstream;
    const end = () => {
      pair.client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    pair.client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    flow(pair);
  };
  const flow = (p: { client: net.Socket; upstream?: net.Socket }) => {
    p.client.pipe(p.upstream!);
    p.upstream!.pipe(p.client);
  };
  const server = net.createServer((client) => {
    const pair: { client: net.Socket; upstream?: net.Socket } = { client };
    pairs.add(pair);
    if (silent) client.pause();
    else join(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    silence() {
      silent = true;
      // Unpiped as well as paused: a pipe resumes its source on the next 'drain'.
      for (const p of pairs) {
        p.client.unpipe();
        p.upstream?.unpipe();
        p.client.pause();
        p.upstream?.pause();
      }
    },
    restore() {
      silent = false;
      for (const p of pairs) {
        if (!p.upstream) join(p);
        else flow(p);
      }
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream?.destroy();
      }
      await new Promise((r) => server.close(r));
    },
  };
}
