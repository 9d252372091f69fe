import { describe, expect, it } from 'vitest';
import { flattenClaims, isAccessToken, parseGroups, principalOf, roleOf } from '../../shared/auth/principal';
import { principalOfEvent } from '../../shared/auth/access';
import { issuedFor } from '../../shared/auth/verify';

describe('the principal of a token', () => {
  it('reads groups as the token carries them and as API Gateway flattens them', () => {
    expect(parseGroups(['operator'])).toEqual(['operator']);
    expect(parseGroups('[operator]')).toEqual(['operator']);
    expect(parseGroups('[customer operator]')).toEqual(['customer', 'operator']);
    expect(parseGroups('customer,operator')).toEqual(['customer', 'operator']);
    expect(parseGroups('customer')).toEqual(['customer']);
    expect(parseGroups('[]')).toEqual([]);
    expect(parseGroups(undefined)).toEqual([]);
    expect(parseGroups(42)).toEqual([]);
  });

  it('flattens claims into strings the way the HTTP API JWT authorizer does, and reads them back', () => {
    const flat = flattenClaims({ sub: 's-1', 'cognito:groups': ['operator'], exp: 1700000000, scope: 'eventflow', email_verified: true, nothing: null });
    expect(flat).toEqual({ sub: 's-1', 'cognito:groups': '[operator]', exp: '1700000000', scope: 'eventflow', email_verified: 'true' });
    expect(principalOf(flat)).toEqual({ sub: 's-1', role: 'operator' });
    expect(principalOf(flattenClaims({ sub: 's-2', 'cognito:groups': ['customer'] }))).toEqual({ sub: 's-2', role: 'customer' });
  });

  it('gives no principal without a subject or a known role; operator outranks customer', () => {
    expect(principalOf({ 'cognito:groups': '[operator]' })).toBeNull();
    expect(principalOf({ sub: 'x', 'cognito:groups': '[admins]' })).toBeNull();
    expect(principalOf({ sub: 'x' })).toBeNull();
    expect(roleOf(['customer', 'operator'])).toBe('operator');
  });

  it('takes the audience from aud (local issuer) or client_id (Cognito access tokens)', () => {
    expect(issuedFor({ aud: 'eventflow-dashboard' }, 'eventflow-dashboard')).toBe(true);
    expect(issuedFor({ aud: ['x', 'eventflow-dashboard'] }, 'eventflow-dashboard')).toBe(true);
    expect(issuedFor({ client_id: 'eventflow-dashboard' }, 'eventflow-dashboard')).toBe(true);
    expect(issuedFor({ aud: 'other', client_id: 'other' }, 'eventflow-dashboard')).toBe(false);
    expect(issuedFor({}, 'eventflow-dashboard')).toBe(false);
  });

  it('takes the caller from an access token only: an ID token (or one that does not say) names nobody', () => {
    const event = (claims: Record<string, string>) => ({ requestContext: { authorizer: { jwt: { claims } } } });
    const claims = { sub: 's-1', 'cognito:groups': '[operator]' };
    expect(isAccessToken({ token_use: 'access' })).toBe(true);
    expect(isAccessToken({ token_use: 'id' })).toBe(false);
    expect(isAccessToken({})).toBe(false);
    expect(principalOfEvent(event({ ...claims, token_use: 'access' }))).toEqual({ sub: 's-1', role: 'operator' });
    expect(principalOfEvent(event({ ...claims, token_use: 'id' }))).toBeNull();
    expect(principalOfEvent(event(claims))).toBeNull();
  });
});
