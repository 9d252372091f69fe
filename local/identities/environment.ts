/**
 * What a function's local execution environments are given to reach the broker, Redis and the
 * databases: its own identities and nothing else, as the CDK app grants a Lambda function only its
 * own secrets. The administrators' URLs of the local configuration are withheld, and the
 * function's `uses` goes with it (EVENTFLOW_FUNCTION_USES, as on Lambda), so that shared/config.ts
 * refuses what it does not use instead of falling back to localhost defaults.
 */
import type { FunctionSpec } from '../../functions/catalog';
import { SERVICES } from '../../shared/config';
import type { Config } from '../../shared/config';
import { LAMBDA_ENV, LOCAL_ENV, encodeUses } from '../../shared/env';
import { brokerUrlOf, databaseUrlOf, managementUrlOf, redisUrlOf } from './urls';

/** The variables a function's environments get on top of the runtime's own (undefined: withheld). */
export function functionEnvironment(spec: FunctionSpec, config: Config): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    [LAMBDA_ENV.functionUses]: encodeUses(spec.uses),
    [LOCAL_ENV.databaseUrl]: undefined,
    [LOCAL_ENV.rabbitmqUrl]: undefined,
    [LOCAL_ENV.rabbitmqManagementUrl]: undefined,
    [LAMBDA_ENV.redisUrl]: undefined,
  };
  for (const service of SERVICES) {
    env[LOCAL_ENV.serviceDatabaseUrl[service]] = spec.uses.databases.includes(service) ? databaseUrlOf(config, service) : undefined;
  }
  const broker = spec.identity.broker;
  if (broker === 'deploy') {
    // The deploy-time administrator: only the topology hook, which the local runtime does not run (prepare does its work).
    env[LOCAL_ENV.rabbitmqUrl] = config.rabbitmqUrl;
    env[LOCAL_ENV.rabbitmqManagementUrl] = config.rabbitmqManagementUrl;
  } else if (broker) {
    env[LOCAL_ENV.rabbitmqUrl] = brokerUrlOf(config, broker);
    if (spec.uses.brokerManagement) env[LOCAL_ENV.rabbitmqManagementUrl] = managementUrlOf(config, broker);
  }
  if (spec.identity.redis) env[LAMBDA_ENV.redisUrl] = redisUrlOf(config, spec.identity.redis);
  return env;
}
