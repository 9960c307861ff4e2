/**
 * Custom tools (Managed Agents' `{type: 'custom'}` tools): tools the model may call that nothing
 * in Drover runs — the program driving the session runs them and answers each call with a
 * `user.custom_tool_result`. Like approvals, everything about them is derived from the log alone:
 * - `session.custom_tools_set` holds the session's definitions (the latest wins; forks inherit it);
 * - a call is an `agent.custom_tool_use`; it waits while no `user.custom_tool_result` names its
 *   event id, and the step ends idle with `requires_action` naming the waiting events (with any
 *   tool use that waits for approval), so a wake after a crash finds it waiting and never asks the
 *   model again;
 * - when the last waiting call of a turn is answered, the session wakes and the model receives the
 *   results as tool_result blocks; an answer that leaves others waiting re-records the idle with
 *   the rest (as Managed Agents does).
 * Calls the user cut short — an interrupt while they wait, a new message instead of an answer, an
 * interrupted response — are answered by Drover with an error `user.custom_tool_result` saying so,
 * so the model's conversation stays whole and a late answer from the program is refused.
 *
 * Pure: no I/O.
 */
import type { CustomTool, EventOf, NewEvent, StoredEvent } from '#shared/events';
import type { CustomToolResult } from '#shared/rpc';
import { AppError } from '#shared/errors';
import type { ToolSpec } from '#services/hands/hand';

export type CustomToolUseEvent = EventOf<'agent.custom_tool_use'>;

/** A custom tool call and whether it has its answer. */
export interface CustomCall {
  event: CustomToolUseEvent;
  /** Seq of the `user.custom_tool_result` that answered it; null while it waits. */
  answeredSeq: number | null;
}

/** The tool the model is offered for a custom tool definition. */
export function customToolSpec(tool: CustomTool): ToolSpec {
  const { properties, required, ...rest } = tool.input_schema;
  return {
    name: tool.name,
    description: tool.description,
    input_schema: {
      ...rest,
      type: 'object',
      ...(properties === null || properties === undefined ? {} : { properties }),
      ...(required === null || required === undefined ? {} : { required }),
    },
  };
}

/** Folds custom tool calls and their answers (mutating `calls`, keyed by the call's event id). */
export function applyCustomCallEvent(calls: Map<string, CustomCall>, event: StoredEvent): void {
  if (event.type === 'agent.custom_tool_use') calls.set(event.id, { event, answeredSeq: null });
  else if (event.type === 'user.custom_tool_result') {
    const call = calls.get(event.payload.custom_tool_use_id);
    if (call && call.answeredSeq === null) call.answeredSeq = event.seq;
  }
}

export function customCallsOf(events: Iterable<StoredEvent>): Map<string, CustomCall> {
  const calls = new Map<string, CustomCall>();
  for (const event of events) applyCustomCallEvent(calls, event);
  return calls;
}

/** Calls that wait for the program's result, in log order. */
export function waitingCustomCalls(calls: ReadonlyMap<string, CustomCall>): CustomCall[] {
  return [...calls.values()].filter((call) => call.answeredSeq === null).sort((a, b) => a.event.seq - b.event.seq);
}

/** The call an answer names: by its event id (as Managed Agents clients name it) or by the model's `tool_use_id`. */
function callNamed(calls: ReadonlyMap<string, CustomCall>, id: string): CustomCall | undefined {
  const direct = calls.get(id);
  if (direct) return direct;
  for (const call of calls.values()) if (call.event.payload.tool_use_id === id) return call;
  return undefined;
}

/**
 * Checks answers to custom tool calls against the log and returns the events that record them
 * (each naming the call's event id). Every problem is named at once: unknown calls, calls already
 * answered, calls answered twice in the request. Nothing is recorded when one is refused.
 */
