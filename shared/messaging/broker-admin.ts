/**
 * Administration of the broker beyond AMQP: policies, and queue statistics where the management
 * API is there.
 *
 * On AWS through the Amazon MQ for RabbitMQ management HTTP API (HTTPS on the broker's console
 * endpoint, with the AMQP user's credentials). Where no management URL is configured, through
 * `rabbitmqctl` on this machine, which needs no management plugin; it acts on the local node, so
 * it is only used when the AMQP connection goes to this machine too.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BrokerPolicy } from './policies';

const exec = promisify(execFile);

export interface QueueStats {
  name: string;
  /** Ready plus unacknowledged. */
  messages: number;
  ready: number;
  unacknowledged: number;
  consumers: number;
}

export interface NodeStats {
  name: string;
  /** mem_used / mem_limit (the memory high watermark). */
  memoryUsage: number;
  /** A memory or disk alarm: the node blocks publishers. */
  inAlarm: boolean;
}

export interface BrokerAdmin {
  /** "management API at https://…" or "rabbitmqctl": said in logs and errors. */
  readonly description: string;
  listPolicies(): Promise<BrokerPolicy[]>;
  putPolicy(policy: BrokerPolicy): Promise<void>;
  /** Removing a policy that is not there is not an error. */
  deletePolicy(name: string): Promise<void>;
}

export interface BrokerAccess {
  /** The management HTTP API, e.g. https://user:pass@b-1234.mq.eu-west-1.amazonaws.com */
  managementUrl?: string;
  /** The AMQP URL in use: decides whether rabbitmqctl (local node only) may stand in. */
  amqpUrl: string;
  vhost?: string;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const DEFAULT_AMQP_PORT = 5672;

/**
 * The management API when configured, else rabbitmqctl for a broker on this machine. rabbitmqctl
 * acts on the machine's default node (or the one RABBITMQ_NODENAME names), which listens on the
 * default AMQP port: a broker on this machine on another port is another node, whose policies
 * rabbitmqctl would silently set on the default one instead, so it needs its management API.
 */
export function brokerAdmin(access: BrokerAccess, env: NodeJS.ProcessEnv = process.env): BrokerAdmin {
  const vhost = access.vhost ?? '/';
  if (access.managementUrl) return new ManagementApi(access.managementUrl, vhost);
  const url = new URL(access.amqpUrl);
  if (!LOOPBACK.has(url.hostname)) {
    throw new Error(
      `the broker at ${url.hostname} needs its management API for policies and queue statistics: set RABBITMQ_MANAGEMENT_URL ` +
        '(rabbitmqctl can only administer a broker on this machine)',
    );
  }
  const port = Number(url.port || DEFAULT_AMQP_PORT);
  if (port !== DEFAULT_AMQP_PORT && !env.RABBITMQ_NODENAME) {
    throw new Error(
      `the broker on port ${port} of this machine needs its management API for policies: set RABBITMQ_MANAGEMENT_URL ` +
        `(rabbitmqctl administers the node on port ${DEFAULT_AMQP_PORT}, unless RABBITMQ_NODENAME names another)`,
    );
  }
  return new Rabbitmqctl(vhost);
}

const toNumber = (v: unknown) => (typeof v === 'number' ? v : Number(v ?? 0));

function policyFrom(raw: Record<string, unknown>): BrokerPolicy {
  // rabbitmqctl 3.x prints the definition as a JSON string; the HTTP API gives an object.
  const definition = typeof raw.definition === 'string' ? JSON.parse(raw.definition) : raw.definition;
  return {
    name: String(raw.name),
    pattern: String(raw.pattern),
    applyTo: raw['apply-to'] as BrokerPolicy['applyTo'],
    priority: toNumber(raw.priority),
    definition: definition as BrokerPolicy['definition'],
  };
}

function queueFrom(raw: Record<string, unknown>): QueueStats {
  return {
    name: String(raw.name),
    messages: toNumber(raw.messages),
    ready: toNumber(raw.messages_ready),
    unacknowledged: toNumber(raw.messages_unacknowledged),
    consumers: toNumber(raw.consumers),
  };
}

/** The RabbitMQ management HTTP API (/api/...), basic auth from the URL's user info. */
export class ManagementApi implements BrokerAdmin {
  readonly description: string;
  private readonly base: string;
  private readonly authorization: string;

  constructor(url: string, private readonly vhost: string) {
    const u = new URL(url);
    if (!u.username) throw new Error('the management URL carries no credentials');
    this.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    u.username = '';
    u.password = '';
    this.base = u.origin;
    this.description = `management API at ${this.base}`;
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.base}/api${path}`, {
      method,
      headers: { authorization: this.authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    if (method === 'DELETE' && res.status === 404) return undefined;
    if (!res.ok) throw new Error(`${method} ${this.base}/api${path}: ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  }

