/**
 * A second process for the custom tools crash test, run with `node --import tsx`:
 *   custom-tool-child.ts <dataDir> <baseURL> <sessionId> <step>
 *
 * It drives one session with the real Harness and SessionStore against a model server in the test
 * process, and is SIGKILLed by the test at chosen points. Steps:
 *   ask     defines the custom tool `lookup` and sends the user's message (each once: only when the
 *           log has none) and wakes the session
 *   answer  answers every custom call that waits (through the RPC's checks), which wakes the session
 *   record  answers every custom call that waits with no harness running (as if Drover stopped right
 *           after the answer was stored), then exits
 *   wake    resumes what the log asks for (as Drover's start-up does) and wakes the session
 * Stdout lines:
 *   ack <seq> <type>     an event is committed (from a store listener: after the durable commit)
 *   resumed <n>          (wake) how many sessions the start-up resume woke
 *   idle <stop reason>   the wake returned; the log's last idle has this stop reason
 * then it waits to be killed (ask, answer) or exits (wake, record). It decides nothing from memory
 * of an earlier life, and touches nothing but its data folder.
 */
import { customCallsOf, customResultEvents, waitingCustomCalls } from '#services/harness/custom-tools';
import { readAll } from '#services/harness/fold-log';
import { Harness } from '#services/harness/harness';
import { SessionStore } from '#services/session/store';

const [dataDir, baseURL, sessionId, step] = process.argv.slice(2);
const STEPS = ['ask', 'answer', 'record', 'wake'] as const;
type Step = (typeof STEPS)[number];
const isStep = (value: string | undefined): value is Step => STEPS.some((known) => known === value);
if (!dataDir || !baseURL || !sessionId || !isStep(step)) {
  throw new Error('usage: custom-tool-child.ts <dataDir> <baseURL> <sessionId> ask|answer|record|wake');
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function answerAll(store: SessionStore, session: string): void {
  const calls = customCallsOf(readAll(store, session, ['agent.custom_tool_use', 'user.custom_tool_result']));
  const waiting = waitingCustomCalls(calls);
  const events = customResultEvents(
    calls,
    waiting.map((call) => ({
      custom_tool_use_id: call.event.id,
      content: [{ type: 'text', text: `meaning of ${String(call.event.payload.input['q'])}` }],
      is_error: false,
    })),
  );
  if (events.length > 0) store.emitEvents(session, events);
}

async function main(session: string, data: string, url: string, what: Step): Promise<void> {
  const store = SessionStore.open({ dataDir: data, appVersion: 'test-custom-tool-child' });
  store.subscribe(session, (event) => say(`ack ${event.seq} ${event.type}`));
  if (what === 'record') {
    answerAll(store, session);
    store.close();
    process.exit(0);
  }
  const harness = new Harness({
    store,
    keyProvider: () => 'test-key',
    baseURL: url,
    handsFor: () => [],
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    log: (message, error) =>
      process.stderr.write(`${message}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`),
  });
  if (what === 'ask') {
    if (!readAll(store, session, ['session.custom_tools_set']).length)
      store.emitEvent(session, {
        type: 'session.custom_tools_set',
        payload: {
          tools: [
            { name: 'lookup', description: 'Looks a word up.', input_schema: { type: 'object', properties: { q: { type: 'string' } } } },
          ],
        },
      });
    if (!readAll(store, session, ['user.message']).length) harness.send(session, 'look it up');
  }
  if (what === 'answer') answerAll(store, session);
  if (what === 'wake') say(`resumed ${harness.resumeInterrupted().length}`);
  // The harness wakes on the message or the answer by itself; this joins that run.
  await new Promise((resolve) => setTimeout(resolve, 0));
  await harness.wake(session);
  const last = readAll(store, session, ['session.status_idle']).at(-1);
  say(`idle ${last?.type === 'session.status_idle' ? last.payload.stop_reason.type : 'none'}`);
  if (what === 'wake') {
    await harness.close();
    store.close();
    process.exit(0);
  }
  setInterval(() => undefined, 60_000); // wait to be killed
}

main(sessionId, dataDir, baseURL, step).catch((error: unknown) => {
  process.stderr.write(`custom tool child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
