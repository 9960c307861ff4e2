/**
 * A Drover event in the Managed Agents API's shape (`BetaManagedAgentsSessionEvent`): ids as the
 * service writes them (`sevt_` + the event's uuid), `processed_at` from its timestamp, payloads in
 * the service's fields. Tool uses are named by their EVENT id, as the service does: a tool result's
 * `tool_use_id`, a confirmation's `tool_use_id` and `requires_action.event_ids` all name the
 * `agent.tool_use` / `agent.mcp_tool_use` event.
 *
 * Drover's own events — `hand.*`, `policy.*`, `session.configured`, `session.custom_tools_set`,
 * `session.forked`, `session.budget_set`, `span.tool_run_start` — have no place in the service's union: the API
 * omits them from lists and streams (the cockpit shows them). Thinking is a progress signal only,
 * as in the service: its text never leaves through the API.
 */
import type {
  BetaManagedAgentsSessionErrorEvent,
  BetaManagedAgentsSessionEvent,
  BetaManagedAgentsSessionEventType,
  BetaManagedAgentsSessionStatusIdleEvent,
  BetaManagedAgentsSpanModelUsage,
} from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type { BetaManagedAgentsSessionUsageEvent } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import type { ContentBlock, EventType, StoredEvent, Usage } from '#shared/events';
import type { EventIndex } from './event-index.ts';
import { externalId } from './ids.ts';

/** Drover's event types the API shows (the rest are Drover's own: see above). */
export const API_VISIBLE_TYPES = [
  'user.message',
  'user.interrupt',
  'user.define_outcome',
  'user.tool_confirmation',
  'agent.message',
  'agent.thinking',
  'agent.tool_use',
  'agent.tool_result',
  'agent.mcp_tool_use',
  'agent.mcp_tool_result',
  'agent.thread_context_compacted',
  'session.status_running',
  'session.status_idle',
  'session.status_terminated',
  'session.error',
  'span.model_request_start',
  'span.model_request_end',
  'span.outcome_evaluation_start',
  'span.outcome_evaluation_end',
  'session.usage',
  'agent.custom_tool_use',
  'user.custom_tool_result',
  'system.message',
] as const satisfies readonly (EventType & BetaManagedAgentsSessionEventType)[];
export type ApiVisibleType = (typeof API_VISIBLE_TYPES)[number];
const VISIBLE = new Set<string>(API_VISIBLE_TYPES);

export function isApiVisible(type: EventType): type is ApiVisibleType {
  return VISIBLE.has(type);
}

/** Every type the service names (for `types[]`): Drover produces some of them, the others list nothing. */
export const SERVICE_EVENT_TYPES: readonly BetaManagedAgentsSessionEventType[] = [
  'user.message',
  'user.interrupt',
  'user.tool_confirmation',
  'user.custom_tool_result',
  'agent.custom_tool_use',
  'agent.message',
  'agent.thinking',
  'agent.mcp_tool_use',
  'agent.mcp_tool_result',
  'agent.tool_use',
  'agent.tool_result',
  'agent.thread_message_received',
  'agent.thread_message_sent',
  'agent.thread_context_compacted',
  'session.error',
  'session.status_rescheduled',
  'session.status_running',
  'session.status_idle',
  'session.status_terminated',
  'session.thread_created',
  'span.outcome_evaluation_start',
  'span.outcome_evaluation_end',
  'span.model_request_start',
  'span.model_request_end',
  'span.outcome_evaluation_ongoing',
  'user.define_outcome',
  'session.thread_status_running',
  'session.thread_status_idle',
  'session.thread_status_terminated',
  'user.tool_result',
  'session.thread_status_rescheduled',
  'session.updated',
  'system.message',
  'session.usage',
  'workflow_run.created',
  'workflow_run.status_running',
  'workflow_run.status_idle',
  'workflow_run.status_ended',
  'workflow_run.error',
  'workflow_run.phase_started',
  'workflow_run.phase_ended',
];

/** `outc_` + the `user.define_outcome` event's hex: the outcome's id, stable, with no table. */
export function outcomeId(defineEventUuid: string): string {
  return `outc_${defineEventUuid.replaceAll('-', '').toLowerCase()}`;
}

const eventId = (uuid: string): string => externalId('event', uuid);

function usageOf(usage: Usage): BetaManagedAgentsSpanModelUsage {
  return {
    input_tokens: usage.input_tokens,
    output_tokens: usage.output_tokens,
    cache_read_input_tokens: usage.cache_read_input_tokens,
    cache_creation_input_tokens: usage.cache_creation_input_tokens,
  };
}

/** Content blocks as the service writes them (Drover stores text and base64 images, the same shapes). */
function contentOf(content: readonly ContentBlock[]): ContentBlock[] {
  return content.map((block) =>
    block.type === 'text' ? { type: 'text', text: block.text } : { type: 'image', source: { ...block.source } },
  );
}

