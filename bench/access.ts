/**
 * How the benchmarks reach the APIs: as the seeded operator (products, every customer's orders, the
 * WebSocket's every event), with a token of the runtime's issuer that outlives any run.
 */
import { mintAccessToken } from '../local/auth/tokens';
import { LOCAL_USERS } from '../local/auth/users';

export interface BenchAccess {
  token: string;
  /** `Authorization: Bearer …` for the HTTP API. */
  headers: { authorization: string };
  /** The WebSocket API's URL with the token as ?token=. */
  wsUrl: string;
}

export async function benchAccess(system: { issuerUrl: string; wsUrl: string }): Promise<BenchAccess> {
  const operator = LOCAL_USERS.find((u) => u.role === 'operator')!;
  const token = await mintAccessToken({ sub: operator.sub, role: 'operator', issuer: system.issuerUrl, expiresInSeconds: 12 * 3600 });
  return { token, headers: { authorization: `Bearer ${token}` }, wsUrl: `${system.wsUrl}/?token=${encodeURIComponent(token)}` };
}
