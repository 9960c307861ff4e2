/**
 * A second process for the harness crash test, run with `node --import tsx`:
 *   harness-child.ts <dataDir> <baseURL> <sessionId> <journal>
 *
 * It drives one scripted session with the real Harness against a model server in the test
 * process, and is SIGKILLed at random points. Stdout lines:
 *   ready <lastSeq>              the store is open; the log had this many events at start
 *   ack <seq> <id> <type>        an event is committed (printed from a store listener, which runs
 *                                only after the durable commit)
 *   done                         both user turns ended with end_turn
 *   failed <reason>              a turn ended some other way (the test reports it)
 *
 * It must never decide anything from memory of an earlier life: whether to send the next user
 * message or just wake is read from the log alone, so a restarted child carries on exactly where
 * the killed one stopped. It touches nothing but its data folder and journal.
 */
import { readAll } from '#services/harness/fold-log';
import { Harness } from '#services/harness/harness';
import { SessionStore } from '#services/session/store';
import { MathHand } from '#test/support/math-hand';

/** The user turns of the script; the model server in the test answers them. */
const QUESTIONS = ['first question', 'second question'];

const [dataDir, baseURL, sessionId, journal] = process.argv.slice(2);
if (!dataDir || !baseURL || !sessionId || !journal) {
  throw new Error('usage: harness-child.ts <dataDir> <baseURL> <sessionId> <journal>');
}

// Pipes to a parent are written synchronously on Linux, so a line is out before the next step.
function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(session: string, data: string, url: string, journalFile: string): Promise<void> {
  const store = SessionStore.open({ dataDir: data, appVersion: 'test-harness-child' });
  store.subscribe(session, (event) => say(`ack ${event.seq} ${event.id} ${event.type}`));
  const hand = new MathHand({ journal: journalFile });
  const harness = new Harness({
    store,
    keyProvider: () => 'test-key',
    baseURL: url,
    handsFor: () => [hand],
    // No retry should be needed; if one is, it must not stretch the test.
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    log: (message, error) =>
      process.stderr.write(`${message}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`),
  });
  const [latest] = store.getEvents(session, { direction: 'backward', limit: 1 });
  say(`ready ${latest?.seq ?? 0}`);

  for (;;) {
    await harness.wake(session);
    const events = readAll(store, session);
    const asked = events.filter((event) => event.type === 'user.message');
    const lastAsked = asked.at(-1)?.seq ?? 0;
    const ended = events.findLast((event) => event.type === 'session.status_idle' && event.seq > lastAsked);
    if (asked.length > 0) {
      if (ended?.type !== 'session.status_idle') {
        say(`failed the wake returned, but the turn after event ${lastAsked} has not ended`);
        process.exit(2);
      }
      if (ended.payload.stop_reason.type !== 'end_turn') {
        say(`failed turn ${asked.length} ended with ${ended.payload.stop_reason.type}: ${ended.payload.stop_reason.message ?? ''}`);
        process.exit(2);
      }
    }
    const next = QUESTIONS[asked.length];
    if (next === undefined) break;
    // The tag lets the shared model server tell sessions apart.
    harness.send(session, `${next} [${session}]`);
  }
  await harness.close();
  store.close();
  say('done');
  process.exit(0);
}

main(sessionId, dataDir, baseURL, journal).catch((error: unknown) => {
  process.stderr.write(`harness child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
