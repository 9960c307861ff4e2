import { describe, expect, it } from 'vitest';
import { storedEvents } from '#test/support/event-log';
import type { NewEvent } from '#shared/events';
import { MAX_CONTINUATIONS, needsResume, nextStep, stateOf } from './state.ts';

const log = storedEvents;

const user: NewEvent = { type: 'user.message', payload: { content: [{ type: 'text', text: 'hi' }] } };
const running: NewEvent = { type: 'session.status_running', payload: {} };
const start: NewEvent = { type: 'span.model_request_start', payload: { model: 'm' } };
const end = (stop: string | null, isError = false): NewEvent => ({
  type: 'span.model_request_end',
  payload: {
    model: 'm',
    usage: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    stop_reason: stop,
    is_error: isError,
    duration_ms: 0,
  },
});
const use: NewEvent = { type: 'agent.tool_use', payload: { tool_use_id: 't1', name: 'add', input: {} } };
const result: NewEvent = { type: 'agent.tool_result', payload: { tool_use_id: 't1', content: [], is_error: false } };
const idle: NewEvent = { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } };
const retrying: NewEvent = {
  type: 'session.error',
  payload: { error: { type: 'overloaded_error', message: '' }, retry_status: { type: 'retrying', attempt: 2, delay_ms: 10 } },
};

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
    expect(next(user, running, start, use, end('tool_use'))).toMatchObject({
      kind: 'tools',
      toolUses: [{ payload: { tool_use_id: 't1' } }],
    });
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
    const compactionEnd: NewEvent = {
      type: 'span.model_request_end',
      payload: { ...(end('end_turn').payload as object), purpose: 'compaction' } as never,
    };
    expect(next(user, running, compactionStart, compactionEnd)).toEqual({ kind: 'request', compact: false });
  });
});

describe('outcomes', () => {
  const define = (max = 3): NewEvent => ({ type: 'user.define_outcome', payload: { description: 'sum', max_iterations: max } });
  const evalStart = (iteration: number): NewEvent => ({ type: 'span.outcome_evaluation_start', payload: { iteration } });
  const evalEnd = (
    iteration: number,
    result: 'needs_revision' | 'satisfied' | 'max_iterations_reached' | 'failed' | 'interrupted',
  ): NewEvent => ({
    type: 'span.outcome_evaluation_end',
    payload: { iteration, result, explanation: 'why' },
  });
  const gradeStart: NewEvent = { type: 'span.model_request_start', payload: { model: 'm', purpose: 'grading' } };
  const gradeEnd: NewEvent = {
    type: 'span.model_request_end',
    payload: { ...(end('tool_use').payload as object), purpose: 'grading' } as never,
  };
  const turn: NewEvent[] = [start, end('end_turn')];
  const interrupt: NewEvent = { type: 'user.interrupt', payload: {} };

  it('grades a turn that ended with end_turn, and only then', () => {
    expect(next(define(), user, running, ...turn)).toEqual({ kind: 'grade', iteration: 1, resume: false });
    expect(next(user, running, ...turn)).toEqual({ kind: 'finish', reason: 'end_turn' });
    expect(next(define(), user, running, start, use, end('tool_use'))).toMatchObject({ kind: 'tools' });
    expect(next(define(), user, running, start, end('refusal'))).toEqual({ kind: 'finish', reason: 'refusal' });
    // Defined while idle: nothing runs until the next message.
    expect(next(user, running, ...turn, idle, define())).toEqual({ kind: 'none' });
  });

  it('feeds needs_revision back as a model request, and numbers the next check after it', () => {
    const first = [define(), user, running, ...turn, evalStart(1), gradeStart, gradeEnd, evalEnd(1, 'needs_revision')];
    expect(next(...first)).toEqual({ kind: 'request', compact: false });
    expect(next(...first, ...turn)).toEqual({ kind: 'grade', iteration: 2, resume: false });
  });

  it('ends the turn once satisfied or out of iterations, and grades no later turn of that outcome', () => {
    for (const result of ['satisfied', 'max_iterations_reached'] as const) {
      const settled = [define(), user, running, ...turn, evalStart(1), gradeStart, gradeEnd, evalEnd(1, result)];
      expect(next(...settled)).toEqual({ kind: 'finish', reason: 'end_turn' });
      expect(next(...settled, idle, user, running, ...turn)).toEqual({ kind: 'finish', reason: 'end_turn' });
      // A new definition starts over at iteration 1.
      expect(next(...settled, idle, define(), user, running, ...turn)).toEqual({ kind: 'grade', iteration: 1, resume: false });
    }
  });

  it('keeps a failed or interrupted outcome open for the next turn end, counting the evaluation', () => {
    const failed = [define(), user, running, ...turn, evalStart(1), gradeStart, gradeEnd, evalEnd(1, 'failed')];
    expect(next(...failed)).toEqual({ kind: 'finish', reason: 'end_turn' });
    expect(next(...failed, idle, user, running, ...turn)).toEqual({ kind: 'grade', iteration: 2, resume: false });
  });

  it('resumes an evaluation cut by a crash under the same iteration, after closing its request', () => {
    const cut = [define(), user, running, ...turn, evalStart(1), gradeStart];
    expect(next(...cut)).toEqual({ kind: 'close-request' });
    expect(next(...cut, gradeEnd)).toEqual({ kind: 'grade', iteration: 1, resume: true });
    // Cut before the grader request started (e.g. while the verification command ran).
    expect(next(define(), user, running, ...turn, evalStart(1))).toEqual({ kind: 'grade', iteration: 1, resume: true });
  });

  it('retries a grader request the log says is being retried, as the same evaluation', () => {
    const state = stateOf(log(define(), user, running, ...turn, evalStart(1), gradeStart, end(null, true), retrying));
    expect(nextStep(state)).toEqual({ kind: 'grade', iteration: 1, resume: true });
    // The retry bookkeeping ends with the evaluation: no turn request is due afterwards.
    const after = stateOf(
      log(
        define(),
        user,
        running,
        ...turn,
        evalStart(1),
        gradeStart,
        gradeEnd,
        retrying,
        evalStart(1),
        gradeStart,
        gradeEnd,
        evalEnd(1, 'satisfied'),
      ),
    );
    expect(after.retryDue).toBe(false);
    expect(nextStep(after)).toEqual({ kind: 'finish', reason: 'end_turn' });
  });

  it('closes an evaluation the user interrupted (also across a crash) when it stops the turn', () => {
    expect(next(define(), user, running, ...turn, evalStart(1), gradeStart, interrupt)).toEqual({ kind: 'close-request' });
    expect(next(define(), user, running, ...turn, evalStart(2), interrupt)).toEqual({
      kind: 'finish',
      reason: 'interrupted',
      closeEvaluation: 2,
    });
    expect(next(define(), user, running, ...turn, evalStart(1), gradeStart, gradeEnd, evalEnd(1, 'interrupted'), interrupt)).toEqual({
      kind: 'finish',
      reason: 'interrupted',
    });
  });

  it('counts evaluations per definition: a redefinition resets them and an idle abandons an open one', () => {
    const state = stateOf(
      log(define(), user, running, ...turn, evalStart(1), evalEnd(1, 'needs_revision'), ...turn, evalStart(2), define(5)),
    );
    expect(state.outcome).toMatchObject({ finished: 0, evaluating: null, last: null, definition: { max_iterations: 5 } });
    const abandoned = stateOf(log(define(), user, running, ...turn, evalStart(1), idle));
    expect(abandoned.outcome).toMatchObject({ finished: 0, evaluating: null });
    expect(nextStep(abandoned)).toEqual({ kind: 'none' });
  });
});

