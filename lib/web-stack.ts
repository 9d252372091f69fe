import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { Settings } from './settings';
import { Web } from './web';

export interface WebStackProps extends StackProps {
  settings: Settings;
  apiUrl: string;
  wsUrl: string;
  siteDir?: string;
}

/**
 * The dashboard, in its own stack: it changes on every front-end release and deploys in seconds
 * without touching the broker or the databases.
 */
export class WebStack extends Stack {
  readonly web: Web;

  constructor(scope: Construct, id: string, props: WebStackProps) {
    super(scope, id, props);
    this.web = new Web(this, 'Web', props);
    new CfnOutput(this, 'DashboardUrl', { value: this.web.url, description: 'EventFlow dashboard' });
  }
}
