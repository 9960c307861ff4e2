// Guardrails through the real harness, the real SDK and the local Messages API server: a tool use
// that asks waits (nothing runs) and the step ends with requires_action; the user's answers run an
// approved tool once or carry a deny message to the model; several pending calls answered one by
// one or together; a policy's deny answered at once; a budget that stops the session before the
// next request and a raised cap that continues it; forks inherit policies and budget. The hand is a
// MathHand the log attaches as a Docker hand (so policies name it); the side effect on a real
// container is electron/rpc/guardrails-approvals.integration.test.ts's.
import { afterEach, describe, expect, it } from 'vitest';
import type { EventOf, NewEvent } from '#shared/events';
import { DockerHandConfigSchema } from '#shared/hands';
import { guardrailsOfSession } from './fold-log.ts';
import { pendingApprovals } from './approvals.ts';
import { VERDICT_TOOL } from './grader.ts';
import { cleanUpRigs, events, ofType, rig, script, text, waitFor, type Rig } from '#test/support/harness-rig';
import type { RecordedRequest, ScriptedMessage } from '#test/support/model-server';

afterEach(cleanUpRigs);

const attach: NewEvent = {
  type: 'hand.attached',
  payload: { hand_id: 'math', config: DockerHandConfigSchema.parse({ kind: 'docker', image: 'drover-test/busybox:1' }) },
};
const askAll: NewEvent = { type: 'policy.set', payload: { hand: 'math', tool: null, policy: 'always_ask' } };

function calls(...uses: Array<[string, Record<string, unknown>]>): ScriptedMessage {
  return { content: uses.map(([name, input]) => ({ type: 'tool_use' as const, name, input })), stop_reason: 'tool_use' };
}

const waiting = (r: Rig, after = 0) =>
  waitFor(r, 'session.status_idle', (e) => e.seq > after && e.payload.stop_reason.type === 'requires_action');
const ended = (r: Rig, after = 0) => waitFor(r, 'session.status_idle', (e) => e.seq > after && e.payload.stop_reason.type === 'end_turn');

function confirm(r: Rig, ...answers: Array<{ tool_use_id: string; result: 'allow' | 'deny'; deny_message?: string }>): void {
  r.store.emitEvents(
    r.sessionId,
    answers.map((payload) => ({ type: 'user.tool_confirmation' as const, payload })),
  );
}

/** The tool_result blocks of a request's last message, by tool_use_id. */
function resultsOf(request: RecordedRequest | undefined): Map<string, { is_error?: boolean; text: string }> {
  const last = request?.body.messages.at(-1);
  const out = new Map<string, { is_error?: boolean; text: string }>();
  if (!last || typeof last.content === 'string') return out;
  for (const block of last.content as Array<Record<string, unknown>>) {
    if (block['type'] !== 'tool_result') continue;
    const content = block['content'];
    const text = typeof content === 'string' ? content : JSON.stringify(content);
    out.set(block['tool_use_id'] as string, { ...(typeof block['is_error'] === 'boolean' ? { is_error: block['is_error'] } : {}), text });
  }
  return out;
}

