import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CustomResource, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { FunctionSpec } from '../functions/catalog';
import { brokerPolicies, parseBrokerVersion } from '../shared/messaging/policies';
import { resolveTopology } from '../functions/topology';
import { brokerUsers } from '../functions/identities';
import { MIGRATION_DIRS, REPO_ROOT } from './bundling';
import type { CatalogFunctions } from './functions';
import type { Settings } from './settings';

/**
 * The catalog's deploy-time functions as CloudFormation custom resources: the broker topology and
 * the database migrations. Each resource's properties carry a hash of what it applies, so a new
 * migration or a topology change re-runs it on the next deploy and nothing else does.
 */
export class DeployHooks extends Construct {
  readonly hooks: CustomResource[] = [];
  readonly byPurpose = new Map<string, CustomResource>();

  constructor(scope: Construct, id: string, props: { specs: FunctionSpec[]; functions: CatalogFunctions; settings: Settings; namespace: string }) {
    super(scope, id);
    for (const spec of props.specs) {
      if (spec.trigger.kind !== 'deploy') continue;
      const purpose = spec.trigger.purpose;
      const provider = new cr.Provider(this, `${spec.id}-provider`, {
        onEventHandler: props.functions.get(spec.id),
        logGroup: new logs.LogGroup(this, `${spec.id}-provider-logs`, {
          retention: props.settings.logRetention,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      });
      const fingerprint = purpose === 'migrations' ? migrationsHash() : topologyHash(props.namespace, props.settings);
      const resource = new CustomResource(this, spec.id, {
        serviceToken: provider.serviceToken,
        resourceType: `Custom::EventFlow${purpose === 'migrations' ? 'Migrations' : 'Topology'}`,
        properties: { fingerprint },
      });
      this.hooks.push(resource);
      this.byPurpose.set(purpose, resource);
    }
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The topology, its broker policies (for the configured engine version) and the broker's users and permissions: a change to any re-runs the hook. */
function topologyHash(namespace: string, settings: Settings): string {
  const topology = resolveTopology(namespace, settings.partitions);
  const policies = brokerPolicies(topology, namespace, parseBrokerVersion(settings.broker.engineVersion));
  const users = brokerUsers(namespace).map(({ name, tags, permissions }) => ({ name, tags, permissions }));
  return hash(JSON.stringify({ topology, policies, users }));
}

function migrationsHash(): string {
  const parts = MIGRATION_DIRS.flatMap((dir) =>
    readdirSync(path.join(REPO_ROOT, dir))
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((f) => `${dir}/${f}\n${readFileSync(path.join(REPO_ROOT, dir, f), 'utf8')}`),
  );
  return hash(parts.join('\n'));
}
