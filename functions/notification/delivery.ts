/** Frames for one connection, in the order they must arrive. */
export interface Delivery {
  connectionId: string;
  frames: string[];
}

export interface DeliveryReport {
  delivered: number;
  /** Connections that answered 410 Gone. */
  gone: string[];
  /** Connections that failed otherwise; what they missed they can resume. */
  failed: { connectionId: string; error: unknown }[];
}

/**
 * Connections sent to at once. Each post waits on a network round trip to API Gateway, so more in
 * flight means a faster fan-out; the management client's socket pool is sized to match.
 */
export const DELIVERY_CONCURRENCY = 100;

/**
 * Sends each connection its frames, one after another so that they arrive in order, and many
 * connections concurrently, bounded. A connection that is gone or failing stops only its own frames:
 * it never holds up the others nor fails the whole delivery.
 */
export async function deliver(
  deliveries: readonly Delivery[],
  post: (connectionId: string, data: string) => Promise<void>,
  isGone: (err: unknown) => boolean,
  concurrency = DELIVERY_CONCURRENCY,
): Promise<DeliveryReport> {
  const report: DeliveryReport = { delivered: 0, gone: [], failed: [] };
  let next = 0;
  const worker = async () => {
    while (next < deliveries.length) {
      const { connectionId, frames } = deliveries[next++]!;
      try {
        for (const frame of frames) await post(connectionId, frame);
        report.delivered++;
      } catch (err) {
        if (isGone(err)) report.gone.push(connectionId);
        else report.failed.push({ connectionId, error: err });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, deliveries.length) }, worker));
  return report;
}