describe('approvals', () => {
  it('an always_ask tool waits without running; a deny carries the user’s message to the model', async () => {
    const r = await rig(script(calls(['add', { a: 1, b: 2 }]), text('I will not add then.')));
    r.store.emitEvents(r.sessionId, [attach, askAll]);
    r.harness.send(r.sessionId, 'add 1 and 2');
    const stop = await waiting(r);
    const [use] = ofType(r, 'agent.tool_use');
    expect(use?.payload.evaluated_permission).toBe('ask');
    expect(stop.payload.stop_reason).toMatchObject({ type: 'requires_action', event_ids: [use?.id] });
    expect(r.hand.runs).toEqual([]);
    expect(ofType(r, 'agent.tool_result')).toEqual([]);
    expect(r.server.requests).toHaveLength(1);

    confirm(r, { tool_use_id: use!.payload.tool_use_id, result: 'deny', deny_message: 'Use multiply instead.' });
    await ended(r);
    expect(r.hand.runs).toEqual([]);
    const result = resultsOf(r.server.requests[1]).get(use!.payload.tool_use_id);
    expect(result?.is_error).toBe(true);
    expect(result?.text).toContain('Use multiply instead.');
  });

  it('an allowed call runs exactly once; several pending calls answered one by one stay requires_action until all are answered', async () => {
    const r = await rig(script(calls(['add', { a: 1, b: 2 }], ['multiply', { a: 3, b: 4 }]), text('Done.')));
    r.store.emitEvents(r.sessionId, [attach, askAll]);
    r.harness.send(r.sessionId, 'add and multiply');
    const first = await waiting(r);
    const [add, multiply] = ofType(r, 'agent.tool_use');
    expect(first.payload.stop_reason).toMatchObject({ event_ids: [add?.id, multiply?.id] });

    confirm(r, { tool_use_id: add!.payload.tool_use_id, result: 'allow' });
    const second = await waiting(r, first.seq);
    expect(second.payload.stop_reason).toMatchObject({ type: 'requires_action', event_ids: [multiply?.id] });
    expect(r.hand.runs.map((run) => run.name)).toEqual(['add']);
    const starts = ofType(r, 'span.tool_run_start');
    const addResult = ofType(r, 'agent.tool_result')[0];
    expect(starts.map((e) => e.payload.tool_use_id)).toEqual([add?.payload.tool_use_id]);
    expect(starts[0]!.seq).toBeLessThan(addResult!.seq);
    expect(r.server.requests).toHaveLength(1); // the model waits for every answer

    confirm(r, { tool_use_id: multiply!.payload.tool_use_id, result: 'allow' });
    await ended(r);
    expect(r.hand.runs.map((run) => run.name)).toEqual(['add', 'multiply']);
    const results = resultsOf(r.server.requests[1]);
    expect(results.get(add!.payload.tool_use_id)?.text).toContain('3');
    expect(results.get(multiply!.payload.tool_use_id)?.text).toContain('12');
    // Answered, run and continued: nothing waits, and another wake runs nothing again.
    await r.harness.wake(r.sessionId);
    expect(r.hand.runs).toHaveLength(2);
    expect(pendingApprovals(guardrailsOfSession(r.store, r.sessionId))).toEqual([]);
  });

  it('answers given together run together; an allowed tool of the same message runs at once, a policy deny is answered at once', async () => {
    const r = await rig(script(calls(['add', { a: 1, b: 1 }], ['multiply', { a: 2, b: 2 }], ['wait', { ms: 1 }]), text('Done.')));
    r.store.emitEvents(r.sessionId, [
      attach,
      askAll,
      { type: 'policy.set', payload: { hand: 'math', tool: 'add', policy: 'always_allow' } },
      { type: 'policy.set', payload: { hand: 'math', tool: 'wait', policy: 'deny' } },
    ]);
    r.harness.send(r.sessionId, 'go');
    const stop = await waiting(r);
    const [add, multiply, wait] = ofType(r, 'agent.tool_use');
    expect([add, multiply, wait].map((use) => use?.payload.evaluated_permission)).toEqual(['allow', 'ask', 'deny']);
    expect(stop.payload.stop_reason).toMatchObject({ event_ids: [multiply?.id] });
    expect(r.hand.runs.map((run) => run.name)).toEqual(['add']);
    const denied = ofType(r, 'agent.tool_result').find((e) => e.payload.tool_use_id === wait?.payload.tool_use_id);
    expect(denied?.payload.is_error).toBe(true);
    expect(denied?.payload.content[0]).toMatchObject({
      type: 'text',
      text: expect.stringMatching(/policy does not allow "wait" on "math"/),
    });

    confirm(r, { tool_use_id: multiply!.payload.tool_use_id, result: 'allow' });
    await ended(r);
    expect(r.hand.runs.map((run) => run.name)).toEqual(['add', 'multiply']);
    expect([...resultsOf(r.server.requests[1]).keys()].sort()).toEqual([add, multiply, wait].map((use) => use!.payload.tool_use_id).sort());
  });

  it('a message sent instead of an answer leaves the waiting call unrun and goes to the model with it', async () => {
    const r = await rig(script(calls(['add', { a: 1, b: 2 }]), text('Understood.')));
    r.store.emitEvents(r.sessionId, [attach, askAll]);
    r.harness.send(r.sessionId, 'add');
    const stop = await waiting(r);
    r.harness.send(r.sessionId, 'never mind');
    await ended(r, stop.seq);
    expect(r.hand.runs).toEqual([]);
    const [use] = ofType(r, 'agent.tool_use');
    expect(resultsOf(r.server.requests[1]).get(use!.payload.tool_use_id)?.text).toMatch(/sent a new message instead/);
  });
});

