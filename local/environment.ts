/**
 * One Lambda execution environment: a process of its own that imports one function's handler
 * (its cold start) and runs one invocation at a time, sent by the local runtime over IPC. Started
 * as `node --import tsx local/environment.ts <function id>` with the function's spec in
 * EVENTFLOW_FUNCTION_SPEC; the id on the command line lets a process list (or /proc) tell
 * environments apart.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { FunctionSpec } from '../functions/catalog';
import type { Invocation, InvocationResult } from './environment-protocol';

const spec = JSON.parse(process.env.EVENTFLOW_FUNCTION_SPEC ?? 'null') as FunctionSpec;
if (!spec) throw new Error('EVENTFLOW_FUNCTION_SPEC is not set');
const ROOT = path.resolve(import.meta.dirname, '..');

type Handler = (event: unknown, context: Context) => Promise<unknown>;

function serializeError(err: unknown) {
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, message: e.message, stack: e.stack, code: (e as { code?: unknown }).code };
}

async function main() {
  const mod = (await import(pathToFileURL(path.join(ROOT, spec.entry)).href)) as { handler?: Handler };
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
      getRemainingTimeInMillis: () => Math.max(0, msg.deadline - Date.now()),
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
