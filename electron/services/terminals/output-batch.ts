/**
 * A terminal's output coalesced into pushes (issue 23): output that finds no push scheduled goes at
 * once, in the same tick it arrived (a keystroke's echo waits for nothing, not even the next tick);
 * what follows in that tick joins one push on the next; past a few pushes in 16 ms (a flood), larger
 * output waits for the window's end; 64 KiB goes at once.
 */
import { TERMINAL_LIMITS } from '#shared/terminals';

/** Pushes a terminal makes at once in one 16 ms window before the rest of its output waits for the window's end. */
export const PUSHES_PER_WINDOW = 4;
/** Output this small (a key's echo, a prompt) is never held for the window: it is what a person waits for. */
export const SMALL_OUTPUT = 512;

export class OutputBatch {
  private pending = '';
  /** Cancels the scheduled push, if one is. */
  private cancel: (() => void) | null = null;
  /** When the current 16 ms window started, and the pushes made in it. */
  private windowStart = -Infinity;
  private pushes = 0;
  private stopped = false;

  constructor(private readonly send: (data: string) => void) {}

  push(text: string): void {
    if (text === '' || this.stopped) return;
    this.pending += text;
    if (this.pending.length >= 64 * 1024) return this.flush();
    if (this.cancel !== null) return;
    const now = performance.now();
    if (now - this.windowStart >= TERMINAL_LIMITS.batchMs) {
      this.windowStart = now;
      this.pushes = 0;
    }
    if (this.pushes < PUSHES_PER_WINDOW || this.pending.length < SMALL_OUTPUT) {
      // Nothing scheduled: this goes now. Deferring it to the next tick cost an echo ≈ 0.05 ms end to end
      // (the event loop's poll phase runs on before setImmediate's); what arrives in the rest of this tick
      // goes together on the next.
      this.flush();
      const immediate = setImmediate(() => this.flush());
      this.cancel = () => clearImmediate(immediate);
    } else {
      // Its push opens the next window (a timer may fire a little early: it must not count in this one).
      const timer = setTimeout(
        () => {
          this.windowStart = performance.now();
          this.pushes = 0;
          this.flush();
        },
        this.windowStart + TERMINAL_LIMITS.batchMs - now,
      );
      this.cancel = () => clearTimeout(timer);
    }
  }

  flush(): void {
    this.cancel?.();
    this.cancel = null;
    if (this.pending === '') return;
    const data = this.pending;
    this.pending = '';
    this.pushes += 1;
    this.send(data);
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = null;
  }
}
