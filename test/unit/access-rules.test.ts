import { describe, expect, it } from 'vitest';
import { ROUTES, ROUTE_ACCESS } from '../../functions/catalog';
import { listingFilter, mayAccessOrder, orderPlacedFor } from '../../functions/order/domain/access';
import { decodeConnection, encodeConnection, mayReceive, ownersNamedIn, receivable } from '../../functions/notification/domain/access';
import { allowConnection, principalOfContext } from '../../functions/notification/domain/authorizer';
import { decideRoute } from '../../shared/auth/access';
import type { Principal } from '../../shared/auth/principal';
import type { AnyEnvelope } from '../../shared/events/envelope';
import { withoutPaymentToken } from '../../shared/events/redact';

const alice: Principal = { sub: 'a11ce000-0000-4000-8000-000000000002', role: 'customer' };
const bob: Principal = { sub: 'b0b00000-0000-4000-8000-000000000003', role: 'customer' };
const ops: Principal = { sub: '0905e000-0000-4000-8000-000000000001', role: 'operator' };

describe('route access', () => {
  it('makes only health and the product reads public', () => {
    const publicRoutes = Object.values(ROUTES).filter((r) => ROUTE_ACCESS[r] === 'public');
    expect(publicRoutes.sort()).toEqual([ROUTES.health, ROUTES.listProducts, ROUTES.getProduct].sort());
  });

  it('lets anyone call a public route, callers with a role the customer routes, operators only the operator routes', () => {
    expect(decideRoute('public', null, false)).toEqual({ allow: true, principal: null });
    expect(decideRoute('customer', alice, true)).toEqual({ allow: true, principal: alice });
    expect(decideRoute('customer', ops, true)).toEqual({ allow: true, principal: ops });
    expect(decideRoute('operator', ops, true)).toEqual({ allow: true, principal: ops });
    expect(decideRoute('operator', alice, true)).toMatchObject({ allow: false, status: 403 });
    expect(decideRoute('customer', null, true)).toMatchObject({ allow: false, status: 403 });
    expect(decideRoute('customer', null, false)).toMatchObject({ allow: false, status: 401 });
  });

  it('refuses a token that is not an access token with 401, on every protected route, before its role', () => {
    for (const access of ['customer', 'operator'] as const) {
      expect(decideRoute(access, null, true, false)).toMatchObject({ allow: false, status: 401, detail: expect.stringMatching(/only access tokens/) });
    }
    expect(decideRoute('public', null, true, false)).toEqual({ allow: true, principal: null });
  });
});

describe('order access', () => {
  it('places a customer order for the caller, refuses another customer, and makes an operator name one', () => {
    expect(orderPlacedFor(alice, undefined)).toEqual({ ok: true, customerId: alice.sub });
    expect(orderPlacedFor(alice, alice.sub)).toEqual({ ok: true, customerId: alice.sub });
    expect(orderPlacedFor(alice, bob.sub)).toMatchObject({ ok: false, status: 403, pointer: '/customerId' });
    expect(orderPlacedFor(ops, undefined)).toMatchObject({ ok: false, status: 400, pointer: '/customerId' });
    expect(orderPlacedFor(ops, bob.sub)).toEqual({ ok: true, customerId: bob.sub });
    expect(orderPlacedFor({ sub: 'not-a-uuid', role: 'customer' }, undefined)).toMatchObject({ ok: false, status: 403 });
  });

  it('lets a customer reach its own orders only, an operator every order', () => {
    expect(mayAccessOrder(alice, alice.sub)).toBe(true);
    expect(mayAccessOrder(alice, bob.sub)).toBe(false);
    expect(mayAccessOrder(ops, bob.sub)).toBe(true);
  });

  it("filters a customer's listing to itself, and to nothing when it asks for another's", () => {
    expect(listingFilter(alice, undefined)).toEqual({ customerId: alice.sub, none: false });
    expect(listingFilter(alice, alice.sub)).toEqual({ customerId: alice.sub, none: false });
    expect(listingFilter(alice, bob.sub)).toEqual({ customerId: alice.sub, none: true });
    expect(listingFilter(ops, undefined)).toEqual({ customerId: undefined, none: false });
    expect(listingFilter(ops, bob.sub)).toEqual({ customerId: bob.sub, none: false });
    expect(listingFilter({ sub: 'not-a-uuid', role: 'customer' }, undefined)).toMatchObject({ none: true });
  });
});

const envelope = (type: string, data: Record<string, unknown>) => ({ id: `${type}-${JSON.stringify(data)}`, type, data }) as unknown as AnyEnvelope;

describe('what a WebSocket connection receives', () => {
  const created = envelope('order.created', { orderId: 'o-alice', customerId: alice.sub, paymentToken: 'tok_visa', items: [] });
  const reserved = envelope('inventory.reserved', { orderId: 'o-alice' });
  const bobs = envelope('payment.processed', { orderId: 'o-bob' });
  const stock = envelope('inventory.updated', { productId: 'p-1' });
  const owners = new Map([...ownersNamedIn([created]), ['o-bob', bob.sub]]);

  it("gives a customer its own orders' events only, an operator everything, and nobody without a principal anything", () => {
    expect(receivable(alice, owners, [created, reserved, bobs, stock])).toEqual([created, reserved]);
    expect(receivable(bob, owners, [created, reserved, bobs, stock])).toEqual([bobs]);
    expect(receivable(ops, owners, [created, reserved, bobs, stock])).toEqual([created, reserved, bobs, stock]);
    expect(mayReceive(null, owners, stock)).toBe(false);
    // An order whose owner is unknown is nobody's but the operators'.
    expect(mayReceive(alice, new Map(), reserved)).toBe(false);
  });

  it('strips the payment token from every event that carries one, and leaves the others as they are', () => {
    const shown = withoutPaymentToken(created);
    expect(shown.data).not.toHaveProperty('paymentToken');
    expect(shown.data).toMatchObject({ orderId: 'o-alice', customerId: alice.sub });
    expect(created.data).toHaveProperty('paymentToken'); // the original is untouched
    expect(withoutPaymentToken(stock)).toBe(stock);
  });

  it('keeps who opened a connection with it, and treats a record without one as nobody', () => {
    expect(decodeConnection(encodeConnection({ expiresAt: 123, principal: alice }))).toEqual({ expiresAt: 123, principal: alice });
    expect(decodeConnection('456')).toEqual({ expiresAt: 456, principal: null });
    expect(decodeConnection('789 admin x')).toEqual({ expiresAt: 789, principal: null });
  });

  it('allows a connection with the principal as the authorizer context, and reads it back from $connect', () => {
    const result = allowConnection(alice, 'arn:aws:execute-api:us-east-1:1:api/stage/$connect');
    expect(result.policyDocument.Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:us-east-1:1:api/stage/$connect' }]);
    expect(result.context).toEqual({ sub: alice.sub, role: 'customer' });
    expect(principalOfContext({ ...result.context, principalId: alice.sub, integrationLatency: 3 })).toEqual(alice);
    expect(principalOfContext({ sub: alice.sub, role: 'admin' })).toBeNull();
    expect(principalOfContext(undefined)).toBeNull();
  });
});
