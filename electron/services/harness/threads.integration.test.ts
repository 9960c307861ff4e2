// Threads (issue 21) against the real SDK and the local Messages API server, a real SQLite store
// and a MathHand: a coordinator starts two roster agents in parallel, waits for their replies and
// summarises; each thread's request holds only its own context; an interrupt stops one thread.
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import type { RecordedRequest, Reply } from '#test/support/model-server';
import { bodyText, COORDINATOR, coordinatorScript, ROSTER, say, systemOf, toolUse, use } from '#test/support/thread-script';
import { askBeforeMath, mathHandAttached } from '#test/support/thread-log';
import { cleanUpRigs, events, rig, waitFor, type Rig } from '#test/support/harness-rig';

afterEach(cleanUpRigs);

async function threaded(respondWith: (request: RecordedRequest) => Reply): Promise<Rig> {
  const r = await rig(respondWith);
  r.store.emitEvent(r.sessionId, {
    type: 'session.configured',
    payload: { model: 'claude-sonnet-4-6', max_tokens: 1024, system: COORDINATOR, thinking_budget: null, context_budget: null },
  });
  r.store.emitEvent(r.sessionId, { type: 'session.roster_set', payload: ROSTER });
  return r;
}

const threadOf = (event: StoredEvent): string => (event.payload as { session_thread_id?: string }).session_thread_id ?? 'primary';