describe('budgets', () => {
  it('a 1-cent cap stops with budget_reached before the next request; raising it continues', async () => {
    const costly = { ...calls(['add', { a: 1, b: 2 }]), usage: { input_tokens: 10_000, output_tokens: 10 } };
    const r = await rig(script(costly, text('Three.')));
    r.store.emitEvent(r.sessionId, {
      type: 'session.budget_set',
      payload: { budget: { type: 'limit', max_list_cost: { amount: '1', currency: 'USD' } } },
    });
    r.harness.send(r.sessionId, 'add');
    const stop = await waitFor(r, 'session.status_idle');
    expect(stop.payload.stop_reason.type).toBe('budget_reached');
    expect(stop.payload.stop_reason.message).toMatch(/cost cap/);
    expect(r.server.requests).toHaveLength(1); // the request that crossed the cap finished and counted; none after it
    expect(r.hand.runs).toHaveLength(1);
    const usage = ofType(r, 'session.usage');
    expect(usage).toHaveLength(1);
    expect(usage[0]!.payload.list_cost_cents).toBeGreaterThan(1);
    // Waking again (a restart) starts nothing: the session waits for its budget to change.
    await r.harness.wake(r.sessionId);
    expect(r.server.requests).toHaveLength(1);

    r.store.emitEvent(r.sessionId, {
      type: 'session.budget_set',
      payload: { budget: { type: 'limit', max_list_cost: { amount: '50', currency: 'USD' } } },
    });
    await ended(r, stop.seq);
    expect(r.server.requests).toHaveLength(2);
    // The tool result held back by the stop goes to the model when it continues.
    const [use] = ofType(r, 'agent.tool_use');
    expect(resultsOf(r.server.requests[1]).get(use!.payload.tool_use_id)?.text).toContain('3');
    expect(ofType(r, 'session.usage')).toHaveLength(2);
  });
});

describe('grader calls and budgets', () => {
  it('a grader call counts (session.usage after it); a turn end its budget stopped before grading is graded once the cap is raised', async () => {
    const verdict: ScriptedMessage = {
      content: [
        {
          type: 'tool_use',
          name: VERDICT_TOOL,
          input: { criteria: [{ criterion: 'It says 5', met: true, note: 'It does.' }], verdict: 'satisfied', explanation: 'It says 5.' },
        },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 1000, output_tokens: 10 },
    };
    const r = await rig((request) => ({
      kind: 'message',
      message:
        request.body.tool_choice?.type === 'tool'
          ? verdict
          : { ...text('The sum is 5.'), usage: { input_tokens: 10_000, output_tokens: 10 } },
    }));
    r.store.emitEvents(r.sessionId, [
      { type: 'session.budget_set', payload: { budget: { type: 'limit', max_list_cost: { amount: '1', currency: 'USD' } } } },
      { type: 'user.define_outcome', payload: { description: 'Report 2 + 3.', rubric: '- It says 5.', max_iterations: 3 } },
    ]);
    r.harness.send(r.sessionId, 'what is 2 + 3?');
    const stop = await waitFor(r, 'session.status_idle');
    expect(stop.payload.stop_reason.type).toBe('budget_reached');
    expect(r.server.requests).toHaveLength(1); // the grader's request did not start past the cap
    await r.harness.wake(r.sessionId);
    expect(r.server.requests).toHaveLength(1);

    r.store.emitEvent(r.sessionId, {
      type: 'session.budget_set',
      payload: { budget: { type: 'limit', max_list_cost: { amount: '100', currency: 'USD' } } },
    });
    const ended = await waitFor(r, 'session.status_idle', (e) => e.seq > stop.seq);
    expect(ended.payload.stop_reason.type).toBe('end_turn');
    expect(r.server.requests.map((request) => request.body.tool_choice?.type === 'tool')).toEqual([false, true]);
    expect(ofType(r, 'span.outcome_evaluation_end').map((e) => e.payload.result)).toEqual(['satisfied']);
    const usage = ofType(r, 'session.usage').map((e) => e.payload.input_tokens);
    expect(usage).toEqual([10_000, 11_000]);
    expect(guardrailsOfSession(r.store, r.sessionId).usage.requests).toBe(2);
  });
});

describe('budget changes', () => {
  it('wake only a session its budget stopped: a fork taken mid-turn keeps waiting for the user', async () => {
    const r = await rig(script(calls(['wait', { ms: 10_000 }])));
    r.harness.send(r.sessionId, 'wait');
    const use = await waitFor(r, 'agent.tool_use');
    const fork = r.store.fork(r.sessionId, use.seq, { title: 'fork' });
    const before = r.store.getEvents(fork.id).length;
    r.store.emitEvent(fork.id, { type: 'session.budget_set', payload: { budget: { type: 'limit', max_tokens: 1_000_000 } } });
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.harness.isRunning(fork.id)).toBe(false);
    expect(r.store.getEvents(fork.id)).toHaveLength(before + 1);
    r.harness.interrupt(r.sessionId);
    await waitFor(r, 'session.status_idle');
  });
});

