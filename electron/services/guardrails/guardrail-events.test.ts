import { describe, expect, it } from 'vitest';
import { NewEventSchema, type NewEvent } from '#shared/events';
import { confirmedToRun, deniedToAnswer, guardrailsOf, pendingApprovals, policyDenied, spentOf } from '#services/harness/approvals';
import { storedEvents } from '#test/support/event-log';
import { budgetReachedIdle, policyDenialText, requiresActionIdle, usageEvent, userDenialText } from './guardrail-events.ts';

const use = (id: string, permission: 'ask' | 'deny'): NewEvent => ({
  type: 'agent.tool_use',
  payload: { tool_use_id: id, name: 'laptop__bash', input: { command: 'make' }, hand_id: 'laptop', evaluated_permission: permission },
});
const valid = (event: NewEvent): boolean => NewEventSchema.safeParse(event).success;

describe('guardrail events', () => {
  it('requires_action names the waiting tool use events', () => {
    const view = storedEvents(use('t1', 'ask'), use('t2', 'ask'));
    const idle = requiresActionIdle(pendingApprovals(guardrailsOf(view)));
    expect(idle).toEqual({
      type: 'session.status_idle',
      payload: {
        stop_reason: { type: 'requires_action', event_ids: [view[0]?.id, view[1]?.id], message: '2 tool calls wait for your approval.' },
      },
    });
    expect(valid(idle)).toBe(true);
    expect(() => requiresActionIdle([])).toThrow(RangeError);
  });

  it('budget_reached carries the budget’s words', () => {
    const idle = budgetReachedIdle({ cap: 'list_cost', message: 'The session reached its budget.' });
    expect(idle).toEqual({
      type: 'session.status_idle',
      payload: { stop_reason: { type: 'budget_reached', message: 'The session reached its budget.' } },
    });
    expect(valid(idle)).toBe(true);
  });

  it('usage carries the cumulative figures', () => {
    const view = storedEvents({
      type: 'span.model_request_end',
      payload: {
        model: 'claude-sonnet-5-5',
        usage: { input_tokens: 5, output_tokens: 1000, cache_read_input_tokens: 7, cache_creation_input_tokens: 8 },
        stop_reason: 'end_turn',
        is_error: false,
        duration_ms: 1,
      },
    });
    const event = usageEvent(spentOf(guardrailsOf(view), 0));
    expect(event.payload).toMatchObject({
      input_tokens: 5,
      output_tokens: 1000,
      cache_read_input_tokens: 7,
      cache_creation_input_tokens: 8,
    });
    expect(valid(event)).toBe(true);
  });

  it('tells the model what the user said when denying, and what to do without a message', () => {
    const denied = deniedToAnswer(
      guardrailsOf(
        storedEvents(use('t1', 'ask'), {
          type: 'user.tool_confirmation',
          payload: { tool_use_id: 't1', result: 'deny', deny_message: ' Use make test. ' },
        }),
      ),
    );
    expect(denied.map(userDenialText)).toEqual(['The user denied this tool call; it was not run. Their message: Use make test.']);
    const silent = deniedToAnswer(
      guardrailsOf(storedEvents(use('t1', 'ask'), { type: 'user.tool_confirmation', payload: { tool_use_id: 't1', result: 'deny' } })),
    );
    expect(silent.map(userDenialText)).toEqual(['The user denied this tool call; it was not run. Ask them, or try another way.']);
    expect(confirmedToRun(guardrailsOf(storedEvents(use('t1', 'ask'))))).toEqual([]);
  });

  it('tells the model a policy denies a tool', () => {
    const denied = policyDenied(guardrailsOf(storedEvents(use('t1', 'deny'))));
    expect(denied.map(policyDenialText)).toEqual([
      'The session\'s policy does not allow "laptop__bash" on "laptop"; it was not run. Do not retry it: use another tool or ask the user to change the policy.',
    ]);
  });
});
