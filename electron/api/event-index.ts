/**
 * What mapping one stored event to the API's shape needs from the rest of its session's log: the
 * tool use EVENT a tool result or a confirmation answers (the service names tool uses by event id,
 * the model by `toolu_…`), the request span an end closes, the outcome an evaluation grades, the
 * grader's usage in each evaluation, and the budget in force at a usage snapshot.
 *
 * One index per session (its view, inherited events included), folded forward from the log and
 * kept between requests; the store's view of a session only grows, so folding the events appended
 * since is equal to a fresh fold. Bounded: the indexes of the sessions used last are kept.
 */
import type { Budget } from '#shared/guardrails';
import type { EventType, StoredEvent, Usage } from '#shared/events';
import type { SessionStore } from '#services/session/store';
import { WORKER_HAND_ID } from '#services/managed/work-queue';
import { PRIMARY_AGENT } from '#shared/thread-view';

/** The event types the index folds (everything else is read in place). */
export const INDEXED_TYPES: readonly EventType[] = [
  'agent.tool_use',
  'agent.mcp_tool_use',
  'span.model_request_start',
  'span.model_request_end',
  'span.outcome_evaluation_start',
  'span.outcome_evaluation_end',
  'user.define_outcome',
  'session.budget_set',
  'session.thread_created',
];
const INDEXED = new Set<EventType>(INDEXED_TYPES);

/** A point in the log and the value that holds from it on. */
interface Mark<T> {
  seq: number;
  value: T;
}

