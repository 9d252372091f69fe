/**
 * `npx tsx bench/token-cost.ts [n]`: CPU of the local gateway's token check per request, with and
 * without the cache of verified tokens (local/token-cache.ts), alternating in one process. An RS256
 * token (2048-bit key, as the local issuer signs) is verified through jose against a local key set,
 * as the gateway does once it holds the issuer's JWKS. Prints medians of 5 rounds.
 */
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { cachingVerifier } from '../local/token-cache';
import { median } from './stats';

const n = Number(process.argv[2] ?? 2000);
const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: 'RS256' }] });
const issuer = 'http://127.0.0.1/issuer';
const token = await new SignJWT({ scope: 'orders', client_id: 'web', 'cognito:groups': ['customers'] })
  .setProtectedHeader({ alg: 'RS256', kid: 'k' })
  .setIssuer(issuer)
  .setSubject('bench')
  .setIssuedAt()
  .setExpirationTime('1h')
  .sign(privateKey);
const verify = async (t: string | undefined) => (await jwtVerify(t!, jwks, { issuer, algorithms: ['RS256'], requiredClaims: ['sub', 'exp'] })).payload;
const cached = cachingVerifier(verify);

async function cpuPerCall(f: (t: string) => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await f(token);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

await cpuPerCall(verify); // warm the JIT on both paths
await cpuPerCall(cached);
const plain: number[] = [];
const withCache: number[] = [];
for (let round = 0; round < 5; round++) {
  plain.push(await cpuPerCall(verify));
  withCache.push(await cpuPerCall(cached));
}
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
console.log(`verify every request: ${fmt(plain)} µs of CPU per request (median ${median(plain).toFixed(1)})`);
console.log(`cached:               ${fmt(withCache)} µs of CPU per request (median ${median(withCache).toFixed(1)})`);
console.log(`ratio: ${(median(withCache) / median(plain)).toFixed(3)}`);
