/** What the local runtime and an execution environment (local/environment.ts) say to each other. */
export interface Invocation {
  id: number;
  requestId?: string;
  event: unknown;
  /** Epoch ms by which the invocation must end (the function's timeout). */
  deadline: number;
}

export type InvocationResult =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { name: string; message: string; stack?: string; code?: unknown } };

export type EnvironmentMessage = InvocationResult | { ready: true };
