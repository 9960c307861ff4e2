/**
 * The events and words the harness records for guardrails, built in one place so the wiring stays
 * small and every path says the same thing: the idle that waits for approvals, the idle of a
 * reached budget, the usage meter, and what the model reads when a tool was denied.
 * Pure: no I/O.
 */
import type { NewEvent } from '#shared/events';
import type { Spent } from '#shared/guardrails';
import type { ToolUseRecord } from '#services/harness/approvals';
import type { BudgetStop } from './budget.ts';

/** `session.status_idle` with `requires_action` naming the waiting tool use events (at least one). */
export function requiresActionIdle(waiting: readonly ToolUseRecord[]): NewEvent {
  if (waiting.length === 0) throw new RangeError('requires_action needs at least one waiting tool use');
  const count = waiting.length;
  return {
    type: 'session.status_idle',
    payload: {
      stop_reason: {
        type: 'requires_action',
        event_ids: waiting.map((record) => record.event.id),
        message: count === 1 ? 'A tool call waits for your approval.' : `${count} tool calls wait for your approval.`,
      },
    },
  };
}

/** `session.status_idle` with `budget_reached`, carrying the budget's words (which cap, what was used). */
export function budgetReachedIdle(stop: BudgetStop): NewEvent {
  return { type: 'session.status_idle', payload: { stop_reason: { type: 'budget_reached', message: stop.message } } };
}

/** `session.usage`: the cumulative figures after a model request. */
export function usageEvent(spent: Spent): NewEvent {
  return {
    type: 'session.usage',
    payload: {
      input_tokens: spent.input_tokens,
      output_tokens: spent.output_tokens,
      cache_read_input_tokens: spent.cache_read_input_tokens,
      cache_creation_input_tokens: spent.cache_creation_input_tokens,
      list_cost_cents: spent.list_cost_cents,
    },
  };
}

/** The error result the model reads for a tool call the user denied: their message, when they gave one. */
export function userDenialText(record: ToolUseRecord): string {
  const message = record.confirmation?.denyMessage?.trim();
  const base = 'The user denied this tool call; it was not run.';
  return message ? `${base} Their message: ${message}` : `${base} Ask them, or try another way.`;
}

/** The error result the model reads for a tool call the session's policy denies. */
export function policyDenialText(record: ToolUseRecord): string {
  const where = record.hand === null ? '' : ` on "${record.hand}"`;
  return `The session's policy does not allow "${record.event.payload.name}"${where}; it was not run. Do not retry it: use another tool or ask the user to change the policy.`;
}
