/**
 * A second process for crash tests of one wake, run with `node --import tsx`:
 *   wake-child.ts <dataDir> <baseURL> <sessionId>
 *
 * Opens the store, wakes the session with the real Harness against a model server in the test
 * process, and prints `ack <seq> <type>` for each committed event (from a store listener, which
 * runs only after the durable commit), then `done` when the wake returns. The test SIGKILLs it
 * at the moment it chooses (e.g. when a request of some kind arrives), reopens the store and
 * checks what a fresh wake makes of the log. It touches nothing but its data folder.
 */
import { Harness } from '#services/harness/harness';
import { SessionStore } from '#services/session/store';

const [dataDir, baseURL, sessionId] = process.argv.slice(2);
if (!dataDir || !baseURL || !sessionId) throw new Error('usage: wake-child.ts <dataDir> <baseURL> <sessionId>');

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(data: string, url: string, session: string): Promise<void> {
  const store = SessionStore.open({ dataDir: data, appVersion: 'test-wake-child' });
  store.subscribe(session, (event) => say(`ack ${event.seq} ${event.type}`));
  const harness = new Harness({
    store,
    keyProvider: () => 'test-key',
    baseURL: url,
    handsFor: () => [],
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    log: (message, error) =>
      process.stderr.write(`${message}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`),
  });
  say('ready');
  await harness.wake(session);
  await harness.close();
  store.close();
  say('done');
}

main(dataDir, baseURL, sessionId).catch((error: unknown) => {
  process.stderr.write(`wake child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
