import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { FunctionSpec } from '../functions/catalog';

export type Handler = (event: unknown, context: Context) => Promise<unknown>;

const ROOT = path.resolve(import.meta.dirname, '..');
const loaded = new Map<string, Promise<Handler>>();

/** Imports a catalog function's handler once, as a Lambda environment does at cold start. */
export function loadHandler(spec: FunctionSpec): Promise<Handler> {
  let h = loaded.get(spec.id);
  if (!h) {
    h = import(pathToFileURL(path.join(ROOT, spec.entry)).href).then((m: { handler?: Handler }) => {
      if (typeof m.handler !== 'function') throw new Error(`${spec.entry} exports no handler`);
      return m.handler;
    });
    loaded.set(spec.id, h);
  }
  return h;
}

/**
 * Invokes a handler as Lambda would: a context with a request id and a deadline. A handler
 * that runs past its timeout fails the invocation, as it would on AWS.
 */
export async function invoke(spec: FunctionSpec, event: unknown): Promise<unknown> {
  const handler = await loadHandler(spec);
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  const context: Context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: spec.id,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${spec.id}`,
    memoryLimitInMB: String(spec.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${spec.id}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      handler(event, context),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${spec.id} timed out after ${spec.timeoutSeconds} s`)), spec.timeoutSeconds * 1000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
