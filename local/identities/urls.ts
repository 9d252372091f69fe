/**
 * Where each local identity connects: the URLs of the local configuration (which carry the
 * administrators' credentials: guest, Redis's default user, postgres) with the identity's own
 * user and derived password instead. What a function's environments are given
 * (local/identities/environment.ts), what the local event source mappings and DLQ tools connect
 * with, and what the tests use to act as one service.
 */
import type { Config, ServiceName } from '../../shared/config';
import { brokerUserOf, databaseRoleOf, redisUsers, sourceRoleOf } from '../../functions/identities';
import type { BrokerUserRole, RedisRole } from '../../functions/identities';
import type { QueueId } from '../../functions/subscriptions';
import { localPassword, withCredentials } from './credentials';

type Where = Pick<Config, 'rabbitmqUrl' | 'rabbitmqManagementUrl' | 'redis' | 'databaseUrls' | 'namespace'>;

/** The AMQP URL of a broker user. */
export function brokerUrlOf(config: Pick<Where, 'rabbitmqUrl' | 'namespace'>, role: BrokerUserRole): string {
  const user = brokerUserOf(role, config.namespace);
  return withCredentials(config.rabbitmqUrl, user, localPassword('broker', user));
}

/** The management API URL of a broker user, where the broker has one. */
export function managementUrlOf(config: Pick<Where, 'rabbitmqManagementUrl' | 'namespace'>, role: BrokerUserRole): string | undefined {
  if (!config.rabbitmqManagementUrl) return undefined;
  const user = brokerUserOf(role, config.namespace);
  return withCredentials(config.rabbitmqManagementUrl, user, localPassword('broker', user));
}

/** The AMQP URL a service queue's (local) event source mappings consume with. */
export const sourceUrlOf = (config: Pick<Where, 'rabbitmqUrl' | 'namespace'>, queue: QueueId) => brokerUrlOf(config, sourceRoleOf(queue));

/** The Redis URL of a Redis user. */
export function redisUrlOf(config: Pick<Where, 'redis' | 'namespace'>, role: RedisRole): string {
  const user = redisUsers(config.namespace).find((u) => u.role === role)!.name;
  return withCredentials(config.redis.url, user, localPassword('redis', user));
}

/** The URL of a service's database as the role that owns it. */
export function databaseUrlOf(config: Pick<Where, 'databaseUrls' | 'namespace'>, service: ServiceName): string {
  const role = databaseRoleOf(service, config.namespace);
  return withCredentials(config.databaseUrls[service], role, localPassword('postgres', role));
}
