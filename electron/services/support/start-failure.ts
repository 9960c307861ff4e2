/**
 * What an installed app says when it cannot start for an unexpected reason: the error, a reference
 * that is also in the log line, and where that log is — a user without a terminal can then find it.
 */
import { randomBytes } from 'node:crypto';

export interface StartFailure {
  reference: string;
  /** The line for main.log. */
  logLine: string;
  /** The dialog's text. */
  message: string;
}

export function startFailure(error: unknown, logsDir: string, reference: string = randomBytes(4).toString('hex')): StartFailure {
  const what = error instanceof Error ? error.message : String(error);
  return {
    reference,
    logLine: `Drover failed to start (reference ${reference}):`,
    message:
      `Something unexpected went wrong while starting (reference ${reference}): ${what.replace(/\.$/, '')}. ` +
      `Try again; if it keeps happening, report it with this reference and the log in ${logsDir} (main.log).`,
  };
}
