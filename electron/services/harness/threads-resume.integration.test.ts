// Start-up over a threaded log (issue 21): Drover stopped while two threads were mid-turn after the
// session itself had gone idle — the user had allowed both threads' calls (the session's idle said
// `requires_action`), the waiter's call was running and the adder waited for the model — and a new
// Harness over the same SQLite files must carry on from the log alone (`resumeInterrupted`): each
// thread's cut turn on its own (the running call recorded interrupted, never run again; the open
// request closed and sent again), every thread's reply reaching the coordinator, the session idle.
// The whole log folded as one thread says there is nothing to do here: the judgement must be per thread.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import { SessionStore } from '#services/session/store';
import { readJournal } from '#test/support/harness-crash-rules';
import { MathHand } from '#test/support/math-hand';
import { startModelServer, type RecordedRequest, type Reply } from '#test/support/model-server';
import { tempDir } from '#test/support/system';
import { askBeforeMath } from '#test/support/thread-log';
import { waitForEvent } from '#test/support/wait-for-event';
import { COORDINATOR, ROSTER, bodyText, say, systemOf, toolUse, use } from '#test/support/thread-script';
import { foldLog } from './fold-log.ts';
import { Harness } from './harness.ts';
import { needsResume } from './state.ts';

const KEY = 'sk-ant-test-key';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const starts = (): string[] =>
  readJournal(journalFile)
    .split('\n')
    .filter((line) => line.startsWith('start '));
let journalFile = '';
const hasResult = (request: RecordedRequest): boolean => bodyText(request).includes('"tool_result"');

/**
 * The coordinator starts both threads and waits; each thread makes one call and answers. While
 * `hold` is set, the adder's request after its call's result hangs (Drover stops while it waits).
 */
function script(gate: { hold: boolean; release: () => void; held: Promise<void> }): (request: RecordedRequest) => Reply | Promise<Reply> {
  return async (request) => {
    const system = systemOf(request);
    const body = bodyText(request);
    if (system.includes('You add.')) {
      if (!hasResult(request)) return use(toolUse('toolu_add', 'add', { a: 2, b: 3, marker: 'toolu_add' }));
      if (gate.hold) await gate.held;
      return say('The sum is 5.');
    }
    if (system.includes('You wait.'))
      return hasResult(request) ? say('Done waiting.') : use(toolUse('toolu_wait', 'wait', { ms: 60_000, marker: 'toolu_wait' }));
    if (!hasResult(request))
      return use(
        toolUse('toolu_s1', 'thread_start', { agent: 'adder', task: 'Add 2 and 3.', hands: [{ hand: 'math', mode: 'shared' }] }),
        toolUse('toolu_s2', 'thread_start', { agent: 'waiter', task: 'Wait a minute.', hands: [{ hand: 'math', mode: 'shared' }] }),
      );
    const replies = body.match(/Message from thread/g)?.length ?? 0;
    if (replies >= 2) return say('Summary: the sum is 5 and the wait is done.');
    if (replies === 0 && body.includes('every thread is idle or ended')) return say('Both threads wait for your approval.');
    return use(toolUse(`toolu_w${replies}_${request.body.messages.length}`, 'thread_wait', {}));
  };
}

const threadOf = (event: StoredEvent): string | undefined => (event.payload as { session_thread_id?: string }).session_thread_id;

