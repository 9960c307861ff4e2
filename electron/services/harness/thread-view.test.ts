// A thread's message in its view (issue 21): mail for its next request. It joins the running turn's next request,
// but it neither undoes an interrupt of that thread nor answers a call of that thread waiting for approval, and the
// turn's end does not drop it — whatever the order of the interrupt and the message in the log.
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '#shared/events';
import { storedEvents } from '#test/support/event-log';
import { needsResume, nextStep } from './state.ts';
import { ThreadsFold } from './thread-view.ts';

const T = 'sthr_waiter0001';
const created: NewEvent = {
  type: 'session.thread_created',
  payload: { session_thread_id: T, agent_name: 'waiter', task: 'Wait.', hands: [] },
};
const running: NewEvent = { type: 'session.thread_status_running', payload: { session_thread_id: T } };
const start: NewEvent = { type: 'span.model_request_start', payload: { model: 'm', session_thread_id: T } };
const end: NewEvent = {
  type: 'span.model_request_end',
  payload: {
    model: 'm',
    usage: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    stop_reason: 'tool_use',
    is_error: false,
    duration_ms: 0,
    session_thread_id: T,
  },
};
const use = (permission?: 'ask'): NewEvent => ({
  type: 'agent.tool_use',
  payload: {
    tool_use_id: 't1',
    name: 'wait',
    input: {},
    session_thread_id: T,
    ...(permission ? { evaluated_permission: permission } : {}),
  },
});
const result: NewEvent = {
  type: 'agent.tool_result',
  payload: { tool_use_id: 't1', content: [], is_error: true, status: 'interrupted', session_thread_id: T },
};
const interrupt: NewEvent = { type: 'user.interrupt', payload: { reason: 'stop', session_thread_id: T } };
const message: NewEvent[] = [
  { type: 'agent.thread_message_sent', payload: { to_thread_id: T, content: [{ type: 'text', text: 'Hurry up.' }] } },
  { type: 'agent.thread_message_received', payload: { session_thread_id: T, content: [{ type: 'text', text: 'Hurry up.' }] } },
];
const idle = (type: 'interrupted' | 'end_turn' | 'requires_action'): NewEvent => ({
  type: 'session.thread_status_idle',
  payload: {
    session_thread_id: T,
    stop_reason: type === 'requires_action' ? { type, event_ids: ['e'], message: 'Approve it.' } : { type },
  },
});
const userMessage: NewEvent = {
  type: 'user.message',
  payload: { content: [{ type: 'text', text: 'Stop waiting.' }], session_thread_id: T },
};

function thread(...events: NewEvent[]) {
  const fold = new ThreadsFold();
  for (const event of storedEvents(...events)) fold.apply(event);
  const state = fold.stateOf(T);
  if (!state) throw new Error('no thread');
  return state;
}

const midTool = [created, running, start, use(), end];

describe('a thread message in the thread’s view', () => {
  it('does not undo a pending interrupt: the turn ends interrupted, then the next turn answers the message', () => {
    for (const order of [
      [interrupt, ...message],
      [...message, interrupt],
    ]) {
      // The call is cut by the interrupt first (its result recorded interrupted), the message in between or before.
      expect(nextStep(thread(...midTool, ...order, result))).toEqual({ kind: 'finish', reason: 'interrupted' });
      const after = thread(...midTool, ...order, result, idle('interrupted'));
      expect(after.pendingInput).toBe(true);
      expect(nextStep(after)).toEqual({ kind: 'request', compact: false });
      expect(needsResume(after)).toBe(true);
      // Once sent, it is not pending any more.
      expect(nextStep(thread(...midTool, ...order, result, idle('interrupted'), running, start))).toEqual({ kind: 'close-request' });
      expect(thread(...midTool, ...order, result, idle('interrupted'), running, start).pendingInput).toBe(false);
    }
  });

  it('still joins the running turn’s next request when there is no interrupt', () => {
    expect(nextStep(thread(...midTool, ...message, { ...result, payload: { ...result.payload, status: undefined } }))).toEqual({
      kind: 'request',
      compact: false,
    });
  });

  it('does not answer a call waiting for approval: the call keeps waiting, the message waits with it', () => {
    const asked = [created, running, start, use('ask'), end];
    expect(nextStep(thread(...asked, ...message))).toEqual({ kind: 'await-approval' });
    const held = thread(...asked, idle('requires_action'), ...message);
    expect(nextStep(held)).toEqual({ kind: 'none' });
    expect(held.awaiting.has('t1')).toBe(true);
    // Answered: the call runs, and its result and the message go in the next request.
    const allowed: NewEvent = { type: 'user.tool_confirmation', payload: { tool_use_id: 't1', result: 'allow' } };
    expect(nextStep(thread(...asked, idle('requires_action'), ...message, allowed))).toMatchObject({ kind: 'tools' });
    // The user's own message still answers it as not run.
    expect(nextStep(thread(...asked, idle('requires_action'), ...message, userMessage))).toMatchObject({ kind: 'supersede-approvals' });
  });

  it('an interrupt of a thread that is idle with only a thread message pending stops nothing: the message is answered', () => {
    expect(
      nextStep(
        thread(
          created,
          running,
          start,
          { ...end, payload: { ...end.payload, stop_reason: 'end_turn' } },
          idle('end_turn'),
          ...message,
          interrupt,
        ),
      ),
    ).toEqual({
      kind: 'request',
      compact: false,
    });
  });

  it('the user’s message to a thread still clears its interrupt (as in a session of its own)', () => {
    expect(nextStep(thread(...midTool, interrupt, userMessage, result))).toEqual({ kind: 'request', compact: false });
  });
});
