// Scripting the local model server for sessions with a Docker/SSH hand named `box`: the replies a
// turn is made of (tool calls, a closing text) and `turn()`, which queues a turn's replies, sends the
// user's text and waits for the session's next idle and the hand's checkpoints.
import type { SessionStore } from '#services/session/store';
import type { ScriptedMessage } from '#test/support/model-server';

/** A reply calling `box`'s bash tool. */
export const bash = (command: string): ScriptedMessage => ({
  content: [{ type: 'tool_use', name: 'box__bash', input: { command } }],
  stop_reason: 'tool_use',
});

/** A reply calling `box`'s editor tool. */
export const editor = (input: Record<string, unknown>): ScriptedMessage => ({
  content: [{ type: 'tool_use', name: 'box__editor', input }],
  stop_reason: 'tool_use',
});

/** A reply ending the turn with text. */
export const say = (text: string): ScriptedMessage => ({ content: [{ type: 'text', text }], stop_reason: 'end_turn' });

export interface TurnRunnerParts {
  store: () => SessionStore;
  /** The model server's queue of replies. */
  replies: ScriptedMessage[];
  /** Sends the user's text to the session (the harness, or the host's `sessions-send`). */
  send: (id: string, text: string) => unknown;
  /** Waits for the hands' checkpoints in progress. */
  settled: () => Promise<void>;
}

/** `turn(id, text, script)`: queues `script`, sends `text`, and waits for the next idle and settled checkpoints. */
export function turnRunner(parts: TurnRunnerParts): (id: string, text: string, script: ScriptedMessage[]) => Promise<void> {
  return async (id, text, script) => {
    const store = parts.store();
    const idles = () => store.getEvents(id, { types: ['session.status_idle'], limit: 10_000 }).length;
    parts.replies.push(...script);
    const before = idles();
    const idle = new Promise<void>((resolve) => {
      const stop = store.subscribe(id, (event) => {
        if (event.type !== 'session.status_idle' || idles() <= before) return;
        stop();
        resolve();
      });
    });
    await parts.send(id, text);
    await idle;
    await parts.settled();
  };
}
