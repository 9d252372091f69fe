/**
 * `npm run audit -- verify [--service <order|payment|inventory>]`: checks the audit trail's hash
 * chains in each service database (shared/audit/verify.ts) and names, per broken chain, the first
 * entry where it stops adding up. Exits 1 if any chain is broken, 2 on a usage error.
 */
import { SERVICES, databaseName, getConfig } from '../shared/config';
import type { ServiceName } from '../shared/config';
import { closePools, getPool } from '../shared/db/pool';
import { verifyAudit } from '../shared/audit/verify';

const USAGE = 'usage: npm run audit -- verify [--service order|payment|inventory]';
const [command, ...rest] = process.argv.slice(2);

function servicesFrom(args: string[]): ServiceName[] {
  if (args.length === 0) return [...SERVICES];
  if (args.length === 2 && args[0] === '--service' && (SERVICES as readonly string[]).includes(args[1]!)) return [args[1] as ServiceName];
  throw new Error(USAGE);
}

if (command !== 'verify') {
  console.error(USAGE);
  process.exit(2);
}
let services: ServiceName[];
try {
  services = servicesFrom(rest);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
const { namespace } = await getConfig();
let broken = 0;
try {
  for (const service of services) {
    const report = await verifyAudit(await getPool(service));
    const db = databaseName(service, namespace);
    if (report.breaks.length === 0) {
      console.log(`${db}: ${report.entries} entries in ${report.chains} chain(s): intact`);
      continue;
    }
    broken += report.breaks.length;
    console.log(`${db}: ${report.entries} entries in ${report.chains} chain(s): ${report.breaks.length} broken`);
    for (const b of report.breaks) console.log(`  chain ${b.chain}, entry ${b.seq}${b.id ? ` (${b.id})` : ''}: ${b.problem}`);
  }
} finally {
  await closePools();
}
process.exit(broken > 0 ? 1 : 0);
