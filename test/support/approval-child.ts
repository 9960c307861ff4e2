/**
 * A second process for the approvals crash test, run with `node --import tsx`:
 *   approval-child.ts <dataDir> <baseURL> <sessionId> <journal> <step>
 *
 * It drives one session with the real Harness and SessionStore against a model server in the test
 * process, and is SIGKILLed by the test at chosen points. Steps:
 *   ask    sends the user's message (once: only when the log has none) and wakes the session
 *   allow  records the user's allow for every tool call that waits (as sessions-confirm-tool
 *          does), which wakes the session
 *   wake   resumes what the log asks for (as Drover's start-up does) and wakes the session
 * Stdout lines:
 *   ack <seq> <type>     an event is committed (from a store listener: after the durable commit)
 *   resumed <n>          (wake) how many sessions the start-up resume woke
 *   idle <stop reason>   the wake returned; the log's last idle has this stop reason
 * then it waits to be killed (ask, allow) or exits (wake). It decides nothing from memory of an
 * earlier life, and touches nothing but its data folder and journal.
 */
import { guardrailsOfSession, readAll } from '#services/harness/fold-log';
import { pendingApprovals } from '#services/harness/approvals';
import { childArgs, runChild, say, startChildHarness } from '#test/support/harness-child-start';

const args = childArgs('approval-child.ts <dataDir> <baseURL> <sessionId> <journal> ask|allow|wake');
const step = args.rest[0];
if (step !== 'ask' && step !== 'allow' && step !== 'wake') {
  throw new Error('usage: approval-child.ts <dataDir> <baseURL> <sessionId> <journal> ask|allow|wake');
}

async function main(what: 'ask' | 'allow' | 'wake'): Promise<void> {
  const session = args.sessionId;
  const { store, harness } = startChildHarness(args, {
    appVersion: 'test-approval-child',
    ack: (event) => `ack ${event.seq} ${event.type}`,
  });
  if (what === 'ask' && !readAll(store, session, ['user.message']).length) harness.send(session, 'please do it');
  if (what === 'allow') {
    const waiting = pendingApprovals(guardrailsOfSession(store, session));
    store.emitEvents(
      session,
      waiting.map((record) => ({
        type: 'user.tool_confirmation' as const,
        payload: { tool_use_id: record.event.payload.tool_use_id, result: 'allow' as const },
      })),
    );
  }
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

runChild('approval child', () => main(step));
