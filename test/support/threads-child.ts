/**
 * A second process for the threads crash test, run with `node --import tsx`:
 *   threads-child.ts <dataDir> <baseURL> <sessionId> <journal>
 *
 * It wakes one threaded session (a coordinator and the threads it starts) with the real Harness
 * against a model server in the test process, and is SIGKILLed at random points. Stdout lines:
 *   ready <lastSeq>        the store is open
 *   ack <seq> <id> <type>  an event is committed (from a store listener: after the durable commit)
 *   done                   the session's turn ended with end_turn
 *   failed <reason>        it ended some other way
 *
 * It decides nothing from memory of an earlier life: the log alone says whether the turn is over.
 */
import { readAll } from '#services/harness/fold-log';
import { childArgs, runChild, say, startChildHarness } from '#test/support/harness-child-start';

const args = childArgs('threads-child.ts <dataDir> <baseURL> <sessionId> <journal>');

async function main(): Promise<void> {
  const session = args.sessionId;
  const { store, harness } = startChildHarness(args, {
    appVersion: 'test-threads-child',
    ack: (event) => `ack ${event.seq} ${event.id} ${event.type}`,
    serialHand: true,
  });
  const [latest] = store.getEvents(session, { direction: 'backward', limit: 1 });
  say(`ready ${latest?.seq ?? 0}`);
  for (let wake = 0; wake < 3; wake++) {
    await harness.wake(session);
    const ended = readAll(store, session).findLast((event) => event.type === 'session.status_idle');
    if (ended?.type !== 'session.status_idle') continue;
    if (ended.payload.stop_reason.type !== 'end_turn') {
      say(`failed the turn ended with ${ended.payload.stop_reason.type}: ${ended.payload.stop_reason.message ?? ''}`);
      process.exit(2);
    }
    await harness.close();
    store.close();
    say('done');
    process.exit(0);
  }
  say('failed three wakes returned and the session is not idle');
  process.exit(2);
}

runChild('threads child', main);