const ZERO_USAGE: Usage = { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
const READ_CHUNK = 1000;

export class EventIndex {
  /** The last seq folded (every indexed event up to it is in). */
  private lastSeq = 0;
  /** The model's tool_use_id → its tool use event's uuid. */
  private readonly useEvent = new Map<string, string>();
  /** A tool use event's uuid → the model's tool_use_id. */
  private readonly useId = new Map<string, string>();
  /** The model's tool_use_ids of calls a self-hosted worker answers (their results are `user.tool_result`s). */
  private readonly workerUses = new Set<string>();
  private readonly requestStarts: Mark<string>[] = [];
  private readonly evaluationStarts: Mark<string>[] = [];
  private readonly outcomes: Mark<string>[] = [];
  private readonly budgets: Mark<Budget | null>[] = [];
  /** The grader's usage summed per evaluation, by the evaluation end's seq. */
  private readonly evaluationUsage = new Map<number, Usage>();
  private openEvaluation: Usage | null = null;
  /** A started thread's id → its agent's name (issue 21: thread events name the agents on both ends). */
  private readonly threadNames = new Map<string, string>();

  constructor(
    private readonly store: SessionStore,
    private readonly sessionId: string,
  ) {}

  /** Folds the log up to `seq` (inclusive) when it is not yet. */
  ensure(seq: number): void {
    while (this.lastSeq < seq) {
      const events = this.store.getEvents(this.sessionId, {
        afterSeq: this.lastSeq,
        beforeSeq: seq + 1,
        types: [...INDEXED_TYPES],
        limit: READ_CHUNK,
      });
      for (const event of events) this.fold(event);
      if (events.length < READ_CHUNK) this.lastSeq = seq;
    }
  }

  /** Takes an event appended right now (the stream sees each in order); catches up first when it skipped some. */
  feed(event: StoredEvent): void {
    if (event.seq <= this.lastSeq) return;
    if (event.seq > this.lastSeq + 1) this.ensure(event.seq - 1);
    if (INDEXED.has(event.type)) this.fold(event);
    else this.lastSeq = event.seq;
  }

  /** The uuid of the tool use event the model's `toolUseId` came in; null when the log has none. */
  toolUseEvent(toolUseId: string): string | null {
    return this.useEvent.get(toolUseId) ?? null;
  }

  /** Whether a self-hosted worker answers the call `toolUseId` (the hand `worker`: work-queue.ts). */
  answeredByWorker(toolUseId: string): boolean {
    return this.workerUses.has(toolUseId);
  }

  /** The model's tool_use_id of a tool use event (by its uuid); null when it is not one. */
  toolUseIdOf(eventUuid: string): string | null {
    return this.useId.get(eventUuid) ?? null;
  }

  /** The agent name of a thread (null: the primary, `coordinator` as the cockpit names it; unknown: its id). */
  threadName(thread: string | null): string {
    if (thread === null) return PRIMARY_AGENT;
    return this.threadNames.get(thread) ?? thread;
  }

  /** The `span.model_request_start` that the end at `seq` closes. */
  requestStartBefore(seq: number): string | null {
    return before(this.requestStarts, seq)?.value ?? null;
  }

  evaluationStartBefore(seq: number): string | null {
    return before(this.evaluationStarts, seq)?.value ?? null;
  }

  /** The `user.define_outcome` in force at `seq` (its event uuid). */
  outcomeBefore(seq: number): string | null {
    return before(this.outcomes, seq)?.value ?? null;
  }

  budgetAt(seq: number): Budget | null {
    return before(this.budgets, seq)?.value ?? null;
  }

  evaluationUsageAt(seq: number): Usage {
    return this.evaluationUsage.get(seq) ?? ZERO_USAGE;
  }

  private fold(event: StoredEvent): void {
    this.lastSeq = event.seq;
    const mark = <T>(value: T): Mark<T> => ({ seq: event.seq, value });
    switch (event.type) {
      case 'agent.tool_use':
      case 'agent.mcp_tool_use':
        this.useEvent.set(event.payload.tool_use_id, event.id);
        this.useId.set(event.id, event.payload.tool_use_id);
        if (event.type === 'agent.tool_use' && event.payload.hand_id === WORKER_HAND_ID) this.workerUses.add(event.payload.tool_use_id);
        break;
      case 'session.thread_created':
        this.threadNames.set(event.payload.session_thread_id, event.payload.agent_name);
        break;
      case 'span.model_request_start':
        this.requestStarts.push(mark(event.id));
        break;
      case 'span.model_request_end':
        if (event.payload.purpose === 'grading' && this.openEvaluation !== null) {
          const usage = event.payload.usage;
          const sum = this.openEvaluation;
          this.openEvaluation = {
            input_tokens: sum.input_tokens + usage.input_tokens,
            output_tokens: sum.output_tokens + usage.output_tokens,
            cache_read_input_tokens: sum.cache_read_input_tokens + usage.cache_read_input_tokens,
            cache_creation_input_tokens: sum.cache_creation_input_tokens + usage.cache_creation_input_tokens,
          };
        }
        break;
      case 'span.outcome_evaluation_start':
        this.evaluationStarts.push(mark(event.id));
        this.openEvaluation = ZERO_USAGE;
        break;
      case 'span.outcome_evaluation_end':
        this.evaluationUsage.set(event.seq, this.openEvaluation ?? ZERO_USAGE);
        this.openEvaluation = null;
        break;
      case 'user.define_outcome':
        this.outcomes.push(mark(event.id));
        break;
      case 'session.budget_set':
        this.budgets.push(mark(event.payload.budget));
        break;
      default:
        break;
    }
  }
}

/** The last mark before `seq` (marks are in seq order). */
function before<T>(marks: readonly Mark<T>[], seq: number): Mark<T> | undefined {
  let low = 0;
  let high = marks.length - 1;
  let found: Mark<T> | undefined;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const candidate = marks[middle];
    if (candidate === undefined) break;
    if (candidate.seq < seq) {
      found = candidate;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

/** The indexes of the sessions used last, per store. */
const MAX_INDEXES = 256;
const indexes = new WeakMap<SessionStore, Map<string, EventIndex>>();

/** The session's index (made on first use; the least recently used goes past MAX_INDEXES). */
export function eventIndex(store: SessionStore, sessionId: string): EventIndex {
  let perStore = indexes.get(store);
  if (perStore === undefined) {
    perStore = new Map();
    indexes.set(store, perStore);
  }
  let index = perStore.get(sessionId);
  if (index === undefined) index = new EventIndex(store, sessionId);
  else perStore.delete(sessionId);
  perStore.set(sessionId, index);
  for (const oldest of perStore.keys()) {
    if (perStore.size <= MAX_INDEXES) break;
    perStore.delete(oldest);
  }
  return index;
}

/** Forgets a session's index (a deleted session). */
export function forgetIndex(store: SessionStore, sessionId: string): void {
  indexes.get(store)?.delete(sessionId);
}
