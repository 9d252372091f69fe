/**
 * What to do about a warning or an error whose cause is recognisable from its text: a dependency
 * that does not answer, a port already taken. Pure: the services and ports come from the caller
 * (local/infra.ts dependencies(), the runtime's settings).
 */

export interface KnownService {
  name: string;
  host: string;
  port: number;
  /** How to start it on this machine. */
  startHint: string;
}

export interface KnownPort {
  /** The setting that chooses it (HTTP_PORT). */
  variable: string;
  port: number;
}

export interface AdviceContext {
  services: readonly KnownService[];
  ports: readonly KnownPort[];
}

const REFUSED = /(?:ECONNREFUSED|EHOSTUNREACH|ETIMEDOUT)\s+(?:\[?([\w.:-]+?)\]?):(\d+)/;
const PORT_TAKEN = /EADDRINUSE[^\n]*?:(\d+)\b/;

export function adviceFor(text: string, ctx: AdviceContext): string | null {
  const taken = PORT_TAKEN.exec(text);
  if (taken) {
    const port = Number(taken[1]);
    const known = ctx.ports.find((p) => p.port === port);
    return known
      ? `port ${port} (${known.variable}) is taken: is another \`npm run dev\` running? Stop it, or choose another port: ${known.variable}=${port + 100} npm run dev`
      : `port ${port} is taken: stop what listens on it (ss -ltnp 'sport = :${port}' names it)`;
  }
  const refused = REFUSED.exec(text);
  if (refused) {
    const port = Number(refused[2]);
    const service = ctx.services.find((s) => s.port === port);
    if (service) return `${service.name} (${service.host}:${service.port}) does not answer: start it (${service.startHint}); the runtime reconnects by itself`;
  }
  if (/parked in DLQ|dead-letter queues hold messages/i.test(text)) {
    return '`npm run dlq` lists what each DLQ holds and why; `npm run dlq -- redrive <queue>` moves it back once the cause is fixed';
  }
  if (/the database system is (starting up|shutting down|in recovery mode)/i.test(text)) {
    return 'PostgreSQL is restarting; the runtime retries by itself';
  }
  if (/database "[^"]+" does not exist/i.test(text)) {
    return 'a service database is missing: restart `npm run dev`, which creates and migrates it (or run `npm run migrate`)';
  }
  if (/password authentication failed/i.test(text)) {
    return 'PostgreSQL refused the credentials: check DATABASE_URL (or ORDER_/PAYMENT_/INVENTORY_DATABASE_URL)';
  }
  if (/MaxRetriesPerRequestError|Reached the max retries per request/i.test(text)) {
    const redis = ctx.services.find((s) => s.name === 'Redis');
    return `Redis does not answer${redis ? `: start it (${redis.startHint})` : ''}; rate limits are not applied meanwhile, and the runtime reconnects by itself`;
  }
  return null;
}
