/**
 * `npm run token -- --sub <id> --role customer|operator`: prints a signed access token, alone on
 * stdout, that the running local issuer's JWKS verifies (the key is shared through the local cache).
 *   --user <email>        a seeded user instead of --sub/--role (README lists them)
 *   --expires-in <s>      seconds until it expires (default 3600; negative: already expired)
 *   --issuer <url>        iss (default http://127.0.0.1:$OIDC_PORT, port 3006)
 *   --audience <id>       aud and client_id (default eventflow-dashboard)
 */
import { parseArgs } from 'node:util';
import { ROLES } from '../shared/auth/principal';
import type { Role } from '../shared/auth/principal';
import { mintAccessToken } from './auth/tokens';
import { userByEmail } from './auth/users';

function fail(message: string): never {
  process.stderr.write(`${message}\nusage: npm run token -- --sub <id> --role customer|operator [--expires-in s] [--issuer url] [--audience id]\n       npm run token -- --user alice@eventflow.test\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    role: { type: 'string' },
    user: { type: 'string' },
    'expires-in': { type: 'string' },
    issuer: { type: 'string' },
    audience: { type: 'string' },
  },
  strict: true,
});

let sub = values.sub;
let role = values.role;
if (values.user) {
  const user = userByEmail(values.user) ?? fail(`no seeded user ${values.user}`);
  sub ??= user.sub;
  role ??= user.role;
}
if (!sub) fail('--sub (or --user) is required');
if (!role || !(ROLES as readonly string[]).includes(role)) fail('--role must be customer or operator');
const expiresIn = values['expires-in'] === undefined ? undefined : Number(values['expires-in']);
if (expiresIn !== undefined && !Number.isFinite(expiresIn)) fail('--expires-in must be a number of seconds');

const token = await mintAccessToken({ sub, role: role as Role, issuer: values.issuer, audience: values.audience, expiresInSeconds: expiresIn });
process.stdout.write(`${token}\n`);
