import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { Settings } from './settings';
import { Web, type WebSite } from './web';
import type { RuntimeConfig } from './web-site';

export interface WebStackProps extends StackProps {
  settings: Settings;
  /** The bucket and distribution (backend stack) the files go to. */
  site: WebSite;
  config: RuntimeConfig;
  siteDir?: string;
}

/**
 * The dashboard's files and config.json, in their own stack: they change on every front-end
 * release and deploy in seconds without touching the broker or the databases.
 */
export class WebStack extends Stack {
  readonly web: Web;
  /** What config.json holds (tokens of the backend stack, resolved at deploy time). */
  readonly config: RuntimeConfig;

  constructor(scope: Construct, id: string, props: WebStackProps) {
    super(scope, id, props);
    this.config = props.config;
    this.web = new Web(this, 'Web', props);
    new CfnOutput(this, 'DashboardUrl', { value: props.site.url, description: 'EventFlow dashboard' });
  }
}
