/**
 * Where a session stands, read from its log alone, and what the brain must do next. This is what
 * makes the harness stateless: every decision — after a normal step or after a crash — comes from
 * folding the events, never from memory of an earlier wake.
 *
 * Pure: no I/O, no clock.
 */
import type { CustomTool, EventOf, IdleStopReason, OutcomeDefinition, OutcomeResult, SessionSettings, StoredEvent } from '#shared/events';
import type { CustomToolUseEvent } from './custom-tools.ts';

/** Continuing a response cut by max_tokens / pause_turn more often than this ends the turn. */
export const MAX_CONTINUATIONS = 4;

/** Stop reasons after which the brain carries on by itself (bounded by MAX_CONTINUATIONS). */
const CONTINUED: ReadonlySet<string> = new Set(['max_tokens', 'pause_turn', 'model_context_window_exceeded']);

/** A tool use awaiting its result: for a Docker/SSH hand, or for an MCP server hand. */
export type ToolUseEvent = EventOf<'agent.tool_use'> | EventOf<'agent.mcp_tool_use'>;

/** The session's current outcome (the latest `user.define_outcome`) and how its evaluations went. */
export interface OutcomeState {
  definition: OutcomeDefinition;
  /** Evaluations finished (any result) since this definition: the next one is `finished + 1`. */
  finished: number;
  /** The iteration whose `span.outcome_evaluation_start` has no end yet (a grader running, or cut by a crash). */
  evaluating: number | null;
  /** Result of the latest finished evaluation of this definition; null before any. */
  last: OutcomeResult | null;
}

/** Results after which an outcome is settled: later turn ends are not graded until a new definition. */
const SETTLED: ReadonlySet<OutcomeResult> = new Set(['satisfied', 'max_iterations_reached']);

/** Whether the outcome is still to be checked at turn ends (defined, and neither satisfied nor out of iterations). */
export function outcomeActive(outcome: OutcomeState | null): outcome is OutcomeState {
  return outcome !== null && (outcome.last === null || !SETTLED.has(outcome.last));
}

/**
 * Folds the outcome events into `outcome` (returned; null before any definition). Shared by the
 * brain's state and the sessions list's summary, so both count iterations the same way. An idle
 * abandons an evaluation that never ended (the turn stopped in another way); it does not count.
 */
export function foldOutcome(outcome: OutcomeState | null, event: StoredEvent): OutcomeState | null {
  switch (event.type) {
    case 'user.define_outcome':
      return { definition: event.payload, finished: 0, evaluating: null, last: null };
    case 'span.outcome_evaluation_start':
      if (outcome) outcome.evaluating = event.payload.iteration;
      return outcome;
    case 'span.outcome_evaluation_end':
      // An end whose start came before the current definition belongs to the replaced one.
      if (outcome && outcome.evaluating !== null) {
        outcome.evaluating = null;
        outcome.finished++;
        outcome.last = event.payload.result;
      }
      return outcome;
    case 'session.status_idle':
      if (outcome) outcome.evaluating = null;
      return outcome;
    default:
      return outcome;
  }
}

