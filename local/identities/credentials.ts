/**
 * The passwords of the local identities (functions/identities.ts), derived from one random key kept
 * in the local cache (created on first use, readable by its owner only), so that the runtime, the
 * DLQ tools and the tests agree on them without writing any of them down, and no password is ever
 * printed. What is handed to a server is a hash wherever the server takes one: RabbitMQ a salted
 * SHA-256 through rabbitmqctl (shared/messaging/broker-admin.ts), Redis a SHA-256, PostgreSQL a
 * SCRAM-SHA-256 verifier.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CACHE_DIR } from '../auth/signing-key';

export const IDENTITY_KEY_FILE = path.join(CACHE_DIR, 'identity-key');

let key: Buffer | undefined;

/** The local key: 32 random bytes, created once and linked into place, so concurrent first uses agree. */
function identityKey(file = IDENTITY_KEY_FILE): Buffer {
  if (key && file === IDENTITY_KEY_FILE) return key;
  let value: Buffer;
  try {
    value = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, randomBytes(32).toString('hex'), { mode: 0o600 });
    try {
      linkSync(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      unlinkSync(tmp);
    }
    value = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  }
  if (value.length !== 32) throw new Error(`${file} is not a 32-byte hex key: delete it, and the next start makes a new one`);
  if (file === IDENTITY_KEY_FILE) key = value;
  return value;
}

export type Server = 'broker' | 'redis' | 'postgres';

/**
 * The password of a user on a server: 32 letters and digits, the same wherever it is derived on
 * this machine. Letters and digits only: it goes into URLs, and Amazon MQ refuses `,:=`.
 */
export function localPassword(server: Server, user: string, file?: string): string {
  const digest = createHmac('sha256', identityKey(file)).update(`${server}\n${user}`).digest();
  return digest.toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 32);
}

/** A URL with another user's credentials in it. */
export function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** Redis ACL's hashed password form (`#<hex SHA-256>`). */
export function redisPasswordHash(password: string): string {
  return `#${createHash('sha256').update(password, 'utf8').digest('hex')}`;
}

/**
 * A SCRAM-SHA-256 verifier in PostgreSQL's stored form (RFC 5802, 7677), which CREATE ROLE and
 * ALTER ROLE take as the password itself: the server never sees the password, nor would its log.
 * The salt is derived too, so the same password gives the same verifier (ALTER ROLE changes nothing).
 */
export function scramVerifier(password: string, user: string): string {
  const iterations = 4096;
  const salt = createHmac('sha256', identityKey()).update(`scram-salt\n${user}`).digest().subarray(0, 16);
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
