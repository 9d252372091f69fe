/**
 * Who an audit entry names: the caller of an HTTP request (its access token's subject and role,
 * API Gateway's source address, the request's correlation id), or the person running an operator
 * tool on a machine.
 */
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { HttpRequest } from '../http/api';
import { LOCAL_ENV } from '../env';
import { auditEntry } from './entry';
import type { AuditAction, AuditActor, AuditEntry } from './entry';

/** The caller of a route behind the authorizer (createHttpApi refused any request without one). */
export function requestActor(req: HttpRequest): AuditActor {
  if (!req.principal) throw new Error(`${req.routeKey} changed state for a caller without a principal`);
  return { subject: req.principal.sub, role: req.principal.role, source: req.sourceIp, correlationId: req.correlationId };
}

/** The entry recording what a request changed, answered with `status`. */
export function requestAudit(req: HttpRequest, action: Omit<AuditAction, 'route'>): AuditEntry {
  return auditEntry(requestActor(req), { route: req.routeKey, ...action });
}

/**
 * The person running an operator tool (npm run dlq, replay, …): EVENTFLOW_OPERATOR if set (say,
 * their e-mail address), else their account on this machine; the source names the machine.
 * Whoever can run the tool holds the databases' and the broker's credentials: an operator.
 */
export function cliActor(env: NodeJS.ProcessEnv = process.env): AuditActor {
  const named = env[LOCAL_ENV.operator]?.trim();
  let account = 'unknown';
  try {
    account = userInfo().username;
  } catch {
    // no passwd entry for this uid (some containers): the variable, or unknown
  }
  return { subject: named || account, role: 'operator', source: `cli@${hostname()}`, correlationId: `cli-${randomUUID()}` };
}