export interface SessionState {
  /** The last status event said running (a turn is under way or was cut by a crash). */
  running: boolean;
  terminated: boolean;
  /** A model request whose end is not in the log (the process died while it streamed). */
  openRequest: { seq: number; model: string; purpose: 'turn' | 'compaction' | 'grading' } | null;
  /** Tool uses without a result, in order. */
  openToolUses: ToolUseEvent[];
  /** A message (the user's, or a thread's) the model has not been sent yet. */
  pendingInput: boolean;
  /** A user message the model has not been sent yet: it clears an interrupt and answers waiting calls as not run. */
  userInput: boolean;
  /**
   * A thread's message (marked `queued`, see `QueuedEvent`) the model has not been sent yet: it joins the running
   * turn's next request, or waits for the next turn — it neither undoes an interrupt nor answers a waiting call,
   * and the turn's end does not drop it.
   */
  queuedInput: boolean;
  /** Tool results the model has not been sent yet. */
  pendingResults: boolean;
  /** The user interrupted the running turn. */
  interruptRequested: boolean;
  /** Stop reason of the last turn response; 'failed' when it errored; null before any. */
  lastStop: string | null;
  /** Consecutive responses cut by max_tokens / pause_turn. */
  continuations: number;
  /** Consecutive failed requests being retried (from `session.error` with retry status). */
  retryAttempts: number;
  /** The last turn request failed and is to be retried. */
  retryDue: boolean;
  /** The model said its context window was exceeded and no compaction followed yet. */
  compactionDue: boolean;
  settings: SessionSettings | null;
  /** Seq of the latest `session.forked` in this view (a fork's first own event), or null. */
  forkedAt: number | null;
  outcome: OutcomeState | null;
  /** The last turn response ended the agent's turn (end_turn) and no evaluation has judged it yet. */
  ungraded: boolean;
  /** A grader asked for a revision: its feedback is the agent's next turn (see context.ts). */
  revisionDue: boolean;
  /** A fork (or rewind) the user has not acted on yet: it waits for them, whatever its parent was doing. */
  forkWaiting: boolean;
  /**
   * Tool uses whose policy asked (`evaluated_permission: ask`) and that have neither the user's
   * answer nor a result: they wait for the user and are never run, nor cut, until answered.
   */
  awaiting: Set<string>;
  /**
   * The last turn stopped with `budget_reached`: what was pending (a message, tool results) stays
   * pending, and nothing runs until the budget changes or the user sends a message.
   */
  budgetHeld: boolean;
  /** The budget changed after such a stop: the held work goes on (a turn end still to grade included). */
  budgetResume: boolean;
  /** The last event of the view that came from an imported file (0: none): its allows count for nothing. */
  importedSeq: number;
  /** The session's custom tools (the latest `session.custom_tools_set`). */
  customTools: CustomTool[];
  /** Custom tool calls waiting for the program's result, by event id, in log order (see custom-tools.ts). */
  customWaiting: Map<string, CustomToolUseEvent>;
  /** A custom call was answered since the last status: if others still wait, the idle is recorded again with them. */
  customAnswered: boolean;
  /** The user interrupted while custom calls waited: they are answered as cancelled. */
  customCancel: boolean;
}

export function emptyState(): SessionState {
  return {
    running: false,
    terminated: false,
    openRequest: null,
    openToolUses: [],
    pendingInput: false,
    userInput: false,
    queuedInput: false,
    pendingResults: false,
    interruptRequested: false,
    lastStop: null,
    continuations: 0,
    retryAttempts: 0,
    retryDue: false,
    compactionDue: false,
    settings: null,
    forkedAt: null,
    outcome: null,
    ungraded: false,
    revisionDue: false,
    forkWaiting: false,
    awaiting: new Set(),
    budgetHeld: false,
    budgetResume: false,
    importedSeq: 0,
    customTools: [],
    customWaiting: new Map(),
    customAnswered: false,
    customCancel: false,
  };
}

/**
 * An event of a view marked as queued: a `user.message` that is another thread's message (thread-view.ts projects
 * `agent.thread_message_received` so). It is mail for the thread's next turn, not the user taking over.
 */
export type QueuedEvent = StoredEvent & { readonly queued?: true };

/** Whether an event of a view is a queued message (see `QueuedEvent`). */
export function isQueued(event: StoredEvent): boolean {
  return (event as QueuedEvent).queued === true;
}