/** Drover's stop reasons in the service's closed set: what a client must do next is the same. */
export function stopReasonOf(
  stop: Extract<StoredEvent, { type: 'session.status_idle' }>['payload']['stop_reason'],
): Pick<BetaManagedAgentsSessionStatusIdleEvent, 'stop_reason' | 'stop_details'> {
  switch (stop.type) {
    case 'requires_action':
      return { stop_reason: { type: 'requires_action', event_ids: stop.event_ids.map(eventId) }, stop_details: null };
    case 'budget_reached':
      return { stop_reason: { type: 'budget_reached' }, stop_details: null };
    case 'refusal':
      return {
        stop_reason: { type: 'refusal' },
        stop_details: { type: 'refusal', category: null, explanation: stop.message ?? null },
      };
    case 'retries_exhausted':
    case 'authentication_failed':
    case 'error':
      // The turn is dead and the next user.message starts a new one: the service's retries_exhausted.
      return { stop_reason: { type: 'retries_exhausted' }, stop_details: null };
    default:
      // end_turn, max_tokens, pause_turn, stop_sequence, a full context window, an interrupt: the
      // turn ended and the session waits for the next message.
      return { stop_reason: { type: 'end_turn' }, stop_details: null };
  }
}

type SimpleErrorType = Extract<
  BetaManagedAgentsSessionErrorEvent['error'],
  { type: 'unknown_error' | 'model_overloaded_error' | 'model_rate_limited_error' | 'model_request_failed_error' | 'billing_error' }
>['type'];

const ERROR_TYPES: Partial<Record<string, SimpleErrorType>> = {
  overloaded_error: 'model_overloaded_error',
  rate_limit_error: 'model_rate_limited_error',
  billing_error: 'billing_error',
};

/**
 * The event in the service's shape, or null for Drover's own types (omitted from the API).
 * `index` must have folded the session's log up to the event (`index.ensure(event.seq)`).
 */