describe('forks', () => {
  it('a fork inherits the policies and the budget, and its tool calls ask', async () => {
    const r = await rig(script(calls(['add', { a: 1, b: 2 }])));
    const budget = { type: 'limit' as const, max_tokens: 1_000_000 };
    r.store.emitEvents(r.sessionId, [attach, askAll, { type: 'session.budget_set', payload: { budget } }]);
    const last = events(r).at(-1)!.seq;
    const fork = r.store.fork(r.sessionId, last, { title: 'fork' });
    const inherited = guardrailsOfSession(r.store, fork.id);
    expect([...inherited.policies.values()]).toEqual([{ hand: 'math', tool: null, policy: 'always_ask' }]);
    expect(inherited.budget).toEqual(budget);

    r.harness.send(fork.id, 'add in the fork');
    const stop = await new Promise<EventOf<'session.status_idle'>>((resolve) => {
      const off = r.store.subscribe(fork.id, (event) => {
        if (event.type === 'session.status_idle') {
          off();
          resolve(event);
        }
      });
    });
    expect(stop.payload.stop_reason.type).toBe('requires_action');
    expect(r.hand.runs).toEqual([]);
  });

  it('a fork or a rewind at a pending approval waits in the new branch; answered there, the call runs once, in that branch only', async () => {
    const r = await rig(script(calls(['add', { a: 2, b: 2 }]), text('Four.'), text('Four again.')));
    r.store.emitEvents(r.sessionId, [attach, askAll]);
    r.harness.send(r.sessionId, 'add');
    const stop = await waiting(r);
    const [use] = ofType(r, 'agent.tool_use');
    const id = use!.payload.tool_use_id;

    const idleOf = (sessionId: string) =>
      new Promise<EventOf<'session.status_idle'>>((resolve) => {
        const off = r.store.subscribe(sessionId, (event) => {
          if (event.type !== 'session.status_idle') return;
          off();
          resolve(event);
        });
      });
    for (const branch of [r.store.fork(r.sessionId, stop.seq, { title: 'fork' }), r.store.rewind(r.sessionId, stop.seq)]) {
      expect(pendingApprovals(guardrailsOfSession(r.store, branch.id)).map((record) => record.event.payload.tool_use_id)).toEqual([id]);
      const runs = r.hand.runs.length;
      const ended = idleOf(branch.id);
      r.store.emitEvent(branch.id, { type: 'user.tool_confirmation', payload: { tool_use_id: id, result: 'allow' } });
      expect((await ended).payload.stop_reason.type).toBe('end_turn');
      expect(r.hand.runs).toHaveLength(runs + 1);
    }
    // The original branch still waits: nothing ran there.
    expect(pendingApprovals(guardrailsOfSession(r.store, r.sessionId)).map((record) => record.event.payload.tool_use_id)).toEqual([id]);
    expect(ofType(r, 'agent.tool_result')).toEqual([]);
  });

  it('a call allowed before a fork point and not started in the fork is never run there: recorded as cut by the fork', async () => {
    const r = await rig(script(calls(['add', { a: 1, b: 1 }]), text('Two.'), text('Noted.')));
    r.store.emitEvents(r.sessionId, [attach, askAll]);
    r.harness.send(r.sessionId, 'add');
    const stop = await waiting(r);
    const [use] = ofType(r, 'agent.tool_use');
    confirm(r, { tool_use_id: use!.payload.tool_use_id, result: 'allow' });
    await ended(r, stop.seq);
    expect(r.hand.runs).toHaveLength(1);
    const [confirmation] = ofType(r, 'user.tool_confirmation');
    const fork = r.store.fork(r.sessionId, confirmation!.seq, { title: 'fork' });
    const forkIdle = new Promise<EventOf<'session.status_idle'>>((resolve) => {
      const off = r.store.subscribe(fork.id, (event) => {
        if (event.type !== 'session.status_idle') return;
        off();
        resolve(event);
      });
    });
    r.harness.send(fork.id, 'and in the fork?');
    expect((await forkIdle).payload.stop_reason.type).toBe('end_turn');
    expect(r.hand.runs).toHaveLength(1);
    const result = r.store.getEvents(fork.id, { types: ['agent.tool_result'] })[0];
    expect(result?.type === 'agent.tool_result' && result.payload).toMatchObject({ is_error: true, status: 'interrupted' });
    expect(JSON.stringify(result?.payload)).toMatch(/forked before this tool/);
  });
});
