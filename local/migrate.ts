/** `npm run migrate`: creates the service databases and their roles if needed and applies pending migrations, as each database's role. */
import { SERVICES, getConfig } from '../shared/config';
import { migrateService } from '../shared/db/migrate';
import { provisionDatabases } from './identities/provision';
import { databaseUrlOf } from './identities/urls';

const config = await getConfig();
await provisionDatabases(config);
for (const service of SERVICES) {
  const applied = await migrateService(service, databaseUrlOf(config, service), { tls: config.databaseTls });
  console.log(`${service}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
}
