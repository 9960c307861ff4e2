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
import { childArgs, runChild, say, startChildHarness } from '#test/support/harness-child-start';

/** The user turns of the script; the model server in the test answers them. */
const QUESTIONS = ['first question', 'second question'];

const args = childArgs('harness-child.ts <dataDir> <baseURL> <sessionId> <journal>');

async function main(): Promise<void> {
  const session = args.sessionId;
  // No retry should be needed; if one is, it must not stretch the test.
  const { store, harness } = startChildHarness(args, {
    appVersion: 'test-harness-child',
    ack: (event) => `ack ${event.seq} ${event.id} ${event.type}`,
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

runChild('harness child', main);
