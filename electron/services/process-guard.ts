/**
 * The last line of defence of a long-running Drover process (serve mode, the Electron main
 * process): an error nobody caught is logged with a short reference id, and the process keeps
 * serving while its state is intact, instead of dying with a stack trace and taking every
 * session's run and every open page with it.
 *
 * What "intact" means here. Drover's state that matters is the session store: an append-only log
 * in SQLite where every change is one transaction, so an exception thrown anywhere leaves each
 * change either fully written or not written at all. Everything else in memory is derived from
 * that log (the harness is stateless and wakes from it) or belongs to one connection or one call.
 * An uncaught error therefore abandons the one callback that threw — a request may go unanswered,
 * one run may stop and can be resumed from its log — and leaves the rest consistent.
 *
 * When it exits instead (code 70, EX_SOFTWARE), after saying why:
 *  - Node's own internals failed (`ERR_INTERNAL_ASSERTION`): Node's invariants no longer hold;
 *  - the errors come in a loop (more than `maxErrors` within `windowMs`): something keeps failing
 *    on every tick, state can no longer be trusted to be intact, and a flood of log lines helps no
 *    one — a clean exit that a supervisor or the user restarts does (resume carries on from the log).
 * Out-of-memory is not an exception in V8: the process ends however this guard is set up.
 */
import { randomBytes } from 'node:crypto';

export interface ProcessGuardOptions {
  /** Where the report goes (each line already carries the reference id). */
  log: (line: string) => void;
  /** Ends the process when state is not intact (default `process.exit`). */
  exit?: (code: number) => void;
  /** Hides secrets in what is logged (set later with `useRedactor` once the vault is known). */
  redact?: (text: string) => string;
  /** More than this many unexpected errors within `windowMs` is a fault loop (default 20 in 60 s). */
  maxErrors?: number;
  windowMs?: number;
}

export interface ProcessGuard {
  useRedactor(redact: (text: string) => string): void;
  /** Removes the handlers (tests). */
  uninstall(): void;
}

export const EXIT_SOFTWARE = 70;

/** Installs `uncaughtException` and `unhandledRejection` handlers on this process. */
export function installProcessGuard(options: ProcessGuardOptions): ProcessGuard {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const maxErrors = options.maxErrors ?? 20;
  const windowMs = options.windowMs ?? 60_000;
  let redact = options.redact ?? ((text: string) => text);
  const recent: number[] = [];
  let exiting = false;

  const handle = (error: unknown, kind: string) => {
    const ref = randomBytes(4).toString('hex');
    const now = Date.now();
    recent.push(now);
    while (recent.length > 0 && (recent[0] ?? now) <= now - windowMs) recent.shift();
    const fatal = fatalReason(error, recent.length, maxErrors, windowMs);
    let detail: string;
    try {
      detail = redact(describe(error));
    } catch {
      detail = '(the error could not be described)';
    }
    options.log(
      `Unexpected error (ref ${ref}, ${kind}): ${detail}\n` +
        (fatal === null
          ? `Drover keeps running: saved sessions are intact and only the work that failed was dropped. If it keeps happening, report it with the reference ${ref}.`
          : `Drover stops, because ${fatal}. Saved sessions are intact; start Drover again, and interrupted sessions resume. Report it with the reference ${ref}.`),
    );
    if (fatal !== null && !exiting) {
      exiting = true;
      exit(EXIT_SOFTWARE);
    }
  };
  const onException = (error: unknown) => handle(error, 'uncaught exception');
  const onRejection = (reason: unknown) => handle(reason, 'unhandled rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return {
    useRedactor(next) {
      redact = next;
    },
    uninstall() {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    },
  };
}

function fatalReason(error: unknown, count: number, maxErrors: number, windowMs: number): string | null {
  if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ERR_INTERNAL_ASSERTION') {
    return "Node's own internals failed";
  }
  if (count > maxErrors) return `${count} unexpected errors came within ${Math.round(windowMs / 1000)} s (a fault loop)`;
  return null;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  try {
    return typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
  } catch {
    return String(error);
  }
}
