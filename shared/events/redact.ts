/**
 * What no client is shown of an event: the payment token order.created carries to the payment
 * service. Pure; applied to every event leaving the system towards a client (WebSocket frames,
 * catch-up and resume, an order's timeline over HTTP).
 */
export function withoutPaymentToken<E>(event: E): E {
  const data = (event as { data?: unknown }).data;
  if (!data || typeof data !== 'object' || !('paymentToken' in data)) return event;
  const { paymentToken: _token, ...rest } = data as Record<string, unknown>;
  return { ...event, data: rest } as E;
}
