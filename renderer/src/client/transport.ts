/**
 * How the UI talks to Drover: typed `call` and `on` over whichever host runs it (Electron IPC
 * through the preload's `window.drover`, or serve mode's WebSocket).
 *
 * The UI must use only this interface — never `window.drover` directly — so it runs unchanged
 * on either host. Nothing here may hold or send a secret.
 */
import type { ErrorCode, RpcError } from '#shared/errors';
import {
  PushMessageSchema,
  RpcReplySchema,
  type DispatchOutcome,
  type DroverBridge,
  type PushEvents,
  type PushName,
  type RpcArg,
  type RpcMethod,
  type RpcResult,
} from '#shared/rpc';

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

/**
 * The transport over serve mode's WebSocket (`/rpc?token=…` on the page's own origin). Replies
 * and pushes are validated before use; calls in flight when the connection drops fail with a
 * clear error, and the connection is re-opened with backoff.
 */
export function createWebSocketTransport(url: string, onStatus: (connected: boolean) => void = () => undefined): Transport {
  type Pending = { name: string; resolve: (value: unknown) => void; reject: (error: Error) => void };
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, Set<(arg: unknown) => void>>();
  const outbox: string[] = [];
  let nextId = 1;
  let socket: WebSocket;
  let retryDelay = 250;

  function connect(): void {
    socket = new WebSocket(url);
    socket.addEventListener('open', () => {
      retryDelay = 250;
      onStatus(true);
      for (const message of outbox.splice(0)) socket.send(message);
    });
    socket.addEventListener('message', (event) => receive(String(event.data)));
    socket.addEventListener('close', (event) => {
      onStatus(false);
      // A browser cannot see why a WebSocket handshake failed (401, 403 or a dead server).
      const reason =
        event.code === 1006 ? 'the connection was refused or dropped' : `the connection closed (${event.code} ${event.reason})`;
      for (const [id, call] of pending) {
        pending.delete(id);
        call.reject(
          new RpcCallError({
            code: 'internal',
            message:
              `Drover did not answer ${call.name}: ${reason}. Check that \`npm run serve\` is still running, ` +
              'and open the URL it printed (its token may have changed).',
          }),
        );
      }
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10_000);
    });
  }

  function receive(text: string): void {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return;
    }
    const push = PushMessageSchema.safeParse(data);
    if (push.success) {
      for (const listener of listeners.get(push.data.push) ?? []) listener(push.data.arg);
      return;
    }
    const reply = RpcReplySchema.safeParse(data);
    if (!reply.success) return;
    const call = pending.get(reply.data.id);
    if (!call) return;
    pending.delete(reply.data.id);
    if ('error' in reply.data) call.reject(new RpcCallError(reply.data.error));
    else call.resolve(reply.data.result);
  }

  connect();
  return {
    call(name, arg) {
      const id = nextId++;
      const message = JSON.stringify({ id, name, arg });
      return new Promise((resolve, reject) => {
        pending.set(id, { name, resolve: resolve as (value: unknown) => void, reject });
        if (socket.readyState === WebSocket.OPEN) socket.send(message);
        else outbox.push(message);
      });
    },
    on(name, callback) {
      const set = listeners.get(name) ?? new Set();
      listeners.set(name, set);
      const listener = (arg: unknown) => callback(arg as PushEvents[typeof name]);
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
  };
}
