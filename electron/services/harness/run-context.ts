/**
 * What the parts of one wake share (session-run.ts drives; tool-run.ts, outcome-run.ts and
 * retry.ts act through it): the run as they see it (`RunContext`), and the events they all record
 * — idle, the end of a model request, a tool result, the end of an outcome evaluation.
 *
 * The context is the run's own view of the log, kept current by its subscription; a part reads
 * it afresh each time and keeps no copy. A part must never hold session state of its own between
 * wakes, and never append except through `emit` / `emitEndingTurn`.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { LiveUpdate } from '#shared/harness';
import type { NewEvent, OutcomeResult, SessionSettings, StoredEvent, Usage } from '#shared/events';
import type { SessionStore } from '#services/session/store';
import type { ContextView } from './context.ts';
import type { Criterion, VerificationRun } from './grader.ts';
import type { HarnessOptions } from './harness.ts';
import type { RetryPolicy } from './retry.ts';
import { MAX_CONTINUATIONS, type IdleReason, type SessionState, type ToolUseEvent } from './state.ts';

export const NO_KEY_MESSAGE =
  'No Anthropic API key is set, so nothing was sent to Claude. Add your key in Settings → Credentials (where this machine has a keyring to keep it), or set ANTHROPIC_API_KEY and restart Drover; then send your message again.';

/**
 * The request that will carry a step's last tool result (see `ToolRun`): sent first, then the result
 * and the request's start span committed together while it is on its way.
 */
export interface PreparedRequest {
  /** The tool result, then the request's start span: one commit. */
  commit: [NewEvent, NewEvent];
  /** The seq of the last event of the run's view it was built from (anything after it makes the view stale). */
  builtAfter: number;
  model: string;
  view: ContextView;
}

/** What a wake does with an open tool use (guardrails-run.ts decides). */
export type ToolUseFate =
  /** Run it: allowed when this run stored it, or approved by the user and never started (`confirmed`: record its run start first). */
  | { kind: 'run'; confirmed: boolean }
  /** Answer it with an error result at once, without running it. */
  | { kind: 'answer'; event: NewEvent }
  /** It may have run (started, stored by an earlier process, or allowed before a fork point): recorded interrupted, never run again. */
  | { kind: 'lost' };

/** The guardrails of a wake as its parts use them (`GuardrailsRun` in guardrails-run.ts). */
export interface RunGuardrails {
  /** What to do with an open tool use (`own`: this run stored it, so it has certainly not started). */
  fate(use: ToolUseEvent, own: boolean): ToolUseFate;
  /** The events that stop the session before a model request to `model`, or null when it may start. */
  budgetStop(model: string): NewEvent[] | null;
}

/** One wake of one session, as its parts see it. */
export interface RunContext {
  readonly sessionId: string;
  readonly store: SessionStore;
  readonly options: HarnessOptions;
  readonly retry: RetryPolicy;
  /** The log from the latest compaction on, and its fold: both follow every append. */
  readonly events: readonly StoredEvent[];
  readonly state: SessionState;
  /** The session's guardrails (policies, approvals, budget), folded from its whole log and kept current. */
  readonly guard: RunGuardrails;
  readonly settings: SessionSettings;
  /** The current step's signal: aborts when the user interrupts. */
  readonly signal: AbortSignal;
  /** The harness is closing: record nothing more (as a crash would). */
  readonly stopping: boolean;
  /** The request to send with the step's last tool result (its commit follows the send). */
  prepared: PreparedRequest | null;
  /** The SDK client for `key`. */
  client(key: string): Anthropic;
  emit(...events: NewEvent[]): void;
  /** `emit`, with the idle that ends the turn in the same commit when the turn ends there. */
  emitEndingTurn(...events: NewEvent[]): void;
  /** Pushes a live (never stored) update to the UI. */
  live(update: LiveUpdate): void;
}

export function idle(reason: IdleReason, message?: string): NewEvent {
  return { type: 'session.status_idle', payload: { stop_reason: message === undefined ? { type: reason } : { type: reason, message } } };
}

export function spanEnd(
  model: string,
  purpose: 'turn' | 'compaction' | 'grading',
  usage: Usage,
  stopReason: string | null,
  isError: boolean,
  durationMs: number,
): NewEvent {
  return {
    type: 'span.model_request_end',
    payload: { model, purpose, usage, stop_reason: stopReason, is_error: isError, duration_ms: Math.max(0, durationMs) },
  };
}

export function toolResult(
  toolUseId: string,
  text: string,
  isError: boolean,
  status: 'completed' | 'interrupted' = 'completed',
  mcp = false,
): NewEvent {
  const payload = { tool_use_id: toolUseId, content: [{ type: 'text' as const, text }], is_error: isError, status };
  return mcp ? { type: 'agent.mcp_tool_result', payload } : { type: 'agent.tool_result', payload };
}

export function evaluationEnd(
  iteration: number,
  result: OutcomeResult,
  explanation: string,
  extra: { criteria?: Criterion[]; verification?: VerificationRun } = {},
): NewEvent {
  return { type: 'span.outcome_evaluation_end', payload: { iteration, result, explanation, ...extra } };
}

export function zeroUsage(): Usage {
  return { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
}

/** What the idle that ends a turn with `reason` tells the user (undefined: nothing to add). */
export function finishMessage(reason: IdleReason, settings: SessionSettings): string | undefined {
  switch (reason) {
    case 'interrupted':
      return 'Stopped by the user.';
    case 'max_tokens':
      return `Claude hit the output limit (${settings.max_tokens} tokens) ${MAX_CONTINUATIONS} times in a row. Raise max tokens in the session settings, or ask for a shorter answer.`;
    case 'pause_turn':
      return `Claude paused its turn ${MAX_CONTINUATIONS} times in a row. Send a message to let it continue.`;
    case 'refusal':
      return 'Claude declined to continue with this request.';
    case 'model_context_window_exceeded':
      return 'The conversation no longer fits the model’s context window, even after compaction. Fork from an earlier event, or start a new session with a summary.';
    default:
      return undefined;
  }
}
