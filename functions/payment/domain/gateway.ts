import { createHash } from 'node:crypto';

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
  /** What a charge with this key did, or null if the gateway never saw it. */
  lookup(idempotencyKey: string): Promise<ChargeResult | null>;
  refund(request: { idempotencyKey: string; chargeReference: string; amountCents: number }): Promise<{ reference: string }>;
}

export const referenceFor = (prefix: 'ch' | 're', key: string) => `${prefix}_${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;

/** A payment's id follows from its order's, so a retried charge reuses the same idempotency key. */
export function paymentIdFor(orderId: string): string {
  const h = createHash('sha1').update(`eventflow:payment:${orderId}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50; // UUID version 5
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const refundKeyOf = (paymentId: string) => `refund:${paymentId}`;