export function customResultEvents(calls: ReadonlyMap<string, CustomCall>, results: readonly CustomToolResult[]): NewEvent[] {
  const unknown: string[] = [];
  const answered: string[] = [];
  const twice: string[] = [];
  const seen = new Set<string>();
  const events: NewEvent[] = [];
  for (const result of results) {
    const call = callNamed(calls, result.custom_tool_use_id);
    if (call === undefined) {
      unknown.push(result.custom_tool_use_id);
      continue;
    }
    const id = call.event.id;
    if (seen.has(id)) twice.push(result.custom_tool_use_id);
    seen.add(id);
    if (call.answeredSeq !== null) answered.push(`${result.custom_tool_use_id} (event #${call.answeredSeq})`);
    events.push({
      type: 'user.custom_tool_result',
      payload: { custom_tool_use_id: id, content: result.content, is_error: result.is_error },
    });
  }
  const problems: string[] = [];
  if (unknown.length > 0)
    problems.push(
      `this session has no custom tool call ${listed(unknown)} (it may be on another branch or session: answer the calls its last requires_action idle names)`,
    );
  if (answered.length > 0)
    problems.push(`${listed(answered)} already ${answered.length === 1 ? 'has its' : 'have their'} result; an answer cannot be changed`);
  if (twice.length > 0)
    problems.push(`${listed(twice)} ${twice.length === 1 ? 'is' : 'are'} answered twice in this request: answer each call once`);
  if (problems.length > 0) {
    const issues = [...unknown, ...answered, ...twice].map((id) => ({ path: 'results', message: id }));
    throw new AppError('invalid-argument', `Nothing was recorded: ${problems.join('; ')}.`, { issues });
  }
  return events;
}

function listed(ids: readonly string[]): string {
  return ids.map((id) => `"${id}"`).join(', ');
}

/** Why Drover answered a call the program never did. */
export type CustomCancel = 'interrupted' | 'superseded' | 'response-interrupted' | 'bad-input';

const CANCEL_TEXT: Record<Exclude<CustomCancel, 'bad-input'>, string> = {
  interrupted: 'Cancelled: the user interrupted the session while this custom tool call waited for its result. It was not run.',
  superseded:
    'Cancelled: the user sent a new message instead of waiting for this custom tool call’s result. It was not run. Read their message; call the tool again if you still need it.',
  'response-interrupted': 'Not run: the user interrupted the response before this custom tool call was handed to the program.',
};

/** The error answer Drover records for a custom call the program will not answer. */
export function cancelledCustomResult(eventId: string, why: CustomCancel, detail?: string): NewEvent {
  const text =
    why === 'bad-input'
      ? `The tool was not called: ${detail ?? 'its input was not valid JSON'}. Send a JSON object that matches the tool's input schema.`
      : CANCEL_TEXT[why];
  return { type: 'user.custom_tool_result', payload: { custom_tool_use_id: eventId, content: [{ type: 'text', text }], is_error: true } };
}

/**
 * The idle that ends a step whose open calls all wait for someone: the user's approval (tool use
 * events) and the program's results (custom tool use events), by event id in log order.
 */
export function requiresActionIdle(approvals: readonly StoredEvent[], custom: readonly CustomToolUseEvent[]): NewEvent | null {
  const waiting = [...approvals, ...custom].sort((a, b) => a.seq - b.seq);
  if (waiting.length === 0) return null;
  const parts: string[] = [];
  if (approvals.length > 0)
    parts.push(approvals.length === 1 ? 'A tool call waits for your approval.' : `${approvals.length} tool calls wait for your approval.`);
  if (custom.length > 0) {
    const names = [...new Set(custom.map((use) => use.payload.name))].join(', ');
    parts.push(
      custom.length === 1
        ? `A custom tool call (${names}) waits for your program's result.`
        : `${custom.length} custom tool calls (${names}) wait for your program's results.`,
    );
  }
  return {
    type: 'session.status_idle',
    payload: { stop_reason: { type: 'requires_action', event_ids: waiting.map((event) => event.id), message: parts.join(' ') } },
  };
}

/** The system prompt's extra blocks: every `system.message` of the view, in order. */
export function systemMessageTexts(events: readonly StoredEvent[]): string[] {
  const texts: string[] = [];
  for (const event of events)
    if (event.type === 'system.message') for (const block of event.payload.content) if (block.text.trim() !== '') texts.push(block.text);
  return texts;
}
