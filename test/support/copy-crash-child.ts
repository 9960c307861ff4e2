/**
 * A second process for the copies-under-SIGKILL test (issue 21), run with `node --import tsx`:
 *   copy-crash-child.ts <dataDir> <baseURL> <sessionId>
 *
 * Starts as Drover starts: the hand registry over the data folder's Docker instance removes what a
 * crash left (`cleanUp`), then the real Harness resumes the session from its log
 * (`resumeInterrupted`) with the registry's hands, against a model server in the test process.
 * Stdout lines:
 *   ready                    the start's clean-up is done
 *   ack <seq> <type> <json>  an event is committed (from a store listener: after the durable commit)
 *   done                     the session's turn ended with end_turn
 * It is SIGKILLed by the test at the points it chooses; it decides nothing from an earlier life.
 */
import { readAll } from '#services/harness/fold-log';
import { Harness } from '#services/harness/harness';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import { HandRegistry } from '#services/hands/registry';
import { SessionStore } from '#services/session/store';

const [dataDir, baseURL, sessionId] = process.argv.slice(2);
if (!dataDir || !baseURL || !sessionId) throw new Error('usage: copy-crash-child.ts <dataDir> <baseURL> <sessionId>');

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(data: string, url: string, session: string): Promise<void> {
  const store = SessionStore.open({ dataDir: data, appVersion: 'test-copy-crash-child' });
  const log = (message: string, error?: unknown): void => {
    process.stderr.write(`${message}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  };
  const registry = new HandRegistry({ store, docker: new DockerEngine({ instance: instanceIdOf(data) }), log });
  await registry.cleanUp();
  store.subscribe(session, (event) => say(`ack ${event.seq} ${event.type} ${JSON.stringify(event.payload)}`));
  const harness = new Harness({
    store,
    keyProvider: () => 'test-key',
    baseURL: url,
    handsFor: (id, signal) => registry.handsFor(id, signal),
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    log,
  });
  say('ready');
  const ended = (): boolean => {
    const last = readAll(store, session).findLast((event) => event.type === 'session.status_idle');
    return last?.type === 'session.status_idle' && last.payload.stop_reason.type === 'end_turn';
  };
  harness.resumeInterrupted();
  for (let round = 0; round < 600 && !ended(); round++) await new Promise((resolve) => setTimeout(resolve, 100));
  const finished = ended();
  await harness.close();
  await registry.settled();
  await registry.close();
  store.close();
  say(finished ? 'done' : 'failed the session did not end its turn within a minute');
  process.exit(0);
}

main(dataDir, baseURL, sessionId).catch((error: unknown) => {
  process.stderr.write(`copy crash child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