/** Folds one event into the state (mutating it: the state is rebuilt on every wake anyway). */
export function applyEvent(state: SessionState, event: StoredEvent): void {
  state.outcome = foldOutcome(state.outcome, event);
  switch (event.type) {
    case 'user.message':
      state.forkWaiting = false;
      state.budgetHeld = false;
      state.pendingInput = true;
      state.continuations = 0;
      if (isQueued(event)) {
        state.queuedInput = true;
        break;
      }
      state.userInput = true;
      state.interruptRequested = false;
      break;
    case 'user.interrupt':
      state.forkWaiting = false;
      if (state.customWaiting.size > 0) state.customCancel = true;
      // Also before the turn has recorded that it runs (its first commit may still be pending); a queued thread
      // message is for the next turn whatever happens, so it is no turn to stop.
      if (!state.budgetHeld && (state.running || state.userInput)) state.interruptRequested = true;
      break;
    case 'session.status_running':
      state.running = true;
      state.budgetResume = false;
      state.customAnswered = false;
      break;
    case 'session.status_idle':
      state.running = false;
      state.customAnswered = false;
      state.customCancel = false;
      state.interruptRequested = false;
      state.retryDue = false;
      state.retryAttempts = 0;
      // Stopped by its budget: the work it was about to do stays pending, for when the budget changes.
      state.budgetHeld = event.payload.stop_reason.type === 'budget_reached';
      state.budgetResume = false;
      if (state.budgetHeld) break;
      // The turn is over, also when it failed: what was pending waits for the next message
      // (it stays in the log, so the next request includes it). A thread's message not sent yet starts the next turn.
      state.pendingInput = state.queuedInput;
      state.userInput = false;
      state.pendingResults = false;
      state.ungraded = false;
      state.revisionDue = false;
      break;
    case 'session.status_terminated':
      state.running = false;
      state.terminated = true;
      break;
    case 'session.configured':
      state.settings = event.payload;
      break;
    case 'session.budget_set':
      if (state.budgetHeld) state.budgetResume = true;
      state.budgetHeld = false;
      break;
    case 'user.tool_confirmation':
      // The first answer counts; an imported allow counts for nothing (see approvals.ts).
      if (event.seq <= state.importedSeq && event.payload.result === 'allow') break;
      state.awaiting.delete(event.payload.tool_use_id);
      break;
    case 'span.model_request_start':
      state.openRequest = { seq: event.seq, model: event.payload.model, purpose: event.payload.purpose };
      if (event.payload.purpose === 'turn') {
        state.pendingInput = false;
        state.userInput = false;
        state.queuedInput = false;
        state.pendingResults = false;
        state.retryDue = false;
        state.ungraded = false;
        state.revisionDue = false;
      }
      break;
    case 'span.model_request_end':
      state.openRequest = null;
      if (event.payload.purpose !== 'turn') break;
      if (event.payload.is_error) {
        state.lastStop = 'failed';
        break;
      }
      state.lastStop = event.payload.stop_reason;
      state.retryAttempts = 0;
      state.ungraded = event.payload.stop_reason === 'end_turn';
      if (CONTINUED.has(event.payload.stop_reason ?? '')) state.continuations++;
      else state.continuations = 0;
      if (event.payload.stop_reason === 'model_context_window_exceeded') state.compactionDue = true;
      break;
    case 'session.error':
      if (event.payload.retry_status.type === 'retrying') {
        state.retryAttempts = event.payload.retry_status.attempt;
        state.retryDue = true;
      }
      break;
    case 'agent.tool_use':
    case 'agent.mcp_tool_use':
      state.openToolUses.push(event);
      if (event.payload.evaluated_permission === 'ask') state.awaiting.add(event.payload.tool_use_id);
      break;
    case 'agent.tool_result':
    case 'agent.mcp_tool_result': {
      const id = event.payload.tool_use_id;
      state.openToolUses = state.openToolUses.filter((use) => use.payload.tool_use_id !== id);
      state.awaiting.delete(id);
      state.pendingResults = true;
      state.continuations = 0;
      break;
    }
    case 'session.custom_tools_set':
      state.customTools = event.payload.tools;
      break;
    case 'agent.custom_tool_use':
      state.customWaiting.set(event.id, event);
      break;
    case 'user.custom_tool_result':
      if (!state.customWaiting.delete(event.payload.custom_tool_use_id)) break;
      state.customAnswered = true;
      state.pendingResults = true;
      state.continuations = 0;
      break;
    case 'session.forked':
      state.forkedAt = event.seq;
      state.forkWaiting = true;
      break;
    case 'agent.thread_context_compacted':
      state.compactionDue = false;
      break;
    case 'span.outcome_evaluation_end':
      // The evaluation is over, retried or not: its retries do not carry over to the next request.
      state.ungraded = false;
      state.retryDue = false;
      state.retryAttempts = 0;
      state.revisionDue = event.payload.result === 'needs_revision';
      break;
    default:
      break;
  }
}

export function stateOf(events: Iterable<StoredEvent>, seed: SessionState = emptyState()): SessionState {
  for (const event of events) applyEvent(seed, event);
  return seed;
}

/**
 * Whether Drover, starting, must wake the session — decided from its log alone: a turn was under
 * way when the last process stopped (the last status says running), or a user message the model
 * was never sent waits for its answer (stored just before a crash, its RPC perhaps already
 * answered; an outcome defined with it is checked when that turn ends). A fork waits for the user
 * until they act on it; a terminated session never runs again.
 */
export function needsResume(state: SessionState): boolean {
  if (state.terminated || state.forkWaiting || state.budgetHeld) return false;
  // Results (custom tool results) stored after the turn's idle and never sent: the turn goes on.
  return state.running || state.pendingInput || state.pendingResults;
}

/**
 * A reason the brain ends a turn with by itself. `requires_action` and `budget_reached` carry more
 * than a type (see StopReasonSchema) and are recorded by the guardrails' own steps.
 */
export type IdleReason = IdleStopReason;

