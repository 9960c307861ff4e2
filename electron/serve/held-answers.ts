/**
 * A connection's answers that nobody waits for, held to ride with its next push (issue 23).
 *
 * A key typed in a terminal is a `terminal-input` request whose answer, when it succeeded, is `null`:
 * the page waits for it only to show an error. Answering at once cost every keystroke a second write
 * on the socket (and a second wake-up of the page) while the container was echoing the key; held, the
 * answer goes in the same socket write as the echo's push (the socket corked around both), or after
 * HOLD_MS when no output comes. Failures are never held: they are answered at once.
 */
import type { Duplex } from 'node:stream';
import { TERMINAL_LIMITS } from '#shared/terminals';

/** The longest a held answer waits for a push to ride with. */
export const HOLD_MS = TERMINAL_LIMITS.batchMs;

export class HeldAnswers {
  private held: string[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  /** `send` writes one message on the WebSocket; `socket` is the connection under it (corked to join writes). */
  constructor(
    private readonly socket: Duplex,
    private readonly send: (text: string) => void,
  ) {}

  /** Holds an answer (its JSON text) until the next push or HOLD_MS. */
  hold(answer: string): void {
    this.held.push(answer);
    this.timer ??= setTimeout(() => this.flush(), HOLD_MS);
  }

  /** Sends a push, and the answers held, in one write. */
  push(text: string): void {
    if (this.held.length === 0) return this.send(text);
    this.socket.cork();
    try {
      this.send(text);
      this.flush();
    } finally {
      this.socket.uncork();
    }
  }

  /** Sends the answers held now. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const answer of this.held.splice(0)) this.send(answer);
  }

  /** The connection ended: nothing more is sent. */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.held = [];
  }
}
