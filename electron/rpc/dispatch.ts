/**
 * The one RPC dispatcher every transport uses (Electron IPC, serve mode's WebSocket).
 *
 * It validates each argument against the contract before a handler runs, passes AppErrors
 * through as `{code, message}`, and turns anything else into `{code:'internal'}` with a
 * reference the user can quote — the details go only to the main process log, never across.
 */
import { randomBytes } from 'node:crypto';
import { isAppError } from '#shared/errors';
import type { z } from 'zod';
import { describeIssues, issuesText } from '#shared/events';
import { isRpcMethod, rpcMethods, type DispatchOutcome, type HandlerImpl, type RpcCaller } from '#shared/rpc';

export interface DispatchLog {
  error(message: string, error: unknown): void;
}

/** `caller`: the connection the call came on (a terminal's output goes to it alone); absent for calls from inside the main process. */
export type Dispatch = (name: string, arg: unknown, caller?: RpcCaller) => Promise<DispatchOutcome>;

export function createDispatcher(handlers: HandlerImpl, log: DispatchLog): Dispatch {
  return async function dispatch(name, arg, caller) {
    if (!isRpcMethod(name)) {
      return {
        ok: false,
        error: {
          code: 'unknown-method',
          message: `Drover has no method named ${JSON.stringify(name)}. The window and the app may be from different versions: restart Drover.`,
        },
      };
    }
    const parsed = rpcMethods[name].arg.safeParse(arg);
    if (!parsed.success) return invalidRequest(`Invalid request to ${name}`, parsed.error);
    try {
      const handler = handlers[name] as (value: unknown, caller?: RpcCaller) => unknown;
      return { ok: true, result: await handler(parsed.data, caller) };
    } catch (error) {
      if (isAppError(error)) return { ok: false, error: error.toRpcError() };
      const reference = randomBytes(4).toString('hex');
      log.error(`RPC ${name} failed unexpectedly (reference ${reference})`, error);
      return {
        ok: false,
        error: {
          code: 'internal',
          message: `Something went wrong inside Drover (reference ${reference}). Try again; if it keeps happening, report it with the log.`,
        },
      };
    }
  };
}

/** The reply to a request that failed validation: what was wrong, field by field. */
export function invalidRequest(what: string, error: z.ZodError): DispatchOutcome {
  const issues = describeIssues(error.issues);
  return { ok: false, error: { code: 'invalid-argument', message: `${what}: ${issuesText(issues)}.`, issues } };
}
