/**
 * The start-up the crash tests' child processes share (harness-child.ts, threads-child.ts,
 * approval-child.ts): their arguments, the store opened with every committed event said on stdout,
 * a MathHand on the journal, and the real Harness against the model server in the test process.
 */
import { Harness } from '#services/harness/harness';
import { SessionStore } from '#services/session/store';
import type { StoredEvent } from '#shared/events';
import { MathHand } from '#test/support/math-hand';

/** A line on stdout (pipes to a parent are written synchronously on Linux, so it is out before the next step). */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

export interface ChildArgs {
  dataDir: string;
  baseURL: string;
  sessionId: string;
  journal: string;
  /** The arguments after the journal. */
  rest: string[];
}

/** `<dataDir> <baseURL> <sessionId> <journal> …`; throws `usage` when one of the four is missing. */
export function childArgs(usage: string): ChildArgs {
  const [dataDir, baseURL, sessionId, journal, ...rest] = process.argv.slice(2);
  if (!dataDir || !baseURL || !sessionId || !journal) throw new Error(`usage: ${usage}`);
  return { dataDir, baseURL, sessionId, journal, rest };
}

export interface ChildStartOptions {
  /** The store's app version (names the child in the log). */
  appVersion: string;
  /** The line said for each committed event (from a store listener: after the durable commit). */
  ack: (event: StoredEvent) => string;
  /** The MathHand runs one call at a time (default: calls in parallel). */
  serialHand?: boolean;
}

export interface ChildParts {
  store: SessionStore;
  hand: MathHand;
  harness: Harness;
}

/** Opens the store (saying each committed event of the session), the MathHand and the Harness; no retry stretches the test. */
export function startChildHarness(args: ChildArgs, options: ChildStartOptions): ChildParts {
  const store = SessionStore.open({ dataDir: args.dataDir, appVersion: options.appVersion });
  store.subscribe(args.sessionId, (event) => say(options.ack(event)));
  const hand = new MathHand(options.serialHand ? { journal: args.journal, concurrent: false } : { journal: args.journal });
  const harness = new Harness({
    store,
    keyProvider: () => 'test-key',
    baseURL: args.baseURL,
    handsFor: () => [hand],
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    log: (message, error) =>
      process.stderr.write(`${message}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`),
  });
  return { store, hand, harness };
}

/** Runs the child's `main`; a failure goes to stderr and exits 1. */
export function runChild(name: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    process.stderr.write(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
