/**
 * RPC calls as a UI makes them, for tests that drive a real host (e.g. apiRig's): `call` (the
 * result, or a thrown error naming the method), `refused` (the message of a refusal), `send` (a
 * message, then the turn's end and the hands' checkpoints), and a scripted tool use reply.
 */
import type { Host } from '#rpc/host';
import type { SessionStore } from '#services/session/store';
import type { Reply } from '#test/support/model-server';

export interface RpcCalls {
  call<T = unknown>(name: string, arg?: unknown): Promise<T>;
  refused(name: string, arg?: unknown): Promise<string>;
  /** Sends `text` and waits (up to 90 s) for the turn to end and the hands' checkpoints to settle. */
  send(sessionId: string, text: string): Promise<void>;
}

export function rpcCalls(host: Host, store: SessionStore): RpcCalls {
  async function call<T = unknown>(name: string, arg?: unknown): Promise<T> {
    const outcome = await host.dispatch(name, arg);
    if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
    return outcome.result as T;
  }
  return {
    call,
    async refused(name, arg) {
      const outcome = await host.dispatch(name, arg);
      if (outcome.ok) throw new Error(`${name} was expected to be refused`);
      return outcome.error.message;
    },
    async send(sessionId, text) {
      const idle = (): number => store.getEvents(sessionId, { types: ['session.status_idle'] }).length;
      const before = idle();
      await call('sessions-send', { sessionId, text });
      const deadline = Date.now() + 90_000;
      while (idle() === before) {
        if (Date.now() > deadline)
          throw new Error(`the turn did not end: ${JSON.stringify(store.getEvents(sessionId, { direction: 'backward', limit: 6 }))}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await host.hands.settled();
    },
  };
}

/** The model asks for one tool. */
export const toolUseReply = (name: string, input: Record<string, unknown>): Reply => ({
  kind: 'message',
  message: { content: [{ type: 'tool_use', name, input }], stop_reason: 'tool_use' },
});
