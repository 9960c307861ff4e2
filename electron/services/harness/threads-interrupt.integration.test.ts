// Interrupts and approvals of a thread against a message the coordinator sends it at the same moment (issue 21), with
// the real SDK, the local Messages API server, a real SQLite store and a MathHand. The message is mail for the thread's
// next request: the interrupt still stops the thread's turn, the message is answered on its next turn; a call of the
// thread waiting for approval keeps waiting and runs once allowed, the message answered with its result.
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import type { RecordedRequest, Reply } from '#test/support/model-server';
import { bodyText, COORDINATOR, ROSTER, say, systemOf, toolUse, use } from '#test/support/thread-script';
import { askBeforeMath } from '#test/support/thread-log';
import { cleanUpRigs, events, rig, waitFor, type Rig } from '#test/support/harness-rig';

afterEach(cleanUpRigs);

const HURRY = 'Hurry up.';
const hasResult = (request: RecordedRequest, id: string): boolean => bodyText(request).includes(`"tool_use_id":"${id}"`);

/** Holds the coordinator's request for its `thread_message` call until the test opens it. */
class Gate {
  open: () => void = () => undefined;
  arrived: () => void = () => undefined;
  /** Resolves when the test opens the gate. */
  readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  /** Resolves when the held request has arrived. */
  readonly asked = new Promise<void>((resolve) => (this.arrived = resolve));
}

/**
 * The coordinator starts the waiter, then (once the gate opens) messages it "Hurry up.", waits for its reply and
 * summarises. The waiter waits `waitMs`; once it has a result it says whether it read the message.
 */
function script(waitMs: number, gated: Gate): (request: RecordedRequest) => Promise<Reply> {
  return async (request) => {
    const body = bodyText(request);
    if (systemOf(request).includes('You wait.')) {
      if (!hasResult(request, 'toolu_wait')) return use(toolUse('toolu_wait', 'wait', { ms: waitMs, marker: 'toolu_wait' }));
      return say(body.includes(HURRY) ? 'Heard: hurry up.' : 'Done waiting, no message.');
    }
    if (!hasResult(request, 'toolu_start')) {
      return use(toolUse('toolu_start', 'thread_start', { agent: 'waiter', task: 'Wait.', hands: [{ hand: 'math', mode: 'shared' }] }));
    }
    if (!hasResult(request, 'toolu_message')) {
      const waiter = /sthr_[0-9a-f]+/.exec(body)?.[0] ?? '';
      gated.arrived();
      await gated.opened;
      return use(toolUse('toolu_message', 'thread_message', { session_thread_id: waiter, message: HURRY }));
    }
    if (body.includes('Heard: hurry up.') || body.includes('every thread is idle or ended')) return say('Summary: the waiter heard.');
    return use(toolUse(`toolu_w${request.body.messages.length}`, 'thread_wait', {}));
  };
}

async function threaded(respond: (request: RecordedRequest) => Promise<Reply>): Promise<Rig> {
  const r = await rig(respond);
  r.store.emitEvents(r.sessionId, [
    { type: 'session.configured', payload: { model: 'claude-sonnet-4-6', max_tokens: 1024, system: COORDINATOR } },
    { type: 'session.roster_set', payload: ROSTER },
  ]);
  return r;
}