describe('threads', () => {
  it('runs a coordinator and two threads in parallel: events, own contexts, replies, summary', async () => {
    const r = await threaded(coordinatorScript(150));
    r.harness.send(r.sessionId, 'Do the work.');
    const done = await waitFor(r, 'session.status_idle');
    expect(done.payload.stop_reason.type).toBe('end_turn');
    const log = events(r);

    // Two threads, by the roster's agents, each started by the coordinator with its task.
    const created = log.filter((event) => event.type === 'session.thread_created');
    expect(created.map((event) => event.payload)).toEqual([
      expect.objectContaining({ agent_name: 'adder', task: 'Add 2 and 3.', hands: [{ hand: 'math', mode: 'shared' }] }),
      expect.objectContaining({ agent_name: 'waiter', task: 'Wait 150 ms.', hands: [{ hand: 'math', mode: 'shared' }] }),
    ]);
    const [adder, waiter] = created.map((event) => (event.type === 'session.thread_created' ? event.payload.session_thread_id : ''));

    // Each thread: running, its tool call and result marked with its id, idle (end_turn), then its reply to the coordinator.
    for (const [id, tool] of [
      [adder, 'add'],
      [waiter, 'wait'],
    ] as const) {
      // (session.usage, when prices are known, follows each request's end, and the hand grants (thread-hands.ts) are not part of this sequence.)
      const own = log
        .filter((event) => threadOf(event) === id && event.type !== 'session.usage' && event.type !== 'hand.thread_access')
        .map((event) => event.type);
      expect(own).toEqual([
        'session.thread_created',
        'session.thread_status_running',
        'span.model_request_start',
        'agent.tool_use',
        'span.model_request_end',
        'agent.tool_result',
        'span.model_request_start',
        'agent.message',
        'span.model_request_end',
        'session.thread_status_idle',
        'agent.thread_message_sent',
      ]);
      const call = log.find((event) => event.type === 'agent.tool_use' && event.payload.session_thread_id === id);
      expect(call?.type === 'agent.tool_use' && call.payload.name).toBe(tool);
      const received = log.filter((event) => event.type === 'agent.thread_message_received' && event.payload.from_thread_id === id);
      expect(received).toHaveLength(1);
      expect(received[0]?.payload).not.toHaveProperty('session_thread_id'); // to the primary
      // Sent and received in one commit: consecutive seqs.
      const sent = log.find((event) => event.type === 'agent.thread_message_sent' && event.payload.session_thread_id === id);
      expect((received[0]?.seq ?? 0) - (sent?.seq ?? 0)).toBe(1);
    }

    // The session went idle once, at the very end, after both threads were idle.
    const idles = log.filter((event) => event.type === 'session.status_idle');
    expect(idles).toHaveLength(1);
    const lastThreadIdle = Math.max(...log.filter((event) => event.type === 'session.thread_status_idle').map((event) => event.seq));
    expect(idles[0]?.seq).toBeGreaterThan(lastThreadIdle);
    expect(log.filter((event) => event.type === 'session.status_running')).toHaveLength(1);

    // Each thread's requests hold only its own context: its task, its own tool call; its agent's system prompt, model and tools.
    const requests = r.server.requests;
    const adderRequests = requests.filter((request) => systemOf(request).includes('You add.'));
    const waiterRequests = requests.filter((request) => systemOf(request).includes('You wait.'));
    expect(adderRequests).toHaveLength(2);
    expect(waiterRequests).toHaveLength(2);
    for (const request of adderRequests) {
      expect(bodyText(request)).toContain('Add 2 and 3.');
      expect(bodyText(request)).not.toMatch(/Do the work|Wait 150|toolu_wait|toolu_s1/);
      expect(request.body.tools?.map((tool) => tool.name)).toEqual(['add', 'thread_return_hand']);
      expect(request.body.model).toBe('claude-sonnet-4-6');
    }
    for (const request of waiterRequests) {
      expect(bodyText(request)).toContain('Wait 150 ms.');
      expect(bodyText(request)).not.toMatch(/Do the work|Add 2 and 3|toolu_add/);
      expect(request.body.model).toBe('claude-haiku-4-5');
    }
    // The coordinator: its own events plus the replies, with the coordinator tools; never a thread's tool call.
    const coordinator = requests.filter((request) => systemOf(request).includes(COORDINATOR));
    for (const request of coordinator) {
      expect(bodyText(request)).not.toMatch(/toolu_add|toolu_wait|Add 2 and 3\.","type/);
      expect(request.body.tools?.map((tool) => tool.name)).toEqual(
        expect.arrayContaining(['add', 'thread_start', 'thread_message', 'thread_wait', 'thread_end']),
      );
    }
    const last = coordinator.at(-1) as RecordedRequest;
    expect(bodyText(last)).toContain('The sum is 5.');
    expect(bodyText(last)).toContain('Done waiting.');
    const summary = log.filter((event) => event.type === 'agent.message' && threadOf(event) === 'primary').at(-1);
    expect(JSON.stringify(summary?.payload)).toContain('Summary: the sum is 5');

    // The two threads ran at once: the waiter's wait overlapped the adder's turn.
    const waiterStart = log.find((event) => event.type === 'session.thread_status_running' && threadOf(event) === waiter);
    const adderIdle = log.find((event) => event.type === 'session.thread_status_idle' && threadOf(event) === adder);
    const waiterIdle = log.find((event) => event.type === 'session.thread_status_idle' && threadOf(event) === waiter);
    expect(waiterStart?.seq).toBeLessThan(adderIdle?.seq ?? 0);
    expect(adderIdle?.seq).toBeLessThan(waiterIdle?.seq ?? 0);
  });

  it('refuses bad coordinator tool input with an error the model can read, recording nothing else', async () => {
    let call = 0;
    const r = await threaded((request) => {
      call++;
      if (call === 1)
        return use(
          toolUse('toolu_bad', 'thread_start', { agent: 'nobody', task: 'x' }),
          toolUse('toolu_bad2', 'thread_wait', { timeout_seconds: -1 }),
        );
      return say(`saw: ${bodyText(request).includes('no agent \\"nobody\\"') ? 'agent refusal' : '?'}`);
    });
    r.harness.send(r.sessionId, 'Try.');
    await waitFor(r, 'session.status_idle');
    const log = events(r);
    expect(log.some((event) => event.type === 'session.thread_created')).toBe(false);
    const results = log.filter((event) => event.type === 'agent.tool_result');
    expect(results.map((event) => event.type === 'agent.tool_result' && event.payload.is_error)).toEqual([true, true]);
    expect(JSON.stringify(results[0]?.payload)).toContain('there is no agent \\"nobody\\" in the roster. Start one of: adder, waiter');
    expect(JSON.stringify(results[1]?.payload)).toContain('timeout_seconds');
    expect(JSON.stringify(log.filter((event) => event.type === 'agent.message').at(-1)?.payload)).toContain('agent refusal');
  });

  it('interrupts one thread: it stops, the other finishes, the coordinator summarises', async () => {
    const r = await threaded(coordinatorScript(60_000));
    r.harness.send(r.sessionId, 'Do the work.');
    const waiting = await waitFor(r, 'agent.tool_use', (event) => event.payload.name === 'wait');
    const waiter = waiting.payload.session_thread_id as string;
    await waitFor(r, 'session.thread_status_idle', (event) => event.payload.session_thread_id !== waiter);
    r.harness.interrupt(r.sessionId, 'too slow', waiter);
    const stopped = await waitFor(r, 'session.thread_status_idle', (event) => event.payload.session_thread_id === waiter);
    expect(stopped.payload.stop_reason.type).toBe('interrupted');
    const result = events(r).find((event) => event.type === 'agent.tool_result' && event.payload.tool_use_id === 'toolu_wait');
    expect(result?.payload).toMatchObject({ status: 'interrupted', is_error: true, session_thread_id: waiter });
    // The coordinator was not interrupted: it is still waiting (one reply), so the session is not idle yet.
    expect(events(r).some((event) => event.type === 'session.status_idle')).toBe(false);
    expect(events(r).some((event) => event.type === 'user.interrupt' && event.payload.session_thread_id === waiter)).toBe(true);
    // The wait returns when every thread is idle; the coordinator then ends its turn.
    const done = await waitFor(r, 'session.status_idle');
    expect(done.payload.stop_reason.type).toBe('end_turn');
  });

  it('an approval inside a thread: its call waits, the user allows it (by the guardrails RPC’s answer), the thread goes on', async () => {
    const r = await threaded(coordinatorScript(10));
    r.store.emitEvents(r.sessionId, askBeforeMath('add'));
    r.harness.send(r.sessionId, 'Do the work.');
    const asked = await waitFor(r, 'session.thread_status_idle', (event) => event.payload.stop_reason.type === 'requires_action');
    const use = events(r).find((event) => event.type === 'agent.tool_use' && event.payload.name === 'add');
    expect(use?.payload).toMatchObject({ evaluated_permission: 'ask', session_thread_id: asked.payload.session_thread_id });
    expect(asked.payload.stop_reason).toMatchObject({ event_ids: [use?.id] });
    expect(r.hand.runs.filter((run) => run.name === 'add')).toHaveLength(0);
    // The coordinator's wait ends (every thread idle) and it ends its turn: the session's idle names the thread's waiting call.
    const held = await waitFor(r, 'session.status_idle');
    expect(held.payload.stop_reason).toMatchObject({ type: 'requires_action', event_ids: [use?.id] });
    // The answer as the guardrails RPC records it (no thread id): it reaches the thread whose call it names.
    r.store.emitEvent(r.sessionId, { type: 'user.tool_confirmation', payload: { tool_use_id: 'toolu_add', result: 'allow' } });
    const done = await waitFor(r, 'session.status_idle', (event) => event.seq > held.seq);
    expect(done.payload.stop_reason.type).toBe('end_turn');
    expect(r.hand.runs.filter((run) => run.name === 'add')).toHaveLength(1);
    const log = events(r);
    const start = log.find((event) => event.type === 'span.tool_run_start');
    expect(start?.payload).toEqual({ tool_use_id: 'toolu_add', session_thread_id: asked.payload.session_thread_id });
    expect(JSON.stringify(log.filter((event) => event.type === 'agent.message').at(-1)?.payload)).toContain('Summary');
  });

  it("a roster agent's policies apply to its thread only: the adder's add is denied, the session's own policy is untouched", async () => {
    const r = await rig(coordinatorScript(10));
    r.store.emitEvents(r.sessionId, [
      { type: 'session.configured', payload: { model: 'claude-sonnet-4-6', max_tokens: 1024, system: COORDINATOR } },
      mathHandAttached(),
      {
        type: 'session.roster_set',
        payload: {
          ...ROSTER,
          agents: ROSTER.agents.map((agent) =>
            agent.name === 'adder' ? { ...agent, policies: [{ hand: 'math', tool: 'add', policy: 'deny' as const }] } : agent,
          ),
        },
      },
    ]);
    r.harness.send(r.sessionId, 'Do the work.');
    const done = await waitFor(r, 'session.status_idle');
    expect(done.payload.stop_reason.type).toBe('end_turn');
    const log = events(r);
    const use = log.find((event) => event.type === 'agent.tool_use' && event.payload.name === 'add');
    expect(use?.payload).toMatchObject({ evaluated_permission: 'deny' });
    const result = log.find((event) => event.type === 'agent.tool_result' && event.payload.tool_use_id === 'toolu_add');
    expect(result?.payload).toMatchObject({ is_error: true });
    expect(r.hand.runs.filter((run) => run.name === 'add')).toHaveLength(0);
    // The waiter (no policies of its own) ran its call on the same hand.
    expect(r.hand.runs.filter((run) => run.name === 'wait')).toHaveLength(1);
    expect(log.some((event) => event.type === 'policy.set')).toBe(false);
  });
});
