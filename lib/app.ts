import type { App } from 'aws-cdk-lib';
import { FUNCTIONS, type FunctionSpec } from '../functions/catalog';
import { SIGN_IN_SCOPES } from '../shared/auth/dashboard-client';
import { EventFlowStack } from './eventflow-stack';
import { addNagChecks } from './nag';
import { settingsFromContext } from './settings';
import { WebStack } from './web-stack';

export interface EventFlowApp {
  app: App;
  backend: EventFlowStack;
  web: WebStack;
}

export interface BuildOptions {
  specs?: FunctionSpec[];
  /** Run cdk-nag's AwsSolutions checks at synthesis (on by default). */
  nag?: boolean;
  siteDir?: string;
}

/**
 * Both stacks of one environment (context `env`), named EventFlow-<env> and EventFlow-<env>-Web.
 * The stacks are environment-agnostic (account and region come from the deploying credentials), so
 * the same template, and the same cdk-nag findings, come out wherever it is synthesized.
 */
export function buildApp(app: App, options: BuildOptions = {}): EventFlowApp {
  const settings = settingsFromContext(app.node);
  const name = `EventFlow-${settings.env}`;
  const backend = new EventFlowStack(app, name, {
    settings,
    specs: options.specs ?? FUNCTIONS,
    description: `EventFlow ${settings.env}: broker, databases, cache, functions, APIs, sign-in, dashboard distribution`,
    terminationProtection: settings.protectData,
  });
  const web = new WebStack(app, `${name}-Web`, {
    settings,
    site: backend.site,
    config: {
      apiUrl: backend.apis.httpUrl,
      wsUrl: backend.apis.webSocketUrl,
      auth: {
        authority: backend.auth.issuerUrl,
        clientId: backend.auth.dashboardClient.userPoolClientId,
        scope: SIGN_IN_SCOPES.cognito.join(' '),
        logoutUrl: backend.auth.logoutUrl(backend.site.url),
      },
    },
    siteDir: options.siteDir,
    description: `EventFlow ${settings.env}: the dashboard's files and config.json`,
  });
  if (options.nag ?? true) addNagChecks(app, { backend, web, settings });
  return { app, backend, web };
}