describe('resuming a threaded session at start-up', () => {
  it('two threads cut mid-turn after the session went idle: each continues on its own, no call runs twice, the session ends idle', async () => {
    let release: () => void = () => undefined;
    const gate = { hold: true, release: () => release(), held: new Promise<void>((resolve) => (release = resolve)) };
    const server = await startModelServer({ respond: script(gate), apiKey: KEY, models: ['claude-sonnet-4-6', 'claude-haiku-4-5'] });
    const dir = tempDir('drover-threads-resume-');
    const journal = path.join(dir, 'journal.log');
    journalFile = journal;
    cleanups.push(async () => {
      gate.release();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const harnessOver = (store: SessionStore, hand: MathHand): Harness =>
      new Harness({
        store,
        keyProvider: () => KEY,
        baseURL: server.url,
        handsFor: () => [hand],
        retry: { baseDelayMs: 5, maxDelayMs: 50 },
        log: () => undefined,
      });

    // First life: both threads' calls ask; the session idles naming them; the user allows both.
    const store = SessionStore.open({ dataDir: dir });
    const hand = new MathHand({ journal, concurrent: false });
    const harness = harnessOver(store, hand);
    const { id: sessionId } = store.createSession({ title: 'threads resume' });
    store.emitEvents(sessionId, [
      { type: 'session.configured', payload: { model: 'claude-sonnet-4-6', max_tokens: 1024, system: COORDINATOR } },
      ...askBeforeMath('add'),
      { type: 'policy.set', payload: { hand: 'math', tool: 'wait', policy: 'always_ask' } },
      { type: 'session.roster_set', payload: ROSTER },
    ]);
    harness.send(sessionId, 'Do the work.');
    const held = await waitForEvent(store, sessionId, 'session.status_idle');
    expect(held.payload.stop_reason).toMatchObject({ type: 'requires_action' });
    expect(hand.runs).toHaveLength(0);
    const created = store.getEvents(sessionId, { types: ['session.thread_created'] });
    const idOf = (agent: string): string => {
      const event = created.find((each) => each.type === 'session.thread_created' && each.payload.agent_name === agent);
      return event?.type === 'session.thread_created' ? event.payload.session_thread_id : '';
    };
    const [adder, waiter] = [idOf('adder'), idOf('waiter')];
    store.emitEvents(sessionId, [
      { type: 'user.tool_confirmation', payload: { tool_use_id: 'toolu_add', result: 'allow' } },
      { type: 'user.tool_confirmation', payload: { tool_use_id: 'toolu_wait', result: 'allow' } },
    ]);
    // The waiter's call runs (a minute), the adder's call has its result and its next request waits for the model.
    await waitForEvent(store, sessionId, 'span.tool_run_start', (event) => event.payload.tool_use_id === 'toolu_wait');
    const added = await waitForEvent(store, sessionId, 'agent.tool_result', (event) => event.payload.tool_use_id === 'toolu_add');
    await waitForEvent(store, sessionId, 'span.model_request_start', (event) => threadOf(event) === adder && event.seq > added.seq);
    // Drover stops here, recording nothing (as a crash would).
    await harness.close();
    store.close();
    gate.hold = false;
    gate.release();

    const before = SessionStore.open({ dataDir: dir });
    const cut = before.getEvents(sessionId);
    const cutAt = (cut.at(-1) as StoredEvent).seq;
    // The session's own last status is the idle that asked for approval; both threads' last statuses say running.
    const statuses = cut.filter((event) => event.type.startsWith('session.status_') || event.type.startsWith('session.thread_status_'));
    expect(statuses.at(-1)?.type).toBe('session.thread_status_running');
    const lastStatusOf = (thread: string) => statuses.filter((event) => threadOf(event) === thread).at(-1)?.type;
    expect([lastStatusOf(adder), lastStatusOf(waiter)]).toEqual(['session.thread_status_running', 'session.thread_status_running']);
    expect(cut.filter((event) => event.type === 'session.status_idle').at(-1)?.seq).toBe(held.seq);
    // Folded as one thread, the log asks for nothing: a start-up judging it so would leave both threads cut for good.
    expect(needsResume(foldLog(before, sessionId).state)).toBe(false);
    expect(starts()).toEqual(['start toolu_add', 'start toolu_wait']);

    // Second life: a new Harness over the same files resumes the session from its log.
    const hand2 = new MathHand({ journal, concurrent: false });
    const harness2 = harnessOver(before, hand2);
    cleanups.push(async () => {
      await harness2.close();
      before.close();
    });
    expect(harness2.resumeInterrupted()).toEqual([sessionId]);
    const done = await waitForEvent(before, sessionId, 'session.status_idle', (event) => event.seq > cutAt);
    expect(done.payload.stop_reason.type).toBe('end_turn');
    const after = before.getEvents(sessionId, { afterSeq: cutAt });

    // The waiter's call, cut while it ran, is recorded interrupted and never run again; the model is told and the thread ends its turn.
    const waitResult = after.find((event) => event.type === 'agent.tool_result' && event.payload.tool_use_id === 'toolu_wait');
    expect(waitResult?.payload).toMatchObject({ is_error: true, session_thread_id: waiter });
    expect(hand2.runs).toHaveLength(0);
    // The adder's open request is closed and sent again; it answers.
    const closed = after.find((event) => event.type === 'span.model_request_end' && threadOf(event) === adder);
    expect(closed?.payload).toMatchObject({ is_error: true });
    for (const [thread, reply] of [
      [adder, 'The sum is 5.'],
      [waiter, ''],
    ] as const) {
      const idle = after.find((event) => event.type === 'session.thread_status_idle' && threadOf(event) === thread);
      expect(idle?.payload).toMatchObject({ stop_reason: { type: 'end_turn' } });
      const received = after.find((event) => event.type === 'agent.thread_message_received' && event.payload.from_thread_id === thread);
      expect(JSON.stringify(received?.payload)).toContain(reply);
    }
    // Every tool use of the whole log has exactly one result; the journal shows each call started at most once.
    const all = before.getEvents(sessionId);
    const uses = all.filter((event) => event.type === 'agent.tool_use').map((event) => event.payload.tool_use_id);
    const results = all.filter((event) => event.type === 'agent.tool_result').map((event) => event.payload.tool_use_id);
    expect([...results].sort()).toEqual([...uses].sort());
    expect(new Set(results).size).toBe(results.length);
    expect(starts()).toEqual(['start toolu_add', 'start toolu_wait']);
    expect(JSON.stringify(all.filter((event) => event.type === 'agent.message').at(-1)?.payload)).toContain('Summary');
  }, 90_000);
});
