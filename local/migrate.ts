/** `npm run migrate`: creates the service databases if needed and applies pending migrations. */
import { SERVICES, getConfig } from '../shared/config';
import { migrateService } from '../shared/db/migrate';

const config = await getConfig();
for (const service of SERVICES) {
  const applied = await migrateService(service, config.databaseUrls[service], { tls: config.databaseTls });
  console.log(`${service}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
}
