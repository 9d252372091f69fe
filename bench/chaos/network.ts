/**
 * A network of the run's own between the runtime and its services, so that the fault run can cut
 * it: the runtime in a network namespace the run creates, joined to the host's by a veth pair with
 * two addresses of a /30 in 10.250.0.0/16 that nothing else uses, and a relay (bench/chaos/relay.ts) on the
 * host's end that forwards each service's port to the private stack on loopback (the payment
 * database on a port of its own, so that one database can be cut while the others answer).
 *
 * A cut is a pair of nftables rules on the namespace's end of the link (the netdev family's egress
 * and ingress hooks), dropping the packets to and from that service's ports: dropped, not refused,
 * so no RST comes and only timeouts and heartbeats can notice. A degraded link drops 5 % of what
 * the runtime sends to its services and the relay holds every chunk 200 ms (this kernel has no
 * netem). Every rule lives in the namespace, so the host's own firewall is never touched; close()
 * stops the relay and removes the namespace, which takes the link with it. Needs root, `ip` and `nft`.
 */
import { execFileSync, fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { freePort } from '../../scripts/private-stack';
import type { PrivateStack } from '../../scripts/private-stack';
import type { RelayRoute } from './relay';

/** What a cut can separate the runtime from. */
export const NETWORK_TARGETS = ['broker', 'payment-db', 'redis'] as const;
export type NetworkTarget = (typeof NETWORK_TARGETS)[number];

export interface RuntimeNetwork {
  /** The namespace the runtime is to run in (`ip netns exec`). */
  netns: string;
  /** The runtime's address in it, where its HTTP and WebSocket servers are to listen. */
  runtimeHost: string;
  /** The services' URLs as the runtime is to use them: through the link and the relay. */
  env: Record<string, string>;
  /** Drops every packet between the runtime and the target until heal(). */
  cut(target: NetworkTarget): void;
  /** Adds `delayMs` to everything the runtime sends its services and drops `lossPercent` of its packets. */
  degrade(opts: { delayMs: number; lossPercent: number }): void;
  /** Takes every cut and degradation back. */
  heal(): void;
  close(): Promise<void>;
}

const run = (args: string[], input?: string) => execFileSync(args[0]!, args.slice(1), { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();

/** Why this machine cannot run the network faults (not root, or `ip` or `nft` missing), or null when it can. */
export function networkFaultsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'the network faults create a network namespace and need root; run as root or leave them out of --faults';
  for (const [tool, pkg] of [['ip', 'iproute2'], ['nft', 'nftables']] as const) {
    try {
      run(['sh', '-c', `command -v ${tool}`]);
    } catch {
      return `the network faults need \`${tool}\` (Debian: apt-get install ${pkg})`;
    }
  }
  return null;
}

/** The first three octets of a /24 of 10.250.0.0/16 that no interface of the host has an address in. */
function freeSubnet(): string {
  const used = run(['ip', '-o', '-4', 'addr', 'show']);
  for (let i = 0; i < 64; i++) {
    const prefix = `10.250.${randomInt(0, 256)}`;
    if (!used.includes(` ${prefix}.`)) return prefix;
  }
  throw new Error('no free /24 in 10.250.0.0/16');
}

export async function startRuntimeNetwork(stack: PrivateStack, paymentDatabaseUrl: (serverUrl: string) => string): Promise<RuntimeNetwork> {
  const unavailable = networkFaultsUnavailable();
  if (unavailable) throw new Error(unavailable);
  const id = randomBytes(4).toString('hex');
  const netns = `eventflow-${id}`;
  const [hostIf, nsIf] = [`ef${id}h`, `ef${id}n`];
  const subnet = freeSubnet();
  const [hostAddr, nsAddr] = [`${subnet}.1`, `${subnet}.2`];

  let relay: ChildProcess | undefined;
  let created = false;
  const close = async () => {
    if (relay && relay.exitCode === null) {
      const exited = new Promise((r) => relay!.once('exit', r));
      relay.kill('SIGTERM');
      await exited;
    }
    // The namespace takes its end of the link with it, and the pair goes together.
    if (created) {
      try {
        run(['ip', 'netns', 'del', netns]);
      } catch {
        // already gone
      }
      try {
        run(['ip', 'link', 'del', hostIf]);
      } catch {
        // went with the namespace
      }
    }
    created = false;
  };
  try {
    run(['ip', 'netns', 'add', netns]);
    created = true;
    run(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    run(['ip', 'link', 'set', nsIf, 'netns', netns]);
    run(['ip', 'addr', 'add', `${hostAddr}/30`, 'dev', hostIf]);
    run(['ip', 'link', 'set', hostIf, 'up']);
    const inNs = (args: string[], input?: string) => run(['ip', 'netns', 'exec', netns, ...args], input);
    inNs(['ip', 'addr', 'add', `${nsAddr}/30`, 'dev', nsIf]);
    inNs(['ip', 'link', 'set', nsIf, 'up']);
    inNs(['ip', 'link', 'set', 'lo', 'up']);

    // One relay port per service (two for PostgreSQL: the payment database apart from the others).
    const target = (url: string) => {
      const u = new URL(url);
      return { host: u.hostname, port: Number(u.port) };
    };
    const services = {
      postgres: target(stack.env.DATABASE_URL),
      rabbitmq: target(stack.env.RABBITMQ_URL),
      management: target(stack.env.RABBITMQ_MANAGEMENT_URL),
      redis: target(stack.env.REDIS_URL),
    };
    const ports = { postgres: await freePort(), paymentDb: await freePort(), rabbitmq: await freePort(), management: await freePort(), redis: await freePort() };
    const routes: RelayRoute[] = [
      { listen: { host: hostAddr, port: ports.postgres }, target: services.postgres },
      { listen: { host: hostAddr, port: ports.paymentDb }, target: services.postgres },
      { listen: { host: hostAddr, port: ports.rabbitmq }, target: services.rabbitmq },
      { listen: { host: hostAddr, port: ports.management }, target: services.management },
      { listen: { host: hostAddr, port: ports.redis }, target: services.redis },
    ];
    relay = fork(new URL('./relay.ts', import.meta.url).pathname, [JSON.stringify(routes)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      relay!.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(`relay: ${String(m)}`))));
      relay!.once('exit', (code) => reject(new Error(`the relay exited with ${code} before it listened`)));
    });
    const through = (url: string, port: number) => {
      const u = new URL(url);
      u.hostname = hostAddr;
      u.port = String(port);
      return u.toString().replace(/\/$/, '');
    };

    const cutPorts: Record<NetworkTarget, number[]> = {
      broker: [ports.rabbitmq, ports.management],
      'payment-db': [ports.paymentDb],
      redis: [ports.redis],
    };
    const allPorts = Object.values(ports).join(', ');
    inNs(
      ['nft', '-f', '-'],
      `table netdev eventflow {
         chain egress { type filter hook egress device "${nsIf}" priority 0; }
         chain ingress { type filter hook ingress device "${nsIf}" priority 0; }
       }\n`,
    );
    const rules = (lines: string[]) => inNs(['nft', '-f', '-'], `${lines.join('\n')}\n`);
    const heal = () => {
      rules(['flush chain netdev eventflow egress', 'flush chain netdev eventflow ingress']);
      relay?.send({ delayMs: 0 });
    };
    return {
      netns,
      runtimeHost: nsAddr,
      env: {
        DATABASE_URL: through(stack.env.DATABASE_URL, ports.postgres),
        PAYMENT_DATABASE_URL: paymentDatabaseUrl(through(stack.env.DATABASE_URL, ports.paymentDb)),
        RABBITMQ_URL: through(stack.env.RABBITMQ_URL, ports.rabbitmq),
        RABBITMQ_MANAGEMENT_URL: through(stack.env.RABBITMQ_MANAGEMENT_URL, ports.management),
        REDIS_URL: through(stack.env.REDIS_URL, ports.redis),
      },
      cut(what) {
        const set = cutPorts[what].join(', ');
        rules([
          `add rule netdev eventflow egress ip daddr ${hostAddr} tcp dport { ${set} } drop`,
          `add rule netdev eventflow ingress ip saddr ${hostAddr} tcp sport { ${set} } drop`,
        ]);
      },
      degrade({ delayMs, lossPercent }) {
        if (lossPercent > 0) rules([`add rule netdev eventflow egress ip daddr ${hostAddr} tcp dport { ${allPorts} } numgen random mod 100 < ${Math.round(lossPercent)} drop`]);
        relay?.send({ delayMs });
      },
      heal,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
