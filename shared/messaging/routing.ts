/**
 * How an event is addressed on the broker. The routing key is
 *
 *     <type>.<detail>.<b3>.<b2>.<b1>.<b0>       e.g. order.updated.confirmed.0.1.1.0
 *
 * - `type` is the event type (two words: publisher and event);
 * - `detail` narrows it where some consumers need only part of a type (an order.updated's new
 *   status; whether an inventory.updated touched the catalog or only stock), `-` elsewhere;
 * - `b3..b0` are the four bits of the event's partition bucket, a hash of its partition key (the
 *   order, or the product for product events), so that every event about one order lands in the
 *   same partition of a queue, in order, however many partitions the queue has: partition i of
 *   2^k binds the pattern `<type>.<detail>.<the top k bits of i>.#`.
 *
 * Publishers never need to know how many partitions a queue has; only the bindings do.
 */
import type { AnyEnvelope } from '../events/envelope';
import { orderIdOf } from '../events/envelope';
import { CATALOG_CHANGES } from '../events/types';

export const PARTITION_BITS = 4;
/** Partitions per queue are a power of two, at most 2^PARTITION_BITS. */
export const MAX_PARTITIONS = 2 ** PARTITION_BITS;


/** What keeps an event's order with its peers: its order, else its product, else itself. */
export function partitionKeyOf(event: AnyEnvelope): string {
  return orderIdOf(event) ?? ('productId' in event.data ? event.data.productId : event.id);
}

/** FNV-1a, 32 bits: stable across processes and languages, cheap, and well spread over UUIDs. */
export function bucketOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % MAX_PARTITIONS;
}

export function detailOf(event: AnyEnvelope): string {
  if (event.type === 'order.updated') return event.data.status.toLowerCase();
  if (event.type === 'inventory.updated') return event.data.changed.some((c) => CATALOG_CHANGES.has(c)) ? 'catalog' : 'stock';
  return '-';
}

/** A bucket's bits, most significant first, as routing-key words. */
function bitsOf(bucket: number, count = PARTITION_BITS): string[] {
  return Array.from({ length: count }, (_, i) => String((bucket >> (PARTITION_BITS - 1 - i)) & 1));
}

export function routingKeyOf(event: AnyEnvelope): string {
  return routingKeyFor(event.type, partitionKeyOf(event), detailOf(event));
}

/** The routing key of an event of `type` about `partitionKey`, for publishers of raw messages (tools, tests). */
export function routingKeyFor(type: string, partitionKey: string, detail = '-'): string {
  return [type, detail, ...bitsOf(bucketOf(partitionKey))].join('.');
}

/** Which of a queue's partitions a bucket belongs to: its top log2(partitions) bits. */
export function partitionOfBucket(bucket: number, partitions: number): number {
  return bucket >> (PARTITION_BITS - Math.log2(partitions));
}

export function assertPartitionCount(partitions: number, what: string): void {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS || (partitions & (partitions - 1)) !== 0) {
    throw new Error(`${what}: partitions must be a power of two from 1 to ${MAX_PARTITIONS}, got ${partitions}`);
  }
}

/**
 * The binding pattern that gives partition `index` of `partitions` the events of `type` (with
 * `detail`, or any). `type` '*' with no detail means every event.
 */
export function bindingPattern(sub: { type: string; detail?: string }, index: number, partitions: number): string {
  const prefix = partitions === 1 ? [] : bitsOf(index << (PARTITION_BITS - Math.log2(partitions)), Math.log2(partitions));
  const type = sub.type === '*' ? ['*', '*'] : [sub.type];
  return [...type, sub.detail ?? '*', ...prefix, '#'].join('.');
}

/** AMQP topic matching (`*` one word, `#` zero or more), for tests and for counting deliveries. */
export function topicMatches(pattern: string, key: string): boolean {
  const p = pattern.split('.');
  const k = key.split('.');
  const memo = new Map<number, boolean>();
  const at = (i: number, j: number): boolean => {
    const id = i * 1000 + j;
    const known = memo.get(id);
    if (known !== undefined) return known;
    let r: boolean;
    if (i === p.length) r = j === k.length;
    else if (p[i] === '#') r = at(i + 1, j) || (j < k.length && at(i, j + 1));
    else r = j < k.length && (p[i] === '*' || p[i] === k[j]) && at(i + 1, j + 1);
    memo.set(id, r);
    return r;
  };
  return at(0, 0);
}
