/**
 * Tracing (X-Ray, through Powertools Tracer) and custom metrics (CloudWatch embedded metric
 * format, through Powertools Metrics) for every function, applied where handlers are made:
 * createHttpApi's middy chain for HTTP, instrument() for every other kind.
 *
 * Both are live on Lambda only. Locally the tracer is off (no X-Ray daemon to reach) and metrics
 * are not written (they would only interleave with the logs).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { lambdaFunction } from './config';
import { onLambda } from './env';
import { METRICS_NAMESPACE } from './metric-names';

export { MetricUnit };

const live = onLambda();
// Powertools Metrics reads this when constructed; off Lambda there is nowhere to send metrics.
if (!live) process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

/**
 * One per environment, on Lambda only; its service name is the catalog's (POWERTOOLS_SERVICE_NAME,
 * set by the CDK app). Loaded only there: the X-Ray SDK under it turns on async hooks for every
 * promise of the process as it loads, a cost worth paying where traces are sent and nowhere else
 * (locally it was the top non-I/O item of a POST's profile).
 */
const tracing = live ? await loadTracing() : null;

async function loadTracing() {
  const { Tracer } = await import('@aws-lambda-powertools/tracer');
  const { captureLambdaHandler } = await import('@aws-lambda-powertools/tracer/middleware');
  const tracer: Tracer = new Tracer({ enabled: true, captureHTTPsRequests: true });
  return { tracer, middleware: captureLambdaHandler(tracer, { captureResponse: false }) };
}

export const metrics = new Metrics({ namespace: METRICS_NAMESPACE });

/** X-Ray annotations are indexed; at most this many correlation ids are annotated per invocation. */
const MAX_ANNOTATED = 100;

/**
 * Marks the current trace with the correlation ids it served, so `annotation.correlationId = "…"`
 * finds every invocation that touched that order's saga. One id is an annotation of the handler's
 * own subsegment; a batch of several gets a zero-length `## correlation` subsegment per id.
 */
export function annotateCorrelation(ids: readonly string[]): void {
  const tracer = tracing?.tracer;
  if (!tracer?.isTracingEnabled()) return;
  const distinct = [...new Set(ids.filter(Boolean))];
  if (distinct.length === 0) return;
  if (distinct.length === 1) {
    tracer.putAnnotation('correlationId', distinct[0]!);
    return;
  }
  tracer.putAnnotation('correlationIds', distinct.length);
  const parent = tracer.getSegment();
  if (!parent) return;
  for (const id of distinct.slice(0, MAX_ANNOTATED)) {
    const sub = parent.addNewSubsegment('## correlation');
    sub.addAnnotation('correlationId', id);
    sub.close();
  }
}

/**
 * The correlation ids an event carries: an Amazon MQ batch's correlationId properties (the
 * publisher sets each event's), a custom resource's request id. Other events carry none.
 */
export function correlationIdsOf(event: unknown): string[] {
  const e = event as { rmqMessagesByQueue?: Record<string, { basicProperties?: { correlationId?: unknown } }[]>; RequestId?: unknown };
  if (e && typeof e === 'object' && e.rmqMessagesByQueue) {
    return Object.values(e.rmqMessagesByQueue)
      .flat()
      .map((m) => m.basicProperties?.correlationId)
      .filter((id): id is string => typeof id === 'string');
  }
  if (e && typeof e.RequestId === 'string') return [e.RequestId];
  return [];
}

let coldStart = true;

/**
 * Middy middleware: a ColdStart metric once per environment, and whatever metrics the handler
 * recorded, flushed after it, success or failure. (Powertools' own logMetrics warns on every
 * invocation that records none, which is most of them.)
 */
export function flushMetrics(): middy.MiddlewareObj<unknown, unknown, Error, Context> {
  const flush = () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return {
    before: (request) => {
      if (coldStart) {
        coldStart = false;
        metrics.captureColdStartMetric(request.context?.functionName);
      }
    },
    after: flush,
    onError: flush,
  };
}

/**
 * The chain every handler gets: the tracer's handler subsegment, then the metrics flush. Called
 * when a handler module loads, so on Lambda a function whose configuration is incomplete fails
 * its cold start here, naming what is missing, before it takes any traffic.
 */
export function observe<E, R>(chain: middy.MiddyfiedHandler<E, R, Error, Context>) {
  if (live) lambdaFunction();
  const traced = tracing ? chain.use(tracing.middleware as middy.MiddlewareObj<E, R, Error, Context>) : chain;
  return traced.use(flushMetrics() as middy.MiddlewareObj<E, R, Error, Context>);
}

/**
 * Wraps a queue, schedule, WebSocket or deploy-time handler: traced, correlation ids annotated,
 * metrics flushed. Apply it where the handler is exported: `export const handler = instrument(...)`.
 */
export function instrument<E, R>(handler: (event: E, context: Context) => Promise<R>) {
  return observe(
    middy<E, R, Error, Context>(async (event: E, context: Context) => {
      annotateCorrelation(correlationIdsOf(event));
      return handler(event, context);
    }),
  );
}