describe('needsResume (what a start-up wakes, from the log alone)', () => {
  const resume = (...events: NewEvent[]) => needsResume(stateOf(log(...events)));
  const forked: NewEvent = { type: 'session.forked', payload: { parent_session_id: '00000000-0000-4000-8000-000000000000', at_seq: 1 } };
  const interrupt: NewEvent = { type: 'user.interrupt', payload: {} };
  const terminated: NewEvent = { type: 'session.status_terminated', payload: { reason: 'deleted' } };

  it('wakes a turn cut by a crash and a message never answered, also after an earlier turn', () => {
    expect(resume(user, running, start)).toBe(true);
    expect(resume(user)).toBe(true);
    expect(resume(user, running, start, end('end_turn'), idle, user)).toBe(true);
  });

  it('leaves alone what needs no one: nothing, an idle session, an interrupt after idle, a terminated session', () => {
    expect(resume()).toBe(false);
    expect(resume(user, running, start, end('end_turn'), idle)).toBe(false);
    expect(resume(user, running, start, end('end_turn'), idle, interrupt)).toBe(false);
    expect(resume(user, running, terminated, user)).toBe(false);
  });

  it('lets a fork wait for its user until they act on it', () => {
    expect(resume(user, forked)).toBe(false);
    expect(resume(user, running, start, forked)).toBe(false);
    expect(resume(user, forked, user)).toBe(true);
    expect(resume(user, running, forked, interrupt)).toBe(true);
  });
});

