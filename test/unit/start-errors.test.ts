import { describe, expect, it } from 'vitest';
import { StartError, step } from '../../local/prepare';

/** A database or broker failure at start is one line naming the step and what to do; an outage is left to prepare's retries. */
describe('start steps', () => {
  const fail = (err: unknown) => () => Promise.reject(err);

  it("turns the broker's refusal into one line naming the step and what to do", async () => {
    const refusal = new Error('Connection closed: 540 (NOT-IMPLEMENTED) with message "NOT_IMPLEMENTED - queue.delete operations with if-empty flag set are not supported by quorum queues"\n    at stack');
    const err = await step('declaring the broker topology (RabbitMQ at 127.0.0.1:5672)', 'fix it and start again', fail(refusal)).catch((e) => e);
    expect(err).toBeInstanceOf(StartError);
    expect(err.message).toBe(
      'declaring the broker topology (RabbitMQ at 127.0.0.1:5672) failed: Connection closed: 540 (NOT-IMPLEMENTED) with message "NOT_IMPLEMENTED - queue.delete operations with if-empty flag set are not supported by quorum queues"; fix it and start again',
    );
    expect(err.message).not.toContain('\n');
  });

  it('names a database error the same way', async () => {
    const err = await step('migrating the order database', 'fix it', fail(Object.assign(new Error('relation "orders" already exists'), { code: '42P07' }))).catch((e) => e);
    expect(err).toBeInstanceOf(StartError);
    expect(err.message).toBe('migrating the order database failed: relation "orders" already exists; fix it');
  });

  it('leaves a dependency that is not there yet to the retries', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    await expect(step('creating the databases', 'fix it', fail(refused))).rejects.toBe(refused);
  });
});
