/**
 * One Lambda execution environment: a process of its own that imports one function's handler
 * bundle (its cold start) and runs one invocation at a time, sent by the local runtime over IPC.
 * Bundled itself (local/bundles.ts) and started as `node <this bundle> <function id>`, with the
 * function's spec in EVENTFLOW_FUNCTION_SPEC and its bundle in EVENTFLOW_FUNCTION_BUNDLE; the id
 * on the command line lets a process list (or /proc) tell environments apart.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { FunctionSpec } from '../functions/catalog';
import { LOCAL_ENV } from '../shared/env';
import { clockSkewOf, realNow, skewClock } from './clock-skew';
import { startHeapReports } from './heap-report';
import type { Invocation, InvocationResult } from './environment-protocol';

const spec = JSON.parse(process.env.EVENTFLOW_FUNCTION_SPEC ?? 'null') as FunctionSpec;
const bundle = process.env.EVENTFLOW_FUNCTION_BUNDLE ?? '';
if (!spec || !bundle) throw new Error('EVENTFLOW_FUNCTION_SPEC and EVENTFLOW_FUNCTION_BUNDLE must be set');
// Before the bundle loads, so that the function reads the skewed clock from its first line on.
skewClock(clockSkewOf(process.env[LOCAL_ENV.clockSkew], spec.id));
const heapReportDir = process.env[LOCAL_ENV.heapReportDir];
if (heapReportDir) startHeapReports(heapReportDir, spec.id);

type Handler = (event: unknown, context: Context) => Promise<unknown>;

function serializeError(err: unknown) {
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, message: e.message, stack: e.stack, code: (e as { code?: unknown }).code };
}

async function main() {
  const mod = (await import(pathToFileURL(bundle).href)) as { handler?: Handler };
  if (typeof mod.handler !== 'function') throw new Error(`${spec.entry} exports no handler`);
  const handler = mod.handler;

  process.on('message', async (msg: Invocation) => {
    const context: Context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: spec.id,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${spec.id}`,
      memoryLimitInMB: String(spec.memoryMb),
      awsRequestId: msg.requestId ?? randomUUID(),
      logGroupName: `/aws/lambda/${spec.id}`,
      logStreamName: `local/${process.pid}`,
      // The runtime set the deadline by the real clock; Lambda counts it on its own, unskewed.
      getRemainingTimeInMillis: () => Math.max(0, msg.deadline - realNow()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    let reply: InvocationResult;
    try {
      reply = { id: msg.id, ok: true, result: await handler(msg.event, context) };
    } catch (err) {
      reply = { id: msg.id, ok: false, error: serializeError(err) };
    }
    process.send!(reply);
  });
  process.send!({ ready: true });
}

// As on Lambda, an error outside an invocation's promise ends the environment; the runtime starts another.
process.on('unhandledRejection', (err) => {
  process.stderr.write(`[${spec.id}] unhandled rejection, environment exits: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));

main().catch((err) => {
  process.stderr.write(`[${spec.id}] cold start failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
