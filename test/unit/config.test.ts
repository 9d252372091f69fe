import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/catalog';
import { mappingHealthy, parseMappings } from '../../functions/platform/event-sources';
import { previousMinute } from '../../functions/order/metrics';
import { lambdaFunction, resolveConfig } from '../../shared/config';
import { LAMBDA_ENV, decodeUses, encodeUses, onLambda, requiredOnLambda } from '../../shared/env';

const lambda = { AWS_LAMBDA_FUNCTION_NAME: 'EventFlow-dev-orderapi-AbC', AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };

/** Everything a function's `uses` needs, with placeholder values. */
const complete = (id: string) => ({
  ...lambda,
  ...Object.fromEntries(requiredOnLambda(FUNCTIONS.find((f) => f.id === id)!.uses).map((n) => [n, `value-of-${n}`])),
  [LAMBDA_ENV.functionId]: id,
  [LAMBDA_ENV.functionUses]: encodeUses(FUNCTIONS.find((f) => f.id === id)!.uses),
});

describe('configuration', () => {
  it('defaults to localhost off Lambda', async () => {
    const c = await resolveConfig({ EVENTFLOW_NAMESPACE: 't1' });
    expect(c.rabbitmqUrl).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(c.databaseUrls.order).toBe('postgres://postgres@127.0.0.1:5432/t1_order_db');
    expect(c.redis.url).toBe('redis://127.0.0.1:6379');
  });

  it('knows Lambda by the variables its runtime sets, not by one a local emulator might copy', () => {
    expect(onLambda(lambda)).toBe(true);
    expect(onLambda({ AWS_LAMBDA_FUNCTION_NAME: 'order-api' })).toBe(false);
    expect(onLambda({})).toBe(false);
  });

  it('on Lambda, fails at once naming every missing variable instead of falling back to localhost', async () => {
    for (const spec of FUNCTIONS) {
      const env: Record<string, string> = complete(spec.id);
      for (const name of requiredOnLambda(spec.uses).filter((n) => n !== LAMBDA_ENV.functionId)) {
        const missing = { ...env };
        delete missing[name];
        await expect(resolveConfig(missing), `${spec.id} without ${name}`).rejects.toThrow(`${spec.id} cannot start: ${name} not set`);
      }
      expect(lambdaFunction(env)).toEqual({ id: spec.id, uses: { ...spec.uses, databases: [...spec.uses.databases] } });
    }
    await expect(resolveConfig(lambda)).rejects.toThrow(`${LAMBDA_ENV.functionId} is not set`);
  });

  it('reads what a function uses from the catalog entry the CDK app wrote, and refuses anything else', () => {
    for (const spec of FUNCTIONS) expect(decodeUses(encodeUses(spec.uses))).toMatchObject(spec.uses);
    expect(() => decodeUses('{')).toThrow('EVENTFLOW_FUNCTION_USES is not JSON');
    expect(() => decodeUses('{"databases":["orders"]}')).toThrow(/must name its databases among order, payment, inventory/);
    expect(() => decodeUses('{"databases":[],"broker":"yes"}')).toThrow('broker must be true or false');
    expect(() => decodeUses('{"databases":[],"admin":true}')).toThrow('unknown member admin');
  });

  it('prepares statements by default off Lambda, and takes only "true" or "false" anywhere', async () => {
    expect((await resolveConfig({})).dbPreparedStatements).toBe(true);
    expect((await resolveConfig({ DB_PREPARED_STATEMENTS: 'false' })).dbPreparedStatements).toBe(false);
    await expect(resolveConfig({ DB_PREPARED_STATEMENTS: 'off' })).rejects.toThrow('DB_PREPARED_STATEMENTS must be "true" or "false", got "off"');
    // On Lambda a wrong value fails the cold start before any secret is read.
    expect(requiredOnLambda({ databases: ['order'], broker: false, redis: false })).toContain('DB_PREPARED_STATEMENTS');
    expect(requiredOnLambda({ databases: [], broker: true, redis: false })).not.toContain('DB_PREPARED_STATEMENTS');
    await expect(resolveConfig({ ...complete('order-deadlines'), DB_PREPARED_STATEMENTS: 'yes' })).rejects.toThrow('DB_PREPARED_STATEMENTS must be "true" or "false", got "yes"');
  });

  it('requires on Lambda exactly what the catalog says a function uses', () => {
    const api = requiredOnLambda({ databases: ['order'], broker: true, redis: false });
    expect(api).toEqual(expect.arrayContaining(['ORDER_DB_SECRET_ARN', 'RABBITMQ_SECRET_ARN', 'RABBITMQ_ENDPOINT', 'DATABASE_TLS']));
    expect(api).not.toContain('PAYMENT_DB_SECRET_ARN');
    expect(api).not.toContain('REDIS_URL');
    expect(requiredOnLambda({ databases: [], broker: true, brokerManagement: true, redis: false })).toContain('RABBITMQ_MANAGEMENT_ENDPOINT');
  });
});

describe('watch helpers', () => {
  it('calls an event source mapping healthy only when enabled, not stopped and not failing', () => {
    expect(mappingHealthy({ State: 'Enabled', LastProcessingResult: 'OK' })).toBe(true);
    expect(mappingHealthy({ State: 'Disabled', StateTransitionReason: 'USER_INITIATED' })).toBe(false);
    expect(mappingHealthy({ State: 'Enabled', StateTransitionReason: 'EVENT_SOURCE_AUTHN_ERROR' })).toBe(false);
    expect(mappingHealthy({ State: 'Enabled', LastProcessingResult: 'PROBLEM: Connection error.' })).toBe(false);
    expect(mappingHealthy({ State: 'Creating' })).toBe(false);
  });

  it('reads the mapping list the CDK app hands the watch function', () => {
    expect(parseMappings('order-consumer=a-1,payment-consumer=b-2')).toEqual([['order-consumer', 'a-1'], ['payment-consumer', 'b-2']]);
    expect(parseMappings(undefined)).toEqual([]);
    expect(() => parseMappings('broken')).toThrow(/function=uuid/);
  });

  it('counts orders per whole minute', () => {
    expect(previousMinute(new Date('2026-01-01T10:05:42.123Z'))).toEqual({
      from: new Date('2026-01-01T10:04:00Z'),
      to: new Date('2026-01-01T10:05:00Z'),
    });
  });
});
