/**
 * Payment tokens of the simulated card gateway, as payment providers' test modes have them.
 * The order service refuses any other token at order creation; the payment service's
 * gateway charges them accordingly.
 */
export const PAYMENT_TOKENS = {
  tok_visa: 'succeeds',
  tok_chargeDeclined: 'declined',
} as const;

export type PaymentToken = keyof typeof PAYMENT_TOKENS;

export function isPaymentToken(token: string): token is PaymentToken {
  return Object.hasOwn(PAYMENT_TOKENS, token);
}
