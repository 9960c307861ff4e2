/**
 * A terminal on a hand (issue 23): what the UI and the main process say to each other about one.
 * A person's terminal on a session's Docker hand (an interactive exec with a TTY) or SSH machine
 * (a shell channel with a PTY). Its bytes go only to the UI that opened it and never into the log;
 * the log records only that a terminal was open on the hand (`hand.terminal_opened` … `hand.terminal_closed`).
 * Must never import node, electron or DOM code.
 */
import { z } from 'zod';

/** The limits, exported so the UI can say them before asking. */
export const TERMINAL_LIMITS = {
  /** Terminals open at once on one hand of a session. */
  perHand: 8,
  /** Characters of input in one `terminal-input` message (a paste larger than this is sent in pieces). */
  inputChars: 64 * 1024,
  /** Output is pushed at most this often (a first chunk after a quiet spell goes at once). */
  batchMs: 16,
  /** Output not yet acknowledged (`terminal-ack`) above which the terminal's program is paused. */
  unackedBytes: 512 * 1024,
  /** The UI acknowledges at least every this many characters it has drawn. */
  ackEvery: 32 * 1024,
} as const;

export const TerminalIdSchema = z.string().regex(/^term_[0-9a-f]{16}$/, 'a terminal id looks like term_ followed by 16 hex digits');
export type TerminalId = z.infer<typeof TerminalIdSchema>;

export const TerminalColsSchema = z
  .number()
  .int('columns are a whole number')
  .min(2, 'at least 2 columns')
  .max(1000, 'at most 1000 columns');
export const TerminalRowsSchema = z.number().int('rows are a whole number').min(1, 'at least 1 row').max(500, 'at most 500 rows');

export const TerminalInputSchema = z
  .string()
  .min(1, 'the input is empty')
  .max(TERMINAL_LIMITS.inputChars, `send at most ${TERMINAL_LIMITS.inputChars} characters at once (split a larger paste)`);

/** How a terminal ended: closed by the UI, its shell exited, its UI went away, or its hand's machine did. */
export const TerminalEndSchema = z.enum(['closed', 'exited', 'disconnected', 'lost']);
export type TerminalEnd = z.infer<typeof TerminalEndSchema>;

export const TerminalOutputSchema = z.strictObject({ terminalId: TerminalIdSchema, data: z.string() });
export const TerminalExitSchema = z.strictObject({
  terminalId: TerminalIdSchema,
  ended: TerminalEndSchema,
  /** The shell's exit code, when it exited and the machine said. */
  code: z.number().int().nullable(),
  /** What happened, in words (shown in the terminal's tab). */
  message: z.string(),
});
export type TerminalOutput = z.infer<typeof TerminalOutputSchema>;
export type TerminalExit = z.infer<typeof TerminalExitSchema>;
