/**
 * A terminal's connection to its machine, whatever the machine: bytes both ways, a window size,
 * flow control, and one end. Docker (docker-terminal.ts) and SSH (ssh-terminal.ts) make one.
 */
export interface TerminalEnded {
  /** The shell's exit code, when it exited and the machine said. */
  code: number | null;
  /** What happened, in words. */
  reason: string;
}

export interface TerminalChannel {
  write(data: string): void;
  resize(size: TerminalSize): Promise<void>;
  /** Output as it comes (one listener). */
  onData(listener: (chunk: Buffer) => void): void;
  /** Called once, when the program ended or the stream dropped (not after `close`). */
  onEnd(listener: (ended: TerminalEnded) => void): void;
  /** Stops reading output (the machine's side then waits: TCP / SSH window back-pressure). */
  pause(): void;
  resume(): void;
  /** Hangs the shell up (its processes get SIGHUP) and ends the stream; resolves when done. */
  close(): Promise<void>;
}

export interface TerminalSize {
  cols: number;
  rows: number;
}

/** The value of TERM for every terminal: xterm.js speaks it. */
export const TERM = 'xterm-256color';
