/**
 * A second process for the start-up crash test, run with `node --import tsx`:
 *   send-child.ts <dataDir> <sessionId> <text>
 *
 * Opens the store with a real Harness (so the message wakes its session, as in the app), sends
 * `text` as the user and is SIGKILLed by itself the moment the message is durable — before the
 * wake it scheduled can record anything: the window where a message was saved (and its RPC may
 * have replied) but nobody has started to answer it. Prints `ack <seq> <type>` for the commit
 * (from a store listener, which runs only after the durable commit). Touches nothing but its data
 * folder; its Harness points at a closed port and never gets to use it.
 */
import { Harness } from '#services/harness/harness';
import { SessionStore } from '#services/session/store';

const [dataDir, sessionId, text] = process.argv.slice(2);
if (!dataDir || !sessionId || !text) throw new Error('usage: send-child.ts <dataDir> <sessionId> <text>');

const store = SessionStore.open({ dataDir, appVersion: 'test-send-child' });
store.subscribe(sessionId, (event) => {
  process.stdout.write(`ack ${event.seq} ${event.type}\n`);
  if (event.type === 'user.message') process.kill(process.pid, 'SIGKILL');
});
const harness = new Harness({
  store,
  keyProvider: () => 'test-key',
  baseURL: 'http://127.0.0.1:9',
  handsFor: () => [],
  log: () => undefined,
});
harness.send(sessionId, text);
// Not reached: the listener above killed the process inside the send.
process.stdout.write('survived\n');
process.exit(3);