  private get v() {
    return encodeURIComponent(this.vhost);
  }

  async listPolicies() {
    return ((await this.call('GET', `/policies/${this.v}`)) as Record<string, unknown>[]).map(policyFrom);
  }

  async putPolicy(p: BrokerPolicy) {
    await this.call('PUT', `/policies/${this.v}/${encodeURIComponent(p.name)}`, {
      pattern: p.pattern,
      definition: p.definition,
      priority: p.priority,
      'apply-to': p.applyTo,
    });
  }

  async deletePolicy(name: string) {
    await this.call('DELETE', `/policies/${this.v}/${encodeURIComponent(name)}`);
  }

  /** Each node's memory use against its high watermark, and whether it is in a resource alarm. */
  async listNodes(): Promise<NodeStats[]> {
    const nodes = (await this.call('GET', '/nodes?columns=name,mem_used,mem_limit,mem_alarm,disk_free_alarm')) as Record<string, unknown>[];
    return nodes.map((n) => ({
      name: String(n.name),
      memoryUsage: toNumber(n.mem_limit) > 0 ? toNumber(n.mem_used) / toNumber(n.mem_limit) : 0,
      inAlarm: n.mem_alarm === true || n.disk_free_alarm === true,
    }));
  }

  /** Every queue of the vhost with its depth and consumers, in one request. */
  async listQueues(): Promise<QueueStats[]> {
    const columns = 'name,messages,messages_ready,messages_unacknowledged,consumers';
    return ((await this.call('GET', `/queues/${this.v}?columns=${columns}`)) as Record<string, unknown>[]).map(queueFrom);
  }
}

/** rabbitmqctl against the local node: the shared development broker has no management plugin. */
class Rabbitmqctl implements BrokerAdmin {
  readonly description = 'rabbitmqctl';

  constructor(private readonly vhost: string) {}

  private async run(args: string[]): Promise<string> {
    try {
      const { stdout } = await exec('rabbitmqctl', [...args, '-p', this.vhost, '-q'], { timeout: 60_000 });
      return stdout;
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') {
        throw new Error('rabbitmqctl is not installed: set RABBITMQ_MANAGEMENT_URL to use the management API instead', { cause: err });
      }
      const detail = (e.stderr ?? e.message).trim();
      // The CLI authenticates to the node with the Erlang cookie, readable by root and the rabbitmq user.
      const hint = /cookie|unable to perform an operation on node|could not connect|nodedown/i.test(detail)
        ? ' (rabbitmqctl needs the node\'s Erlang cookie: run as root or the rabbitmq user, or copy it to ~/.erlang.cookie; ' +
          'or enable the management plugin and set RABBITMQ_MANAGEMENT_URL)'
        : '';
      throw new Error(`rabbitmqctl ${args[0]} failed: ${detail}${hint}`, { cause: err });
    }
  }

  async listPolicies() {
    return (JSON.parse(await this.run(['list_policies', '--formatter', 'json'])) as Record<string, unknown>[]).map(policyFrom);
  }

  async putPolicy(p: BrokerPolicy) {
    await this.run(['set_policy', '--priority', String(p.priority), '--apply-to', p.applyTo, p.name, p.pattern, JSON.stringify(p.definition)]);
  }

  async deletePolicy(name: string) {
    try {
      await this.run(['clear_policy', name]);
    } catch (err) {
      if (!/does not exist/i.test((err as Error).message)) throw err;
    }
  }
}

const same = (a: BrokerPolicy, b: BrokerPolicy) =>
  a.pattern === b.pattern &&
  a.applyTo === b.applyTo &&
  a.priority === b.priority &&
  JSON.stringify(Object.entries(a.definition).sort()) === JSON.stringify(Object.entries(b.definition).sort());

/**
 * Makes the broker's policies under `prefix` exactly `wanted`: sets what is missing or different,
 * removes what is no longer wanted (a queue that went away), leaves everything else alone.
 */
export async function syncPolicies(admin: BrokerAdmin, prefix: string, wanted: BrokerPolicy[]) {
  for (const p of wanted) if (!p.name.startsWith(prefix)) throw new Error(`policy ${p.name} is outside ${prefix}`);
  const existing = (await admin.listPolicies()).filter((p) => p.name.startsWith(prefix));
  const toSet = wanted.filter((w) => {
    const current = existing.find((e) => e.name === w.name);
    return !current || !same(current, w);
  });
  const toDelete = existing.filter((e) => !wanted.some((w) => w.name === e.name)).map((e) => e.name);
  await Promise.all([...toSet.map((p) => admin.putPolicy(p)), ...toDelete.map((n) => admin.deletePolicy(n))]);
  return { set: toSet.map((p) => p.name), deleted: toDelete };
}
