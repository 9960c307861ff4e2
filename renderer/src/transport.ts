/**
 * How the UI talks to Drover: typed `call` and `on` over whichever host runs it (Electron IPC
 * through the preload's `window.drover` here; serve mode's WebSocket later).
 *
 * The UI must use only this interface — never `window.drover` directly — so it runs unchanged
 * on either host. Nothing here may hold or send a secret.
 */
import type { ErrorCode, RpcError } from '#shared/errors';
import type { DispatchOutcome, DroverBridge, PushEvents, PushName, RpcArg, RpcMethod, RpcResult } from '#shared/rpc';

export interface Transport {
  /** Calls an RPC method. Rejects with an RpcCallError carrying the error's code and message. */
  call<K extends RpcMethod>(name: K, arg: RpcArg<K>): Promise<RpcResult<K>>;
  /** Listens to one kind of push message; returns a function that stops listening. */
  on<K extends PushName>(name: K, callback: (arg: PushEvents[K]) => void): () => void;
}

/** A failed RPC call, with the error the main process sent (its message is written for the user). */
export class RpcCallError extends Error {
  readonly code: ErrorCode;
  readonly issues: RpcError['issues'];

  constructor(error: RpcError) {
    super(error.message);
    this.name = 'RpcCallError';
    this.code = error.code;
    this.issues = error.issues;
  }
}

declare global {
  interface Window {
    /** Present only inside the Electron app (set by the preload). */
    readonly drover?: DroverBridge;
  }
}

/** The transport over Electron IPC. Throws if the page is not running inside Drover's window. */
export function createElectronTransport(bridge: DroverBridge | undefined = window.drover): Transport {
  if (bridge === undefined) {
    throw new Error('This page must be opened by the Drover app: its connection to Drover (window.drover) is missing.');
  }
  return {
    async call(name, arg) {
      let outcome: DispatchOutcome;
      try {
        outcome = await bridge.call(name, arg);
      } catch (error) {
        // The main process refused or failed to answer at the IPC level (not an RPC error).
        throw new RpcCallError({
          code: 'internal',
          message: `Drover did not answer ${name}: ${error instanceof Error ? error.message : String(error)}. Restart Drover if this persists.`,
        });
      }
      if (!outcome.ok) throw new RpcCallError(outcome.error);
      // The dispatcher returned this handler's result, which the contract types as RpcResult<K>.
      return outcome.result as RpcResult<typeof name>;
    },
    on(name, callback) {
      return bridge.onPush((message) => {
        if (isPushMessageNamed(message, name)) callback(message.arg);
      });
    },
  };
}

function isPushMessageNamed<K extends PushName>(message: unknown, name: K): message is { push: K; arg: PushEvents[K] } {
  return typeof message === 'object' && message !== null && 'push' in message && message.push === name && 'arg' in message;
}
