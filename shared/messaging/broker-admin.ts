/**
 * Administration of the broker beyond AMQP: policies, and queue statistics where the management
 * API is there.
 *
 * On AWS through the Amazon MQ for RabbitMQ management HTTP API (HTTPS on the broker's console
 * endpoint, with the AMQP user's credentials). Where no management URL is configured, through
 * `rabbitmqctl` on this machine, which needs no management plugin; it acts on the local node, so
 * it is only used when the AMQP connection goes to this machine too.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
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
  /** Which alarms are on. */
  alarms: ('memory' | 'disk')[];
}

/** A binding from an exchange to a queue, as the broker lists it. */
export interface QueueBinding {
  exchange: string;
  queue: string;
  routingKey: string;
}

/** A broker user as the administrator creates it: its password, tags and permissions on the vhost. */
export interface BrokerUser {
  name: string;
  password: string;
  tags: string[];
  permissions: { configure: string; write: string; read: string };
}

export interface BrokerAdmin {
  /** "management API at https://…" or "rabbitmqctl": said in logs and errors. */
  readonly description: string;
  listPolicies(): Promise<BrokerPolicy[]>;
  putPolicy(policy: BrokerPolicy): Promise<void>;
  /** Removing a policy that is not there is not an error. */
  deletePolicy(name: string): Promise<void>;
  /** Creates the users, or sets their password, tags and permissions again: exactly these, whatever they had. */
  putUsers(users: BrokerUser[]): Promise<void>;
  /** Removing a user that is not there is not an error. */
  deleteUsers(names: string[]): Promise<void>;
  /** Every binding of an exchange to a queue in the vhost (the default exchange's implicit ones left out): what an upgrade must undo. */
  listBindings(): Promise<QueueBinding[]>;
}

function bindingsFrom(raw: Record<string, unknown>[]): QueueBinding[] {
  return raw
    .filter((b) => (b.destination_type ?? b.destination_kind) === 'queue' && String(b.source ?? b.source_name ?? '') !== '')
    .map((b) => ({ exchange: String(b.source ?? b.source_name), queue: String(b.destination ?? b.destination_name), routingKey: String(b.routing_key ?? '') }));
}

/** Amazon MQ's rule for user names (its User type), which RabbitMQ's own names satisfy too. */
const USER_NAME = /^[A-Za-z0-9._-]{2,100}$/;

function checkUserName(name: string): string {
  if (!USER_NAME.test(name)) throw new Error(`broker user name "${name}" is not 2–100 letters, digits, '.', '_' or '-'`);
  return name;
}

/** RabbitMQ's salted SHA-256 password hash (rabbit_password_hashing_sha256, its default): base64 of a 4-byte salt and SHA-256(salt + password). */
export function rabbitPasswordHash(password: string, salt = randomBytes(4)): string {
  return Buffer.concat([salt, createHash('sha256').update(Buffer.concat([salt, Buffer.from(password, 'utf8')])).digest()]).toString('base64');
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

  /**
   * PUT /api/users/{name} with the password and tags, then PUT /api/permissions/{vhost}/{name}:
   * how Amazon MQ for RabbitMQ has users added and their permissions and tags set
   * (Amazon MQ developer guide, "Amazon MQ for RabbitMQ broker users"). Over HTTPS on AWS.
   */
  async putUsers(users: BrokerUser[]) {
    for (const u of users) {
      const name = encodeURIComponent(checkUserName(u.name));
      await this.call('PUT', `/users/${name}`, { password: u.password, tags: u.tags.join(',') });
      await this.call('PUT', `/permissions/${this.v}/${name}`, u.permissions);
    }
  }

  async deleteUsers(names: string[]) {
    for (const name of names) await this.call('DELETE', `/users/${encodeURIComponent(checkUserName(name))}`);
  }

  /** Each node's memory use against its high watermark, and whether it is in a resource alarm. */
  async listNodes(): Promise<NodeStats[]> {
    const nodes = (await this.call('GET', '/nodes?columns=name,mem_used,mem_limit,mem_alarm,disk_free_alarm')) as Record<string, unknown>[];
    return nodes.map((n) => ({
      name: String(n.name),
      memoryUsage: toNumber(n.mem_limit) > 0 ? toNumber(n.mem_used) / toNumber(n.mem_limit) : 0,
      inAlarm: n.mem_alarm === true || n.disk_free_alarm === true,
      alarms: [...(n.mem_alarm === true ? (['memory'] as const) : []), ...(n.disk_free_alarm === true ? (['disk'] as const) : [])],
    }));
  }

  async listBindings() {
    return bindingsFrom((await this.call('GET', `/bindings/${this.v}`)) as Record<string, unknown>[]);
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

  async listBindings() {
    const out = await this.run(['list_bindings', '--formatter', 'json', 'source_name', 'destination_name', 'destination_kind', 'routing_key']);
    return bindingsFrom(JSON.parse(out || '[]') as Record<string, unknown>[]);
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

  /**
   * One `rabbitmqctl import_definitions`, the definitions on its standard input: every user with a
   * salted hash of its password (never the password, and nothing on a command line that `ps` shows)
   * and its permissions, in one call rather than three per user (each call starts an Erlang VM).
   * The import is asynchronous: callers confirm by logging in.
   */
  async putUsers(users: BrokerUser[]) {
    if (users.length === 0) return;
    const definitions = {
      users: users.map((u) => ({
        name: checkUserName(u.name),
        password_hash: rabbitPasswordHash(u.password),
        hashing_algorithm: 'rabbit_password_hashing_sha256',
        tags: u.tags.join(','),
        limits: {},
      })),
      permissions: users.map((u) => ({ user: u.name, vhost: this.vhost, ...u.permissions })),
    };
    await this.runWithInput(['import_definitions', '--format', 'json', '-q'], JSON.stringify(definitions));
  }

  /** In one call too: `rabbitmqctl eval` over the internal user store, each user's absence tolerated; one `delete_user` per user if that fails. */
  async deleteUsers(names: string[]) {
    if (names.length === 0) return;
    const list = names.map((n) => `<<"${checkUserName(n)}">>`).join(', ');
    try {
      await exec('rabbitmqctl', ['eval', '-q', `lists:foreach(fun(U) -> catch rabbit_auth_backend_internal:delete_user(U, <<"eventflow">>) end, [${list}]), ok.`], { timeout: 60_000 });
    } catch {
      for (const name of names) await exec('rabbitmqctl', ['delete_user', '-q', name], { timeout: 60_000 }).catch(() => undefined);
    }
  }

  private runWithInput(args: string[], input: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('rabbitmqctl', args, { stdio: ['pipe', 'ignore', 'pipe'] });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.once('exit', () => clearTimeout(timer));
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'ENOENT' ? new Error('rabbitmqctl is not installed: set RABBITMQ_MANAGEMENT_URL to use the management API instead', { cause: err }) : err),
      );
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`rabbitmqctl ${args[0]} failed (${code}): ${stderr.trim()}`))));
      child.stdin.end(input);
    });
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