describe('guardrails in the fold', () => {
  const ask: NewEvent = { type: 'agent.tool_use', payload: { tool_use_id: 't1', name: 'add', input: {}, evaluated_permission: 'ask' } };
  const allow = (id = 't1'): NewEvent => ({ type: 'user.tool_confirmation', payload: { tool_use_id: id, result: 'allow' } });
  const waiting: NewEvent = { type: 'session.status_idle', payload: { stop_reason: { type: 'requires_action', event_ids: ['e1'] } } };
  const budgetStop: NewEvent = { type: 'session.status_idle', payload: { stop_reason: { type: 'budget_reached', message: 'cap' } } };
  const budget: NewEvent = { type: 'session.budget_set', payload: { budget: null } };

  it('a tool use that asked is neither run nor cut until answered: the step ends with requires_action, then nothing', () => {
    expect(next(user, running, start, ask, end('tool_use'))).toEqual({ kind: 'await-approval' });
    expect(next(user, running, start, ask, end('tool_use'), waiting)).toEqual({ kind: 'none' });
    expect(needsResume(stateOf(log(user, running, start, ask, end('tool_use'), waiting)))).toBe(false);
    expect(next(user, running, start, ask, end('tool_use'), waiting, allow())).toMatchObject({
      kind: 'tools',
      toolUses: [{ payload: { tool_use_id: 't1' } }],
    });
    expect(next(user, running, start, ask, end('tool_use'), waiting, user)).toMatchObject({
      kind: 'supersede-approvals',
      toolUses: [{ payload: { tool_use_id: 't1' } }],
    });
  });

  it('an allow from an imported file answers nothing', () => {
    const imported = stateOf(log(user, running, start, ask, end('tool_use'), waiting, allow()), { ...stateOf([]), importedSeq: 7 });
    expect(nextStep(imported)).toEqual({ kind: 'none' });
  });

  it('a budget stop keeps what was pending until the budget changes or the user sends a message; a restart does not resume it', () => {
    const stopped = [user, running, start, use, end('tool_use'), result, budgetStop];
    expect(next(...stopped)).toEqual({ kind: 'none' });
    expect(needsResume(stateOf(log(...stopped)))).toBe(false);
    expect(next(...stopped, budget)).toEqual({ kind: 'request', compact: false });
    expect(next(...stopped, user)).toEqual({ kind: 'request', compact: false });
    // Any other idle ends the turn as before: what was pending waits for the next message.
    expect(next(user, running, start, use, end('tool_use'), result, idle, budget)).toEqual({ kind: 'none' });
  });
});

describe('custom tool calls', () => {
  const custom = (id: string): NewEvent => ({ type: 'agent.custom_tool_use', payload: { tool_use_id: id, name: 'lookup', input: {} } });
  const waitingIdle: NewEvent = { type: 'session.status_idle', payload: { stop_reason: { type: 'requires_action', event_ids: ['x'] } } };
  /** The log with answers naming the calls' event ids (which only exist once stored). */
  function withAnswers(events: NewEvent[], answered: number[], after: NewEvent[] = []) {
    const stored = log(...events);
    const answers = log(
      ...answered.map((index): NewEvent => ({
        type: 'user.custom_tool_result',
        payload: { custom_tool_use_id: stored[index]!.id, content: [], is_error: false },
      })),
      ...after,
    ).map((event, i) => ({ ...event, seq: stored.length + i + 1 }));
    return stateOf([...stored, ...answers]);
  }
  const turn = [user, running, start, custom('c1'), custom('c2'), end('tool_use')];

  it('waits for every call: requires_action while running, nothing once idle; an answer that leaves one re-idles; the last asks the model', () => {
    expect(next(...turn)).toEqual({ kind: 'await-approval' });
    expect(next(...turn, waitingIdle)).toEqual({ kind: 'none' });
    expect(nextStep(withAnswers([...turn, waitingIdle], [4]))).toEqual({ kind: 'await-approval' });
    expect(nextStep(withAnswers([...turn, waitingIdle], [4], [waitingIdle]))).toEqual({ kind: 'none' });
    const both = withAnswers([...turn, waitingIdle], [4, 3]);
    expect(nextStep(both)).toEqual({ kind: 'request', compact: false });
    expect(needsResume(both)).toBe(true); // answered, never sent: the next start sends it
    expect(needsResume(stateOf(log(...turn, waitingIdle)))).toBe(false);
  });

  it('an interrupt cancels the waiting calls; a message instead supersedes them', () => {
    const interrupt: NewEvent = { type: 'user.interrupt', payload: {} };
    const cancelled = nextStep(stateOf(log(...turn, waitingIdle, interrupt)));
    expect(cancelled.kind).toBe('cancel-custom');
    expect(cancelled.kind === 'cancel-custom' && cancelled.customUses.map((use) => use.payload.tool_use_id)).toEqual(['c1', 'c2']);
    const superseded = nextStep(stateOf(log(...turn, waitingIdle, user)));
    expect(superseded.kind === 'supersede-approvals' && superseded.customUses.map((use) => use.payload.tool_use_id)).toEqual(['c1', 'c2']);
    // A hand tool of the same response runs first, whatever waits.
    expect(next(user, running, start, custom('c1'), use, end('tool_use')).kind).toBe('tools');
  });
});
