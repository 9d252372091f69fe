/**
 * Who a broker connection is, and what the broker says when it refuses that user something. Every
 * function talks to RabbitMQ as a user of its own (see functions/identities.ts for who may do
 * what); the names follow one rule so that a consumer can tell from an event's validated
 * `user-id` which service sent it.
 */

/**
 * A broker user's name: `eventflow-<role>`, or `eventflow-<namespace>-<role>` in a namespace (tests
 * run in their own, on a shared broker). Amazon MQ allows letters, digits, `-`, `.` and `_`.
 */
export function brokerUserName(role: string, namespace = ''): string {
  return namespace ? `eventflow-${namespace}-${role}` : `eventflow-${role}`;
}

/** The user an AMQP URL logs in as. */
export function amqpUserOf(url: string): string {
  return decodeURIComponent(new URL(url).username);
}

/** The broker refused an operation for good: a missing permission, a user-id it would not vouch for. Retrying cannot help. */
export class BrokerRefusal extends Error {
  override name = 'BrokerRefusal';
}

/** The broker refused a login: a wrong password, or a user that does not exist (any more). */
export class BrokerLoginRefused extends Error {
  override name = 'BrokerLoginRefused';
}

/**
 * The broker's reason in words that name the user and what it may not do. RabbitMQ closes the
 * channel with 403 ACCESS_REFUSED ("access to exchange 'x' in vhost '/' refused for user 'u'") when
 * a permission is missing, 406 PRECONDITION_FAILED when a published user-id is not the
 * connection's user, and refuses the connection itself (403, or 530 NOT_ALLOWED for a vhost) at login.
 */
export function explainBrokerRefusal(err: unknown, user: string, permission?: 'configure' | 'write' | 'read'): Error | null {
  const message = err instanceof Error ? err.message : String(err);
  const access = /access to (exchange|queue) '([^']*)' in vhost '[^']*' refused for user '([^']*)'/.exec(message);
  if (access) {
    const [, kind, name, who] = access;
    // RabbitMQ's message does not say which permission; the operation that was refused does.
    const lacks = permission ? `the ${permission} permission` : 'the permission';
    return new BrokerRefusal(`broker user ${who} lacks ${lacks} on ${kind} ${name} (${message})`, { cause: err });
  }
  const userId = /user_id property set to '([^']*)' but authenticated user was '([^']*)'/.exec(message);
  if (userId) {
    return new BrokerRefusal(`broker user ${userId[2]} may not publish as ${userId[1]}: RabbitMQ validates user-id (${message})`, { cause: err });
  }
  if (/Login was refused|ACCESS_REFUSED - Login|authentication mechanism PLAIN/i.test(message)) {
    return new BrokerLoginRefused(`broker user ${user} was refused at login: wrong password, or the user does not exist (${message})`, { cause: err });
  }
  const vhost = /NOT_ALLOWED - access to vhost '([^']*)' refused for user '([^']*)'/.exec(message);
  if (vhost) return new BrokerLoginRefused(`broker user ${vhost[2]} has no permissions on vhost ${vhost[1]}`, { cause: err });
  // amqplib reports a refused connection.open (530 NOT_ALLOWED) without the broker's text: the login
  // itself went through, so the user has no permissions on the virtual host.
  if (/Expected ConnectionOpenOk; got <ConnectionClose/.test(message)) {
    return new BrokerLoginRefused(`broker user ${user} has no permissions on the virtual host (or it does not exist)`, { cause: err });
  }
  return null;
}
