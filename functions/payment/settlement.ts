import type { Logger } from '@aws-lambda-powertools/logger';
import { lockOrderScopes } from '../../shared/db/locks';
import { getPool } from '../../shared/db/pool';
import { runUnitOfWork } from '../../shared/messaging/unit-of-work';
import { refundKeyOf } from './domain/gateway';
import type { PaymentGateway } from './domain/gateway';
import { gatewayStepOf, settle } from './domain/payments';
import type { GatewayAnswers, Payment } from './domain/payments';
import { findUnsettled, recordSettlements } from './store';

/** Gateway calls in flight at once while settling. */
const GATEWAY_CONCURRENCY = 16;

async function ask(gateway: PaymentGateway, p: Payment) {
  const answers: GatewayAnswers = {};
  const refund = async (chargeReference: string) =>
    (await gateway.refund({ idempotencyKey: refundKeyOf(p.id), chargeReference, amountCents: p.amountCents })).reference;
  const step = gatewayStepOf(p);
  if (step === 'charge') answers.charge = await gateway.charge({ idempotencyKey: p.id, token: p.token ?? '', amountCents: p.amountCents, currency: p.currency });
  if (step === 'lookup') answers.charge = await gateway.lookup(p.id);
  if (step === 'refund') answers.refundReference = await refund(p.chargeReference!);
  let result = settle(p, answers);
  if (result.needsRefund) {
    answers.refundReference = await refund(result.payment.chargeReference!);
    result = settle(p, answers);
  }
  return { before: p, ...result };
}

async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/**
 * Settles payment intents: asks the gateway (charge, look up, refund; idempotent by key), then
 * records the outcomes and their events in one unit of work. An intent whose state moved meanwhile
 * (a refund asked while its charge was in flight) is read again and settled in the next round.
 * Returns how many intents were settled.
 */
export async function settleIntents(
  gateway: PaymentGateway,
  filter: { orderIds: string[] } | { staleSeconds: number; limit: number },
  logger: Logger,
): Promise<number> {
  let settled = 0;
  for (let round = 0; round < 3; round++) {
    const unsettled = await findUnsettled(await getPool('payment'), filter);
    if (unsettled.length === 0) break;
    const answered = await mapBounded(unsettled, GATEWAY_CONCURRENCY, (p) => ask(gateway, p));
    const { result: recorded } = await runUnitOfWork('payment', null, logger, async (uow) => {
      await lockOrderScopes(uow.tx, answered.map((a) => a.before.orderId));
      const recorded = await recordSettlements(uow.tx, answered.map((a) => ({ before: a.before, after: a.payment })));
      for (const a of answered) {
        if (!recorded.has(a.before.id)) continue;
        for (const e of a.events) uow.emit(e.type, e.data, e.cause);
      }
      return recorded.size;
    });
    settled += recorded;
  }
  return settled;
}