export type NextStep =
  /** Nothing to do: the session is idle and nobody asked for anything. */
  | { kind: 'none' }
  /** A request's end is missing (crash mid-stream): close it in the log. */
  | { kind: 'close-request' }
  /** Tool uses await results (run, answered as denied, or recorded as cut: see tool-run.ts). */
  | { kind: 'tools'; toolUses: ToolUseEvent[] }
  /** Every open call waits for the user's approval or the program's result: end the step with `requires_action`. */
  | { kind: 'await-approval' }
  /** The user sent a message instead of answering: the waiting tool uses and custom calls are answered as not run. */
  | { kind: 'supersede-approvals'; toolUses: ToolUseEvent[]; customUses: CustomToolUseEvent[] }
  /** The user interrupted while custom calls waited for their results: they are answered as cancelled, the turn ends. */
  | { kind: 'cancel-custom'; customUses: CustomToolUseEvent[] }
  /** Call the model. */
  | { kind: 'request'; compact: boolean }
  /**
   * Check the agent's work against the outcome (a grader call). `resume`: the evaluation's start
   * is already in the log (a retry, or a crash cut it) — run it again without a second start.
   */
  | { kind: 'grade'; iteration: number; resume: boolean }
  /**
   * The turn is over: record idle with this reason. `closeEvaluation`: an evaluation of that
   * iteration has no end (the user interrupted it, perhaps across a crash) — record it interrupted.
   */
  | { kind: 'finish'; reason: IdleReason; closeEvaluation?: number };

const IDLE_REASONS: ReadonlySet<string> = new Set([
  'end_turn',
  'stop_sequence',
  'refusal',
  'max_tokens',
  'pause_turn',
  'model_context_window_exceeded',
]);

/** What the brain does next, given where the session stands. */
export function nextStep(state: SessionState): NextStep {
  if (state.openRequest) return { kind: 'close-request' };
  if (state.openToolUses.length > 0 || state.customWaiting.size > 0) {
    const ready = state.openToolUses.filter((use) => !state.awaiting.has(use.payload.tool_use_id));
    if (ready.length > 0) return { kind: 'tools', toolUses: ready };
    // Everything open waits for the user or the program: nothing runs, nothing is cut, until they answer.
    if (state.terminated) return { kind: 'none' };
    const customUses = [...state.customWaiting.values()];
    // Only the user's message answers them; a thread's message waits with them (it joins the request after the answers).
    if (state.userInput) return { kind: 'supersede-approvals', toolUses: state.openToolUses, customUses };
    if (state.customCancel && customUses.length > 0) return { kind: 'cancel-custom', customUses };
    if (state.interruptRequested && state.running) return { kind: 'finish', reason: 'interrupted' };
    // Some custom calls were answered and others still wait: the idle is recorded again, naming the rest.
    return state.running || state.customAnswered ? { kind: 'await-approval' } : { kind: 'none' };
  }
  if (state.terminated || state.budgetHeld) return { kind: 'none' };
  const evaluating = state.outcome?.evaluating ?? null;
  if (state.interruptRequested && (state.running || state.pendingInput)) {
    return evaluating === null
      ? { kind: 'finish', reason: 'interrupted' }
      : { kind: 'finish', reason: 'interrupted', closeEvaluation: evaluating };
  }
  // An evaluation under way (being retried, or cut by a crash) is finished before anything else.
  if (evaluating !== null && state.running) return { kind: 'grade', iteration: evaluating, resume: true };
  if (state.pendingInput || state.pendingResults || state.revisionDue || (state.running && state.retryDue)) {
    return { kind: 'request', compact: state.compactionDue };
  }
  // A turn end its budget stopped before it was graded: graded once the budget lets it.
  if (!state.running && state.budgetResume && state.lastStop === 'end_turn' && state.ungraded && outcomeActive(state.outcome)) {
    return { kind: 'grade', iteration: state.outcome.finished + 1, resume: false };
  }
  if (!state.running) return { kind: 'none' };
  switch (state.lastStop) {
    case 'max_tokens':
    case 'pause_turn':
      if (state.continuations < MAX_CONTINUATIONS) return { kind: 'request', compact: false };
      return { kind: 'finish', reason: state.lastStop };
    case 'model_context_window_exceeded':
      if (state.compactionDue && state.continuations < MAX_CONTINUATIONS) return { kind: 'request', compact: true };
      return { kind: 'finish', reason: 'model_context_window_exceeded' };
    default:
      break;
  }
  if (state.lastStop === 'end_turn' && state.ungraded && outcomeActive(state.outcome)) {
    return { kind: 'grade', iteration: state.outcome.finished + 1, resume: false };
  }
  if (state.lastStop !== null && IDLE_REASONS.has(state.lastStop)) return { kind: 'finish', reason: state.lastStop as IdleReason };
  // Running with nothing outstanding and no usable stop (e.g. a crash right after status_running).
  return { kind: 'finish', reason: state.lastStop === 'failed' ? 'error' : 'end_turn' };
}
