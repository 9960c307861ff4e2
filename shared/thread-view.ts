/**
 * What the cockpit and the API show of a session's threads (issue 21): each thread's agent,
 * parent, status, task, token use and cost, and which thread every event belongs to (the
 * timeline's lanes). A pure fold of the log — `threadOf` and `ThreadFold` — plus the RPC result's
 * schema. The primary thread is the one without an id: an event without `session_thread_id`
 * belongs to it. Pure data + zod.
 */
import { z } from 'zod';
import type { StoredEvent } from './events.ts';
import { SessionThreadIdSchema } from './threads.ts';

export const ThreadStatusSchema = z.enum(['new', 'running', 'idle', 'terminated']);
export type ThreadStatus = z.infer<typeof ThreadStatusSchema>;

/** The agent name the primary thread is shown under. */
export const PRIMARY_AGENT = 'coordinator';

export const ThreadSummarySchema = z.strictObject({
  /** null: the primary thread. */
  id: SessionThreadIdSchema.nullable(),
  agentName: z.string(),
  /** The thread that started it (null: the primary, or the primary itself). */
  parentId: SessionThreadIdSchema.nullable(),
  task: z.string(),
  status: ThreadStatusSchema,
  /** Why it last stopped (an idle's stop reason or a termination's reason), null while running or when it ended its turn. */
  stopReason: z.string().nullable(),
  /** Its `session.thread_created` (0 for the primary). */
  createdSeq: z.number().int().nonnegative(),
  createdAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
  /** Events that belong to it. */
  events: z.number().int().nonnegative(),
  requests: z.number().int().nonnegative(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative(),
  cacheCreationTokens: z.number().int().nonnegative(),
  /** Estimated list cost of its model requests (the sessions list's prices). */
  costUsd: z.number().nonnegative(),
  /** Models it used whose price Drover does not know (left out of costUsd). */
  unpricedModels: z.array(z.string()),
  /** Time spent running (between its running and idle/terminated events), in ms. */
  activeMs: z.number().nonnegative(),
  /** When it was archived (its `session.thread_archived`); null: not archived. */
  archivedAt: z.string().nullable(),
});
export type ThreadSummary = z.infer<typeof ThreadSummarySchema>;

export const SessionThreadsSchema = z.strictObject({
  /** The primary first, then the threads in the order they were created. */
  threads: z.array(ThreadSummarySchema),
  /** The log's last event folded. */
  throughSeq: z.number().int().nonnegative(),
  /**
   * Which thread each event after the asked `afterSeq` belongs to: `codes[i]` indexes `threads`
   * for event `fromSeq + i`. Empty when the session has no threads (every event is the primary's).
   */
  lanes: z.strictObject({ fromSeq: z.number().int().positive(), codes: z.array(z.number().int().nonnegative()) }),
});
export type SessionThreads = z.infer<typeof SessionThreadsSchema>;

/** The thread an event belongs to; null: the primary. */
export function threadOf(event: Pick<StoredEvent, 'payload'>): string | null {
  const payload = event.payload as { session_thread_id?: unknown };
  return typeof payload.session_thread_id === 'string' ? payload.session_thread_id : null;
}

interface ThreadState extends ThreadSummary {
  runningSince: number | null;
}

/**
 * The threads of a log, folded event by event (ascending). Usage is counted here; cost is priced
 * by whoever knows the prices (`price(modelRequestEnds)` in `summaries`).
 */
export class ThreadFold {
  private readonly states: ThreadState[] = [blank(null, PRIMARY_AGENT, null, '', 0, null)];
  private readonly indexOf = new Map<string | null, number>([[null, 0]]);
  /** Each thread's model request ends, for pricing. */
  private readonly requestEnds: StoredEvent[][] = [[]];
  throughSeq = 0;

  /** Folds one event; answers the index of the thread it belongs to. */
  add(event: StoredEvent): number {
    this.throughSeq = event.seq;
    if (event.type === 'session.thread_created') {
      const { session_thread_id: id, agent_name: agent, parent_thread_id: parent, task } = event.payload;
      if (!this.indexOf.has(id)) {
        this.indexOf.set(id, this.states.length);
        const created = blank(id, agent, parent ?? null, task, event.seq, event.ts);
        // A thread starts working on its task as it is created.
        this.run(created, Date.parse(event.ts));
        this.states.push(created);
        this.requestEnds.push([]);
      }
    }
    const index = this.indexOf.get(threadOf(event)) ?? 0;
    const state = this.states[index] as ThreadState;
    state.events++;
    state.updatedAt = event.ts;
    const ms = Date.parse(event.ts);
    switch (event.type) {
      case 'session.thread_status_running':
        this.run(state, ms);
        break;
      case 'session.thread_status_idle':
        this.stop(state, ms, 'idle', event.payload.stop_reason.type === 'end_turn' ? null : event.payload.stop_reason.type);
        break;
      case 'session.thread_status_terminated':
        this.stop(state, ms, 'terminated', event.payload.reason ?? null);
        break;
      // The primary's status is the session's.
      case 'session.status_running':
        if (index === 0) this.run(state, ms);
        break;
      case 'session.status_idle':
        if (index === 0)
          this.stop(state, ms, 'idle', event.payload.stop_reason.type === 'end_turn' ? null : event.payload.stop_reason.type);
        break;
      case 'session.status_terminated':
        if (index === 0) this.stop(state, ms, 'terminated', event.payload.reason);
        break;
      case 'session.thread_archived':
        state.archivedAt ??= event.ts;
        break;
      case 'span.model_request_end': {
        const usage = event.payload.usage;
        state.requests++;
        state.inputTokens += usage.input_tokens;
        state.outputTokens += usage.output_tokens;
        state.cacheReadTokens += usage.cache_read_input_tokens;
        state.cacheCreationTokens += usage.cache_creation_input_tokens;
        this.requestEnds[index]?.push(event);
        break;
      }
      default:
        break;
    }
    return index;
  }

  get size(): number {
    return this.states.length;
  }

  /** The threads as of the last event folded; `price` gives a thread's cost from its model request ends. */
  summaries(price?: (ends: readonly StoredEvent[]) => { costUsd: number; unpricedModels: string[] }): ThreadSummary[] {
    return this.states.map((state, index) => {
      const { runningSince, ...summary } = state;
      void runningSince;
      const priced = price?.(this.requestEnds[index] ?? []);
      return priced === undefined ? { ...summary } : { ...summary, costUsd: priced.costUsd, unpricedModels: priced.unpricedModels };
    });
  }

  private run(state: ThreadState, ms: number): void {
    state.status = 'running';
    state.stopReason = null;
    if (state.runningSince === null && Number.isFinite(ms)) state.runningSince = ms;
  }

  private stop(state: ThreadState, ms: number, status: 'idle' | 'terminated', reason: string | null): void {
    state.status = status;
    state.stopReason = reason;
    if (state.runningSince !== null && Number.isFinite(ms)) state.activeMs += Math.max(0, ms - state.runningSince);
    state.runningSince = null;
  }
}

function blank(
  id: string | null,
  agentName: string,
  parentId: string | null,
  task: string,
  createdSeq: number,
  createdAt: string | null,
): ThreadState {
  return {
    id,
    agentName,
    parentId,
    task,
    status: 'new',
    stopReason: null,
    createdSeq,
    createdAt,
    updatedAt: createdAt,
    events: 0,
    requests: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheCreationTokens: 0,
    costUsd: 0,
    unpricedModels: [],
    activeMs: 0,
    archivedAt: null,
    runningSince: null,
  };
}
