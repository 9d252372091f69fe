import { describe, expect, it } from 'vitest';
import { allows, homeOf, navFor, pageAccess, roleOfToken } from './access';
import { parseConfig } from './config';

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const token = (claims: Record<string, unknown>) => `${b64url({ alg: 'RS256' })}.${b64url(claims)}.sig`;

describe('dashboard access', () => {
  it('offers customers their orders, the new-order page and their events, and operators everything', () => {
    expect(navFor('customer').map((p) => p.href)).toEqual(['/orders/', '/orders/new/', '/events/']);
    expect(navFor('operator').map((p) => p.href)).toEqual(['/', '/orders/', '/orders/new/', '/events/', '/inventory/', '/payments/', '/queues/', '/audit/', '/history/']);
    expect(navFor(null)).toEqual([]);
  });

  it('keeps operator pages from customers and every page but the open ones from signed-out readers', () => {
    for (const path of ['/', '/inventory/', '/payments', '/queues/', '/audit/']) {
      expect(allows('customer', pageAccess(path)), path).toBe(false);
      expect(allows('operator', pageAccess(path)), path).toBe(true);
    }
    for (const path of ['/orders/', '/orders/view/', '/orders/view', '/orders/new/', '/events/']) expect(allows('customer', pageAccess(path)), path).toBe(true);
    expect(allows(null, pageAccess('/orders/'))).toBe(false);
    // The sign-in callback and unknown paths (the 404 page) are for anyone.
    expect(allows(null, pageAccess('/auth/callback/'))).toBe(true);
    expect(allows(null, pageAccess('/no/such/page/'))).toBe(true);
    expect(homeOf('customer')).toBe('/orders/');
    expect(homeOf('operator')).toBe('/');
  });

  it('reads the role from the access token groups, operator first', () => {
    expect(roleOfToken(token({ 'cognito:groups': ['customer'] }))).toBe('customer');
    expect(roleOfToken(token({ 'cognito:groups': ['customer', 'operator'] }))).toBe('operator');
    expect(roleOfToken(token({ sub: 'x' }))).toBeNull();
    expect(roleOfToken('not a jwt')).toBeNull();
  });
});

describe('config.json', () => {
  const base = { apiUrl: 'https://api.example/', wsUrl: 'wss://ws.example/dev' };
  const auth = { authority: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc', clientId: 'c1', scope: 'openid email profile' };

  it('needs the issuer, the client and openid among the scopes', () => {
    expect(parseConfig({ ...base, auth }).auth).toEqual(auth);
    expect(() => parseConfig(base)).toThrow(/auth\.authority/);
    expect(() => parseConfig({ ...base, auth: { ...auth, scope: 'email' } })).toThrow(/openid/);
    expect(() => parseConfig({ ...base, auth: { ...auth, authority: 'javascript:alert(1)' } })).toThrow(/auth\.authority/);
  });

  it('keeps a logout URL exactly as given: its logout_uri must match the registered one', () => {
    const logoutUrl = 'https://eventflow-dev-1.auth.eu-west-1.amazoncognito.com/logout?client_id=c1&logout_uri=https://d1.cloudfront.net/';
    expect(parseConfig({ ...base, auth: { ...auth, logoutUrl } }).auth.logoutUrl).toBe(logoutUrl);
    expect(() => parseConfig({ ...base, auth: { ...auth, logoutUrl: 'ftp://x' } })).toThrow(/logoutUrl/);
  });
});
