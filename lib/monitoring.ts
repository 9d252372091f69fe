import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { FunctionSpec } from '../functions/catalog';
import { DIMENSIONS, METRICS, METRICS_NAMESPACE, OUTCOMES } from '../shared/metric-names';
import { resolveTopology } from '../functions/topology';
import type { Apis } from './apis';
import type { Broker } from './broker';
import type { Databases } from './data';
import type { CatalogFunctions } from './functions';
import type { Settings } from './settings';

export interface MonitoringProps {
  specs: FunctionSpec[];
  settings: Settings;
  functions: CatalogFunctions;
  databases: Databases;
  broker: Broker;
  apis: Apis;
  /** Broker namespace of the queues (empty on AWS). */
  namespace: string;
  /** The event source mappings' ids (a consumer's catalog id, `-p<i>` per partition). */
  mappedFunctions: string[];
}

const FIVE_MINUTES = Duration.minutes(5);
const ONE_MINUTE = Duration.minutes(1);

/** A custom EventFlow metric (shared/metric-names.ts), as the emitting function dimensions it. */
const custom = (name: string, service: string, dimensions: Record<string, string>, opts: cloudwatch.MetricOptions = {}) =>
  new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { service, ...dimensions }, ...opts });

/**
 * Alarms, all notifying one SNS topic (and an e-mail address with `-c alarmEmail=…`), and a
 * CloudWatch dashboard for the stack. What each alarm watches:
 * - every function: errors and throttles (one alarm on their sum);
 * - the HTTP API's 5xx and the WebSocket API's integration and execution errors;
 * - each database: CPU, connections near the instance's limit, free storage;
 * - the broker: CPU (AWS/AmazonMQ node metric), connections near connection_max, memory use and
 *   resource alarms (read from the management API by platform-watch);
 * - each event source mapping: disabled or failing (platform-watch reads its state);
 * - each dead-letter queue: anything in it (platform-watch reads the depth: Amazon MQ for
 *   RabbitMQ 4 publishes no per-queue metrics).
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { settings, functions, databases, broker, apis } = props;
    this.topic = new sns.Topic(this, 'Alarms', { displayName: `EventFlow ${settings.env} alarms`, enforceSSL: true });
    if (settings.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(settings.alarmEmail));
    const action = new SnsAction(this.topic);
    const alarm = (alarmId: string, opts: cloudwatch.CreateAlarmOptions & { metric: cloudwatch.IMetric }) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...opts,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };

    for (const spec of props.specs) {
      const fn = functions.get(spec.id);
      // One alarm per function on errors and throttles together: two per function took the prod
      // stack past CloudFormation's 500 resources, and either one means the same page (the
      // function's log and its dashboard graph tell which).
      alarm(`${spec.id}-failures`, {
        alarmDescription: `${spec.id} failed or was throttled (reserved concurrency or account limit)`,
        metric: new cloudwatch.MathExpression({
          expression: 'errors + throttles',
          usingMetrics: { errors: fn.metricErrors({ period: FIVE_MINUTES }), throttles: fn.metricThrottles({ period: FIVE_MINUTES }) },
          period: FIVE_MINUTES,
          label: `${spec.id} errors + throttles`,
        }),
        threshold: 1,
        evaluationPeriods: 1,
      });
    }

    alarm('http-5xx', { alarmDescription: 'HTTP API answered 5xx', metric: apis.httpStage.metricServerError({ period: FIVE_MINUTES }), threshold: 1, evaluationPeriods: 1 });
    const wsMetric = (name: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName: name,
        dimensionsMap: { ApiId: apis.webSocketApi.apiId, Stage: apis.webSocketStage.stageName },
        statistic: 'Sum',
        period: FIVE_MINUTES,
      });
    alarm('websocket-errors', {
      alarmDescription: 'WebSocket API: integration or execution errors',
      metric: new cloudwatch.MathExpression({
        expression: 'integration + execution',
        usingMetrics: { integration: wsMetric('IntegrationError'), execution: wsMetric('ExecutionError') },
        period: FIVE_MINUTES,
      }),
      threshold: 1,
      evaluationPeriods: 1,
    });

    for (const [service, { instance }] of Object.entries(databases.services)) {
      alarm(`${service}-db-cpu`, {
        alarmDescription: `${service} database CPU above 80 %`,
        metric: instance.metricCPUUtilization({ period: FIVE_MINUTES }),
        threshold: 80,
        evaluationPeriods: 3,
      });
      alarm(`${service}-db-connections`, {
        alarmDescription: `${service} database connections near the instance's limit (~${settings.database.maxConnections})`,
        metric: instance.metricDatabaseConnections({ period: FIVE_MINUTES, statistic: 'Maximum' }),
        threshold: Math.floor(settings.database.maxConnections * 0.8),
        evaluationPeriods: 1,
      });
      alarm(`${service}-db-storage`, {
        alarmDescription: `${service} database free storage below 10 %`,
        metric: instance.metricFreeStorageSpace({ period: FIVE_MINUTES, statistic: 'Minimum' }),
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: settings.database.allocatedStorageGb * 0.1 * 1024 ** 3,
        evaluationPeriods: 1,
      });
    }

    // Node metrics carry a Node dimension whose values exist only once the broker runs: a Metrics
    // Insights query takes the busiest node of this broker.
    alarm('broker-cpu', {
      alarmDescription: 'Broker CPU above 80 %',
      metric: new cloudwatch.MathExpression({
        expression: `SELECT MAX(SystemCpuUtilization) FROM SCHEMA("AWS/AmazonMQ", Broker, Node) WHERE Broker = '${broker.name}'`,
        period: FIVE_MINUTES,
        label: 'broker CPU %',
      }),
      threshold: 80,
      evaluationPeriods: 3,
    });
    // ConnectionCount is the broker's total (dimension Broker). The limit is per node: against the
    // total, a cluster's alarm fires early rather than late.
    alarm('broker-connections', {
      alarmDescription: `Broker connections above 80 % of connection_max (${settings.broker.connectionMax} per node): new ones will be refused`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/AmazonMQ',
        metricName: 'ConnectionCount',
        dimensionsMap: { Broker: broker.name },
        statistic: 'Maximum',
        period: FIVE_MINUTES,
      }),
      threshold: Math.floor(settings.broker.connectionMax * 0.8),
      evaluationPeriods: 1,
    });
    alarm('broker-memory', {
      alarmDescription: 'Broker memory above 80 % of its high watermark',
      metric: custom(METRICS.brokerMemoryUsage, 'platform', {}, { statistic: 'Maximum', period: FIVE_MINUTES }),
      threshold: 0.8,
      evaluationPeriods: 2,
    });
    alarm('broker-resource-alarm', {
      alarmDescription: 'A broker node raised a memory or disk alarm: publishers are blocked',
      metric: custom(METRICS.brokerResourceAlarms, 'platform', {}, { statistic: 'Maximum', period: ONE_MINUTE }),
      threshold: 1,
      evaluationPeriods: 1,
    });

    for (const functionId of props.mappedFunctions) {
      alarm(`${functionId}-event-source`, {
        alarmDescription: `The event source mapping of ${functionId} is disabled or failing`,
        metric: custom(METRICS.eventSourceHealthy, 'platform', { [DIMENSIONS.mapping]: functionId }, { statistic: 'Minimum', period: FIVE_MINUTES }),
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        // Two periods in a row: a fresh deploy (before platform-watch's first runs land) and a
        // broker restart in its maintenance window pass without a page; a mapping that stays
        // disabled, or a watch that stays silent, pages within ten minutes.
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        // No data means platform-watch stopped looking: as bad as a failing mapping.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    }

    const topology = resolveTopology(props.namespace, settings.partitions);
    const dlqs = topology.queues.filter((q) => q.policy.kind === 'dead-letter').map((q) => q.name);
    const workQueues = topology.queues.filter((q) => q.policy.kind === 'work').map((q) => q.name);
    for (const dlq of dlqs) {
      alarm(`${dlq}-depth`, {
        alarmDescription: `${dlq} holds messages: see npm run dlq (README, Operating it)`,
        metric: custom(METRICS.queueDepth, 'platform', { [DIMENSIONS.queue]: dlq }, { statistic: 'Maximum', period: FIVE_MINUTES }),
        threshold: 1,
        evaluationPeriods: 1,
      });
    }

    this.dashboard = this.buildDashboard(props, workQueues, dlqs);
  }

  private buildDashboard(props: MonitoringProps, workQueues: string[], dlqs: string[]): cloudwatch.Dashboard {
    const { functions, apis, specs } = props;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      periodOverride: cloudwatch.PeriodOverride.AUTO,
    });
    const perSecond = (outcome: string) =>
      new cloudwatch.MathExpression({
        expression: `${outcome.toLowerCase()} / 60`,
        usingMetrics: { [outcome.toLowerCase()]: custom(METRICS.ordersSettled, 'order', { [DIMENSIONS.outcome]: outcome }, { statistic: 'Sum', period: ONE_MINUTE }) },
        label: outcome,
        period: ONE_MINUTE,
      });
    const latency = (stat: string) =>
      OUTCOMES.filter((o) => o !== 'CANCELLED').map((o) =>
        custom(METRICS.sagaLatency, 'order', { [DIMENSIONS.outcome]: o }, { statistic: stat, period: ONE_MINUTE, label: `${o} ${stat}` }),
      );
    const queueDepth = (q: string) => custom(METRICS.queueDepth, 'platform', { [DIMENSIONS.queue]: q }, { statistic: 'Maximum', period: ONE_MINUTE, label: q });
    const errorsOf = (ids: string[]) => ids.map((id) => functions.get(id).metricErrors({ period: ONE_MINUTE, label: id }));

    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# EventFlow ${props.settings.env}\nSaga outcomes come from order-metrics (the order database), queue depths from platform-watch (the broker's management API).`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Orders settled per second, by outcome', left: OUTCOMES.map(perSecond), width: 12, stacked: true }),
      new cloudwatch.GraphWidget({ title: 'Saga latency (creation to outcome), ms', left: [...latency('p50'), ...latency('p99')], width: 12 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Queue depth', left: workQueues.map(queueDepth), width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Dead-letter queues', left: dlqs.map(queueDepth), width: 12 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Function errors', left: errorsOf(specs.map((s) => s.id)), width: 12, stacked: true }),
      new cloudwatch.GraphWidget({
        title: 'API errors',
        left: [
          apis.httpStage.metricServerError({ period: ONE_MINUTE, label: 'HTTP 5xx' }),
          apis.httpStage.metricClientError({ period: ONE_MINUTE, label: 'HTTP 4xx' }),
        ],
        width: 12,
      }),
    );
    return dashboard;
  }
}