export function apiEventOf(event: StoredEvent, index: EventIndex): BetaManagedAgentsSessionEvent | null {
  const id = eventId(event.id);
  const processed_at = event.ts;
  const useEventOf = (toolUseId: string): string => {
    const uuid = index.toolUseEvent(toolUseId);
    // A result without its use (a damaged import): the model's id, so it still pairs with something.
    return uuid === null ? toolUseId : eventId(uuid);
  };
  switch (event.type) {
    case 'user.message':
      return { id, type: 'user.message', content: contentOf(event.payload.content), processed_at };
    case 'user.interrupt':
      return { id, type: 'user.interrupt', processed_at };
    case 'user.define_outcome':
      return {
        id,
        type: 'user.define_outcome',
        description: event.payload.description,
        rubric: { type: 'text', content: event.payload.rubric },
        max_iterations: event.payload.max_iterations,
        outcome_id: outcomeId(event.id),
        processed_at,
      };
    case 'user.tool_confirmation':
      return {
        id,
        type: 'user.tool_confirmation',
        tool_use_id: useEventOf(event.payload.tool_use_id),
        result: event.payload.result,
        ...(event.payload.deny_message === undefined ? {} : { deny_message: event.payload.deny_message }),
        processed_at,
      };
    case 'agent.message':
      return {
        id,
        type: 'agent.message',
        content: event.payload.content.map((block) => ({ type: 'text', text: block.text })),
        processed_at,
      };
    case 'agent.thinking':
      return { id, type: 'agent.thinking', processed_at };
    case 'agent.tool_use': {
      const permission = event.payload.evaluated_permission ?? 'allow';
      return {
        id,
        type: 'agent.tool_use',
        name: event.payload.name,
        input: event.payload.input,
        evaluated_permission: permission,
        ...(permission === 'deny' ? {} : { evaluation: { type: permission === 'ask' ? 'always_ask' : 'always_allow' } }),
        processed_at,
      };
    }
    case 'agent.tool_result':
      // A self-hosted worker's answer: the service shows the client's `user.tool_result` (the SDK's runner reads it as answered).
      if (index.answeredByWorker(event.payload.tool_use_id))
        return {
          id,
          type: 'user.tool_result',
          tool_use_id: useEventOf(event.payload.tool_use_id),
          content: contentOf(event.payload.content),
          is_error: event.payload.is_error,
          processed_at,
        };
      return {
        id,
        type: 'agent.tool_result',
        tool_use_id: useEventOf(event.payload.tool_use_id),
        content: contentOf(event.payload.content),
        is_error: event.payload.is_error,
        processed_at,
      };
    case 'agent.mcp_tool_use': {
      const permission = event.payload.evaluated_permission ?? 'allow';
      const prefix = `${event.payload.server_name}__`;
      return {
        id,
        type: 'agent.mcp_tool_use',
        mcp_server_name: event.payload.server_name,
        name: event.payload.name.startsWith(prefix) ? event.payload.name.slice(prefix.length) : event.payload.name,
        input: event.payload.input,
        evaluated_permission: permission,
        ...(permission === 'deny' ? {} : { evaluation: { type: permission === 'ask' ? 'always_ask' : 'always_allow' } }),
        processed_at,
      };
    }
    case 'agent.mcp_tool_result':
      return {
        id,
        type: 'agent.mcp_tool_result',
        mcp_tool_use_id: useEventOf(event.payload.tool_use_id),
        content: contentOf(event.payload.content),
        is_error: event.payload.is_error,
        processed_at,
      };
    case 'agent.thread_context_compacted':
      return { id, type: 'agent.thread_context_compacted', processed_at };
    case 'session.status_running':
      return { id, type: 'session.status_running', processed_at };
    case 'session.status_terminated':
      return { id, type: 'session.status_terminated', processed_at };
    case 'session.status_idle':
      return { id, type: 'session.status_idle', ...stopReasonOf(event.payload.stop_reason), processed_at };
    case 'session.error': {
      const { error, retry_status } = event.payload;
      return {
        id,
        type: 'session.error',
        error: {
          type: ERROR_TYPES[error.type] ?? (error.status === undefined ? 'unknown_error' : 'model_request_failed_error'),
          message: error.message,
          retry_status: { type: retry_status.type },
        },
        processed_at,
      };
    }
    case 'span.model_request_start':
      return { id, type: 'span.model_request_start', processed_at };
    case 'span.model_request_end': {
      const start = index.requestStartBefore(event.seq);
      return {
        id,
        type: 'span.model_request_end',
        is_error: event.payload.is_error,
        model_request_start_id: start === null ? '' : eventId(start),
        model_usage: usageOf(event.payload.usage),
        processed_at,
      };
    }
    case 'span.outcome_evaluation_start': {
      const outcome = index.outcomeBefore(event.seq);
      return {
        id,
        type: 'span.outcome_evaluation_start',
        // The service counts from 0; Drover's log from 1.
        iteration: event.payload.iteration - 1,
        outcome_id: outcome === null ? '' : outcomeId(outcome),
        processed_at,
      };
    }
    case 'span.outcome_evaluation_end': {
      const outcome = index.outcomeBefore(event.seq);
      const start = index.evaluationStartBefore(event.seq);
      return {
        id,
        type: 'span.outcome_evaluation_end',
        iteration: event.payload.iteration - 1,
        result: event.payload.result,
        explanation: event.payload.explanation,
        outcome_id: outcome === null ? '' : outcomeId(outcome),
        outcome_evaluation_start_id: start === null ? '' : eventId(start),
        usage: usageOf(index.evaluationUsageAt(event.seq)),
        processed_at,
      };
    }
    case 'session.usage':
      return usageEventOf(event, index);
    case 'agent.custom_tool_use':
      return { id, type: 'agent.custom_tool_use', name: event.payload.name, input: event.payload.input, processed_at };
    case 'user.custom_tool_result': {
      // Stored naming the call's event (its uuid): the service names it by the event's id too.
      const call = event.payload.custom_tool_use_id;
      return {
        id,
        type: 'user.custom_tool_result',
        custom_tool_use_id: call.startsWith('sevt_') ? call : eventId(call),
        content: contentOf(event.payload.content),
        is_error: event.payload.is_error,
        processed_at,
      };
    }
    case 'system.message':
      return {
        id,
        type: 'system.message',
        content: event.payload.content.map((block) => ({ type: 'text', text: block.text })),
        processed_at,
      };
    default:
      return null;
  }
}

function usageEventOf(event: Extract<StoredEvent, { type: 'session.usage' }>, index: EventIndex): BetaManagedAgentsSessionUsageEvent {
  const budget = index.budgetAt(event.seq);
  const cap = budget?.max_list_cost;
  return {
    id: eventId(event.id),
    type: 'session.usage',
    usage: {
      input_tokens: event.payload.input_tokens,
      output_tokens: event.payload.output_tokens,
      cache_read_input_tokens: event.payload.cache_read_input_tokens,
      // Whole cents, rounded up: the amount is an integer string, and a cap counts a started cent.
      list_cost: { amount: String(Math.ceil(event.payload.list_cost_cents)), currency: 'USD' },
    },
    // The service's budget is a cost cap; a Drover budget of tokens or time only has no such shape.
    budget: cap === undefined ? null : { type: 'limit', max_list_cost: { amount: cap.amount, currency: 'USD' } },
    processed_at: event.ts,
  };
}
