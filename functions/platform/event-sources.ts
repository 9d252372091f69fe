/** The state of the queue consumers' Amazon MQ event source mappings, read through the Lambda API. */
import { LAMBDA_ENV } from '../../shared/env';

/**
 * Codes Lambda puts in StateTransitionReason when an Amazon MQ consumer stops for good
 * (Lambda guide, "Troubleshoot Amazon MQ event source mapping errors").
 */
const STOPPED = ['ESM_CONFIG_NOT_VALID', 'EVENT_SOURCE_AUTHN_ERROR', 'EVENT_SOURCE_AUTHZ_ERROR', 'FUNCTION_CONFIG_NOT_VALID'];

export interface MappingState {
  State?: string;
  StateTransitionReason?: string;
  LastProcessingResult?: string;
}

/** Enabled, not stopped by Lambda, and its last poll not a problem. */
export function mappingHealthy(m: MappingState): boolean {
  if (m.State !== 'Enabled') return false;
  if (STOPPED.some((code) => m.StateTransitionReason?.includes(code))) return false;
  return !(m.LastProcessingResult ?? '').startsWith('PROBLEM');
}

/** "order-consumer=uuid,payment-consumer-p1=uuid" (set by the CDK app) as [mapping id, uuid] pairs. */
export function parseMappings(value: string | undefined): [string, string][] {
  if (!value) return [];
  return value.split(',').map((pair) => {
    const [id, uuid] = pair.split('=');
    if (!id || !uuid) throw new Error(`${LAMBDA_ENV.eventSourceMappings}: "${pair}" is not function=uuid`);
    return [id, uuid];
  });
}

/** Each mapping's health; a mapping that cannot be read counts as unhealthy. */
export async function mappingsHealth(pairs: [string, string][]): Promise<{ functionId: string; healthy: boolean; state?: MappingState; error?: string }[]> {
  if (pairs.length === 0) return [];
  const { LambdaClient, GetEventSourceMappingCommand } = await import('@aws-sdk/client-lambda');
  const lambda = new LambdaClient({});
  return Promise.all(
    pairs.map(async ([functionId, uuid]) => {
      try {
        const state = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
        return { functionId, healthy: mappingHealthy(state), state };
      } catch (err) {
        return { functionId, healthy: false, error: (err as Error).message };
      }
    }),
  );
}
