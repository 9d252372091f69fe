/**
 * Custom resource (CDK Provider framework): brings every service database up to date at deploy
 * time. Create and Update migrate; Delete keeps the data. Throwing fails the deploy.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { resolveConfig, SERVICES } from '../../shared/config';
import { migrateService } from '../../shared/db/migrate';
import { createLogger } from '../../shared/logger';
import { instrument } from '../../shared/observability';

const logger = createLogger('platform');
const PHYSICAL_ID = 'eventflow-migrations';

export const handler = instrument(async (event: CloudFormationCustomResourceEvent) => {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const config = await resolveConfig();
  const applied: Record<string, number> = {};
  for (const service of SERVICES) {
    const ids = await migrateService(service, config.databaseUrls[service], { tls: config.databaseTls });
    logger.info('migrated', { service, applied: ids });
    applied[service] = ids.length;
  }
  return { PhysicalResourceId: PHYSICAL_ID, Data: applied };
});
