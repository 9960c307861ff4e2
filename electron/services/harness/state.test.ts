import { describe, expect, it } from 'vitest';
import { storedEvents } from '#test/support/event-log';
import type { NewEvent } from '#shared/events';
import { MAX_CONTINUATIONS, nextStep, stateOf } from './state.ts';

const log = storedEvents;

const user: NewEvent = { type: 'user.message', payload: { content: [{ type: 'text', text: 'hi' }] } };
const running: NewEvent = { type: 'session.status_running', payload: {} };
const start: NewEvent = { type: 'span.model_request_start', payload: { model: 'm' } };
const end = (stop: string | null, isError = false): NewEvent => ({
  type: 'span.model_request_end',
  payload: { model: 'm', usage: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 }, stop_reason: stop, is_error: isError, duration_ms: 0 },
});
const use: NewEvent = { type: 'agent.tool_use', payload: { tool_use_id: 't1', name: 'add', input: {} } };
const result: NewEvent = { type: 'agent.tool_result', payload: { tool_use_id: 't1', content: [], is_error: false } };
const idle: NewEvent = { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } };
const retrying: NewEvent = { type: 'session.error', payload: { error: { type: 'overloaded_error', message: '' }, retry_status: { type: 'retrying', attempt: 2, delay_ms: 10 } } };

const next = (...events: NewEvent[]) => nextStep(stateOf(log(...events)));

describe('nextStep', () => {
  it('does nothing for an empty or idle session, and answers a new message', () => {
    expect(next()).toEqual({ kind: 'none' });
    expect(next(user, running, start, end('end_turn'), idle)).toEqual({ kind: 'none' });
    expect(next(user)).toEqual({ kind: 'request', compact: false });
    expect(next(user, running, start, end('end_turn'), idle, user)).toEqual({ kind: 'request', compact: false });
  });

  it('closes a request cut by a crash before anything else', () => {
    expect(next(user, running, start)).toEqual({ kind: 'close-request' });
  });

  it('runs open tool uses, then asks the model again', () => {
    expect(next(user, running, start, use, end('tool_use'))).toMatchObject({ kind: 'tools', toolUses: [{ payload: { tool_use_id: 't1' } }] });
    expect(next(user, running, start, use, end('tool_use'), result)).toEqual({ kind: 'request', compact: false });
  });

  it('ends the turn with the model’s stop reason', () => {
    for (const stop of ['end_turn', 'stop_sequence', 'refusal'] as const) {
      expect(next(user, running, start, end(stop))).toEqual({ kind: 'finish', reason: stop });
    }
  });

  it('continues after max_tokens a bounded number of times', () => {
    const cut: NewEvent[] = [];
    for (let i = 0; i < MAX_CONTINUATIONS - 1; i++) cut.push(start, end('max_tokens'));
    expect(next(user, running, ...cut)).toEqual({ kind: 'request', compact: false });
    expect(next(user, running, ...cut, start, end('max_tokens'))).toEqual({ kind: 'finish', reason: 'max_tokens' });
  });

  it('compacts after model_context_window_exceeded', () => {
    expect(next(user, running, start, end('model_context_window_exceeded'))).toEqual({ kind: 'request', compact: true });
  });

  it('retries a failed request the log says is being retried', () => {
    const state = stateOf(log(user, running, start, end(null, true), retrying));
    expect(state.retryAttempts).toBe(2);
    expect(nextStep(state)).toEqual({ kind: 'request', compact: false });
  });

  it('stops a running turn that was interrupted, and ignores an interrupt while idle', () => {
    const interrupt: NewEvent = { type: 'user.interrupt', payload: {} };
    expect(next(user, running, start, use, end('tool_use'), result, interrupt)).toEqual({ kind: 'finish', reason: 'interrupted' });
    expect(next(user, running, start, end('end_turn'), idle, interrupt)).toEqual({ kind: 'none' });
    expect(next(user, running, interrupt, idle, user)).toEqual({ kind: 'request', compact: false });
  });

  it('never wakes a terminated session', () => {
    expect(next(user, { type: 'session.status_terminated', payload: { reason: 'deleted' } }, user)).toEqual({ kind: 'none' });
  });

  it('ignores compaction and grading requests when reading the conversation', () => {
    const compactionStart: NewEvent = { type: 'span.model_request_start', payload: { model: 'm', purpose: 'compaction' } };
    const compactionEnd: NewEvent = { type: 'span.model_request_end', payload: { ...(end('end_turn').payload as object), purpose: 'compaction' } as never };
    expect(next(user, running, compactionStart, compactionEnd)).toEqual({ kind: 'request', compact: false });
  });
});
