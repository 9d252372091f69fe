import { describe, expect, it } from 'vitest';
import { paymentIdFor } from '../../functions/payment/domain/gateway';
import { decideIntents, gatewayStepOf, settle } from '../../functions/payment/domain/payments';
import type { Payment, PaymentCommand } from '../../functions/payment/domain/payments';

const cause = (n: number) => ({ correlationId: 'c', causationId: `00000000-0000-4000-8000-00000000000${n}` });
const charge = (orderId: string): PaymentCommand => ({ kind: 'charge', orderId, orderVersion: 1, amountCents: 500, currency: 'USD', token: 'tok_visa' });
const refund = (orderId: string, reason = 'order cancelled'): PaymentCommand => ({ kind: 'refund', orderId, orderVersion: 2, reason });
const cmds = (...cs: PaymentCommand[]) => cs.map((command, i) => ({ command, cause: cause(i) }));

const payment = (orderId: string, over: Partial<Payment> = {}): Payment => ({
  id: paymentIdFor(orderId),
  orderId,
  amountCents: 500,
  currency: 'USD',
  status: 'CHARGING',
  token: 'tok_visa',
  orderVersion: 1,
  cause: cause(0),
  failureReason: null,
  chargeReference: null,
  refundReference: null,
  refund: null,
  ...over,
});

describe('payment intents', () => {
  it('records a charge to take, and says so with payment.initiated', () => {
    const d = decideIntents(cmds(charge('o1')), new Map(), new Set());
    expect(d.payments).toEqual([payment('o1')]);
    expect(d.initiated).toEqual([{ cause: 0, data: { orderId: 'o1', orderVersion: 1, paymentId: paymentIdFor('o1'), amountCents: 500, currency: 'USD' } }]);
  });

  it('never charges an order known to have ended: blocked before, or ended in the same batch', () => {
    expect(decideIntents(cmds(charge('o1')), new Map(), new Set(['o1'])).payments).toEqual([]);
    for (const batch of [cmds(charge('o1'), refund('o1')), cmds(refund('o1'), charge('o1'))]) {
      const d = decideIntents(batch, new Map(), new Set());
      expect(d.payments).toEqual([]);
      expect(d.initiated).toEqual([]);
      expect(d.blocks).toEqual([{ orderId: 'o1', reason: 'order cancelled' }]);
    }
  });

  it('asks a processed payment, or one in flight, to be refunded once', () => {
    const processed = payment('o1', { status: 'PROCESSED', chargeReference: 'ch_1' });
    const d = decideIntents(cmds(refund('o1'), refund('o1', 'again')), new Map([['o1', processed]]), new Set());
    expect(d.payments).toEqual([{ ...processed, status: 'REFUNDING', refund: { reason: 'order cancelled', orderVersion: 2, cause: cause(0) } }]);
    expect(d.skipped).toEqual([{ cause: 1, why: 'payment is REFUNDING, refund already asked' }]);
    const inFlight = decideIntents(cmds(refund('o2')), new Map([['o2', payment('o2')]]), new Set());
    expect(inFlight.payments[0]).toMatchObject({ status: 'CHARGING', refund: { reason: 'order cancelled' } });
  });

  it('leaves failed and refunded payments alone', () => {
    for (const status of ['FAILED', 'REFUNDED', 'VOIDED'] as const) {
      expect(decideIntents(cmds(refund('o1')), new Map([['o1', payment('o1', { status })]]), new Set()).payments).toEqual([]);
    }
  });
});

describe('settling an intent with the gateway', () => {
  const ended = { reason: 'order cancelled', orderVersion: 2, cause: cause(5) };

  it('charges, then records the outcome with its event', () => {
    const p = payment('o1');
    expect(gatewayStepOf(p)).toBe('charge');
    const ok = settle(p, { charge: { ok: true, reference: 'ch_1' } });
    expect(ok.payment).toMatchObject({ status: 'PROCESSED', chargeReference: 'ch_1' });
    expect(ok.events.map((e) => e.type)).toEqual(['payment.processed']);
    const declined = settle(p, { charge: { ok: false, reason: 'card declined' } });
    expect(declined.payment).toMatchObject({ status: 'FAILED', failureReason: 'card declined' });
    expect(declined.events[0]).toMatchObject({ type: 'payment.failed', data: { reason: 'payment declined: card declined' } });
  });

  it('for an order that ended meanwhile, asks instead of charging: never seen is voided, taken is refunded', () => {
    const p = payment('o1', { refund: ended });
    expect(gatewayStepOf(p)).toBe('lookup');
    expect(settle(p, { charge: null })).toEqual({ payment: { ...p, status: 'VOIDED' }, events: [], needsRefund: false });
    const taken = settle(p, { charge: { ok: true, reference: 'ch_1' } });
    expect(taken.needsRefund).toBe(true);
    const refunded = settle(p, { charge: { ok: true, reference: 'ch_1' }, refundReference: 're_1' });
    expect(refunded.payment).toMatchObject({ status: 'REFUNDED', chargeReference: 'ch_1', refundReference: 're_1' });
    expect(refunded.events.map((e) => e.type)).toEqual(['payment.processed', 'payment.refunded']);
    expect(refunded.events[1]).toMatchObject({ data: { orderVersion: 2, reason: 'order cancelled' }, cause: cause(5) });
  });

  it('refunds a payment asked to be refunded', () => {
    const p = payment('o1', { status: 'REFUNDING', chargeReference: 'ch_1', refund: ended });
    expect(gatewayStepOf(p)).toBe('refund');
    expect(settle(p, { refundReference: 're_1' }).payment.status).toBe('REFUNDED');
  });
});
