/**
 * The local issuer's signing key, kept in the local cache so that `npm run token` (another process)
 * signs with the key the running issuer publishes in its JWKS. Created on first use; written to a
 * temporary file and linked into place, so concurrent first uses agree on one key.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';

export const CACHE_DIR = path.resolve(import.meta.dirname, '../../node_modules/.cache/eventflow');
export const SIGNING_KEY_FILE = path.join(CACHE_DIR, 'oidc-signing-key.json');

/** A private RSA JWK with its kid, alg RS256 and use sig. */
export type SigningKey = JWK & { kid: string; alg: 'RS256'; use: 'sig' };

let cached: Promise<SigningKey> | undefined;

async function loadOrCreate(file: string): Promise<SigningKey> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SigningKey;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const key = { ...(await exportJWK(privateKey)), kid: `local-${randomBytes(6).toString('hex')}`, alg: 'RS256', use: 'sig' } as SigningKey;
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, JSON.stringify(key), { mode: 0o600 });
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as SigningKey;
}

export function signingKey(file = SIGNING_KEY_FILE): Promise<SigningKey> {
  if (file !== SIGNING_KEY_FILE) return loadOrCreate(file);
  cached ??= loadOrCreate(file);
  return cached;
}
