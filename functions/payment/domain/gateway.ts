import { createHash } from 'node:crypto';
import { PAYMENT_TOKENS, isPaymentToken } from '../../../shared/payments/test-tokens';

export interface ChargeRequest {
  /** The same key always gives the same outcome and charges at most once, as real gateways promise. */
  idempotencyKey: string;
  token: string;
  amountCents: number;
  currency: string;
}

export type ChargeResult = { ok: true; reference: string } | { ok: false; reason: string };

export interface PaymentGateway {
  charge(request: ChargeRequest): Promise<ChargeResult>;
  refund(request: { idempotencyKey: string; chargeReference: string; amountCents: number }): Promise<{ reference: string }>;
}

const reference = (prefix: string, key: string) => `${prefix}_${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;

/**
 * The card gateway in test mode: the token decides the outcome, as in payment providers' sandboxes.
 * Deterministic and idempotent by key, so a redelivered charge gets the same answer.
 */
export const simulatedGateway: PaymentGateway = {
  async charge({ idempotencyKey, token }) {
    if (!isPaymentToken(token)) return { ok: false, reason: 'payment token not recognised' };
    return PAYMENT_TOKENS[token] === 'succeeds'
      ? { ok: true, reference: reference('ch', idempotencyKey) }
      : { ok: false, reason: 'card declined' };
  },
  async refund({ idempotencyKey }) {
    return { reference: reference('re', idempotencyKey) };
  },
};

/** A payment's id follows from its order's, so a retried charge reuses the same idempotency key. */
export function paymentIdFor(orderId: string): string {
  const h = createHash('sha1').update(`eventflow:payment:${orderId}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50; // UUID version 5
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