/** Resolves once the MathHand runs the waiter's `wait` (the thread is mid-tool). */
async function midWait(r: Rig): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!r.hand.runs.some((run) => run.name === 'wait')) {
    if (Date.now() > deadline) throw new Error('the waiter never started its wait');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const of = (thread: string) => (event: StoredEvent) => (event.payload as { session_thread_id?: string }).session_thread_id === thread;
const waiterRequests = (r: Rig): RecordedRequest[] => r.server.requests.filter((request) => systemOf(request).includes('You wait.'));

/** The waiter's turns after the interrupt: it ended the cut turn interrupted, then answered the message in a new one. */
/** A session whose waiter thread is in the middle of its (60 s) wait, the coordinator's next request gated. */
async function waiterMidWait(): Promise<{ g: Gate; r: Rig; waiter: string }> {
  const g = new Gate();
  const r = await threaded(script(60_000, g));
  r.harness.send(r.sessionId, 'Do the work.');
  const waiting = await waitFor(r, 'agent.tool_use', (event) => event.payload.name === 'wait');
  const waiter = waiting.payload.session_thread_id as string;
  await midWait(r);
  return { g, r, waiter };
}

async function expectInterruptedThenAnswered(r: Rig, waiter: string, afterReply: () => void = () => undefined): Promise<void> {
  const stopped = await waitFor(r, 'session.thread_status_idle', of(waiter));
  expect(stopped.payload.stop_reason.type).toBe('interrupted');
  const result = events(r).find((event) => event.type === 'agent.tool_result' && event.payload.tool_use_id === 'toolu_wait');
  expect(result?.payload).toMatchObject({ status: 'interrupted', is_error: true, session_thread_id: waiter });
  // No request of the waiter between the interrupt and its interrupted idle: the message did not carry the cut turn on.
  const log = events(r);
  const interrupt = log.find((event) => event.type === 'user.interrupt' && of(waiter)(event)) as StoredEvent;
  const between = log.filter((event) => event.seq > interrupt.seq && event.seq < stopped.seq && of(waiter)(event));
  expect(between.filter((event) => event.type === 'span.model_request_start')).toEqual([]);
  // The next turn answers the message (its only other request, holding the message).
  const reply = await waitFor(r, 'agent.thread_message_received', (event) => event.payload.from_thread_id === waiter);
  expect(JSON.stringify(reply.payload)).toContain('Heard: hurry up.');
  const after = events(r).filter((event) => event.seq > stopped.seq && event.seq < reply.seq && of(waiter)(event));
  expect(after.map((event) => event.type)).toEqual(
    expect.arrayContaining(['session.thread_status_running', 'span.model_request_start', 'agent.message', 'session.thread_status_idle']),
  );
  expect(waiterRequests(r)).toHaveLength(2);
  expect(bodyText(waiterRequests(r)[1] as RecordedRequest)).toContain(HURRY);
  afterReply();
  const done = await waitFor(r, 'session.status_idle');
  expect(done.payload.stop_reason.type).toBe('end_turn');
  // The wait ran once and was cut; nothing ran it again.
  expect(r.hand.runs.filter((run) => run.name === 'wait')).toEqual([expect.objectContaining({ aborted: true })]);
}

describe('a thread interrupted while a message reaches it', () => {
  it('the coordinator’s thread_message lands first, the interrupt right after: the turn ends interrupted, the message is answered next', async () => {
    const { g, r, waiter } = await waiterMidWait();
    await g.asked;
    // The interrupt follows the message's pair at once (the next task), before the waiter could act on either.
    const stop = r.store.subscribe(r.sessionId, (event) => {
      if (event.type !== 'agent.thread_message_received' || event.payload.session_thread_id !== waiter) return;
      stop();
      queueMicrotask(() => r.harness.interrupt(r.sessionId, 'stop waiting', waiter));
    });
    g.open();
    await expectInterruptedThenAnswered(r, waiter);
    const log = events(r);
    const received = log.find((event) => event.type === 'agent.thread_message_received' && of(waiter)(event)) as StoredEvent;
    const interrupt = log.find((event) => event.type === 'user.interrupt') as StoredEvent;
    expect(interrupt.seq).toBe(received.seq + 1);
  });

  it('the interrupt and the message in one commit (interrupt first): the same', async () => {
    const { g, r, waiter } = await waiterMidWait();
    const content = [{ type: 'text' as const, text: HURRY }];
    // As the coordinator's thread_message writes the pair, right behind the user's interrupt.
    r.store.emitEvents(r.sessionId, [
      { type: 'user.interrupt', payload: { reason: 'stop waiting', session_thread_id: waiter } },
      { type: 'agent.thread_message_sent', payload: { to_thread_id: waiter, content } },
      { type: 'agent.thread_message_received', payload: { session_thread_id: waiter, content } },
    ]);
    // The coordinator's own message (held until now) comes after the reply: the waiter answers it in a third turn.
    await expectInterruptedThenAnswered(r, waiter, () => g.open());
  });

  it('an interrupt right behind the response that asked for a call: the call is not run, the turn ends interrupted', async () => {
    const g = new Gate();
    const r = await threaded(script(60_000, g));
    r.harness.send(r.sessionId, 'Do the work.');
    // Recorded in the listener of the response's tool use: before the step that would run it.
    const stop = r.store.subscribe(r.sessionId, (event) => {
      if (event.type !== 'agent.tool_use' || event.payload.name !== 'wait') return;
      stop();
      queueMicrotask(() => r.harness.interrupt(r.sessionId, 'not now', event.payload.session_thread_id));
    });
    const waiting = await waitFor(r, 'agent.tool_use', (event) => event.payload.name === 'wait');
    const waiter = waiting.payload.session_thread_id as string;
    const stopped = await waitFor(r, 'session.thread_status_idle', of(waiter));
    expect(stopped.payload.stop_reason.type).toBe('interrupted');
    const result = events(r).find((event) => event.type === 'agent.tool_result' && event.payload.tool_use_id === 'toolu_wait');
    expect(result?.payload).toMatchObject({ status: 'interrupted', is_error: true, session_thread_id: waiter });
    expect(JSON.stringify(result?.payload)).toContain('Not run: the user interrupted before this tool started.');
    expect(r.hand.runs.filter((run) => run.name === 'wait')).toHaveLength(0);
    await g.asked;
    g.open();
    // The coordinator's message then starts the waiter's next turn (an idle thread with mail).
    const done = await waitFor(r, 'session.status_idle');
    expect(done.payload.stop_reason.type).toBe('end_turn');
    expect(bodyText(waiterRequests(r).at(-1) as RecordedRequest)).toContain(HURRY);
  });

  it('a call of the thread waiting for approval keeps waiting when the message arrives; allowed, it runs and the message is answered', async () => {
    const g = new Gate();
    const r = await threaded(script(10, g));
    r.store.emitEvents(r.sessionId, askBeforeMath('wait'));
    r.harness.send(r.sessionId, 'Do the work.');
    const asked = await waitFor(r, 'session.thread_status_idle', (event) => event.payload.stop_reason.type === 'requires_action');
    const waiter = asked.payload.session_thread_id as string;
    await g.asked;
    g.open();
    // The coordinator's wait ends (every thread idle), it ends its turn: the session's idle still names the waiting call.
    const held = await waitFor(r, 'session.status_idle');
    const use = events(r).find((event) => event.type === 'agent.tool_use' && event.payload.name === 'wait');
    expect(held.payload.stop_reason).toMatchObject({ type: 'requires_action', event_ids: [use?.id] });
    expect(events(r).some((event) => event.type === 'agent.thread_message_received' && of(waiter)(event))).toBe(true);
    // Not answered as not run, and the waiter made no request since.
    expect(events(r).filter((event) => event.type === 'agent.tool_result')).toHaveLength(countCoordinatorResults(events(r)));
    expect(waiterRequests(r)).toHaveLength(1);
    expect(r.hand.runs.filter((run) => run.name === 'wait')).toHaveLength(0);
    r.store.emitEvent(r.sessionId, { type: 'user.tool_confirmation', payload: { tool_use_id: 'toolu_wait', result: 'allow' } });
    const done = await waitFor(r, 'session.status_idle', (event) => event.seq > held.seq && event.payload.stop_reason.type === 'end_turn');
    expect(done.payload.stop_reason.type).toBe('end_turn');
    expect(r.hand.runs.filter((run) => run.name === 'wait')).toEqual([expect.objectContaining({ aborted: false })]);
    const result = events(r).find((event) => event.type === 'agent.tool_result' && event.payload.tool_use_id === 'toolu_wait');
    expect(result?.payload).toMatchObject({ is_error: false, session_thread_id: waiter });
    // One request after the answer, holding the call's result and the message.
    expect(waiterRequests(r)).toHaveLength(2);
    expect(bodyText(waiterRequests(r)[1] as RecordedRequest)).toContain(HURRY);
    expect(bodyText(waiterRequests(r)[1] as RecordedRequest)).toContain('waited 10 ms');
    const reply = events(r).find((event) => event.type === 'agent.thread_message_received' && event.payload.from_thread_id === waiter);
    expect(JSON.stringify(reply?.payload)).toContain('Heard: hurry up.');
  });
});

/** The coordinator's own tool results (its threads tools), which are not the waiter's. */
function countCoordinatorResults(log: readonly StoredEvent[]): number {
  return log.filter((event) => event.type === 'agent.tool_result' && event.payload.session_thread_id === undefined).length;
}
