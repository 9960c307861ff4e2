/**
 * Threads as the brain sees them (issue 21): one log, many threads. Pure functions from the log
 * to each thread's own view and back:
 * - `projectEvent` gives a thread its events as if it were a session of its own — its task and the
 *   messages it received as user messages (the messages marked queued: they wait for its next request), its `session.thread_status_*` as the session's status,
 *   the session-wide settings, policies and hands — so the whole single-thread brain (state.ts,
 *   context.ts, tool-run.ts) runs each thread unchanged. An event without `session_thread_id` is
 *   the primary thread's, so a log written before threads projects onto itself.
 * - `scopeEvents` does the reverse for what a thread records: its status as thread status events,
 *   its events marked with its id, and at a turn's end its final text sent to its parent.
 * - `ThreadsFold` follows every thread's state at once (for the run to know which have work).
 *
 * Pure: no I/O, no clock.
 */
import type { ContentBlock, NewEvent, StoredEvent } from '#shared/events';
import { SELF_AGENT, type Roster, type RosterAgent } from '#shared/threads';
import { applyEvent, emptyState, nextStep, type QueuedEvent, type SessionState } from './state.ts';

/** The primary thread's key (it has no `session_thread_id`). */
export const PRIMARY = null;
export type ThreadKey = string | null;

/** Event types a thread produces: they carry its `session_thread_id` (absent: the primary's). */
const SCOPED: ReadonlySet<StoredEvent['type']> = new Set([
  'user.message',
  'user.interrupt',
  'user.tool_confirmation',
  'agent.message',
  'agent.thinking',
  'agent.tool_use',
  'agent.tool_result',
  'agent.mcp_tool_use',
  'agent.mcp_tool_result',
  'agent.custom_tool_use',
  'user.custom_tool_result',
  'agent.thread_context_compacted',
  'span.model_request_start',
  'span.model_request_end',
  'span.tool_run_start',
  'session.usage',
  'session.error',
  'hand.checkpoint',
]);

/** The primary's own: its status is the session's, and only its turn ends are graded. */
const PRIMARY_ONLY: ReadonlySet<StoredEvent['type']> = new Set([
  'session.status_running',
  'session.status_idle',
  'user.define_outcome',
  'span.outcome_evaluation_start',
  'span.outcome_evaluation_end',
]);

/** The thread an event belongs to: a thread id, the primary (null), or every thread ('all'). */
export function threadOfEvent(event: StoredEvent): ThreadKey | 'all' | 'none' {
  switch (event.type) {
    case 'session.thread_created':
    case 'session.thread_status_running':
    case 'session.thread_status_idle':
    case 'session.thread_status_terminated':
      return event.payload.session_thread_id;
    case 'agent.thread_message_received':
      return event.payload.session_thread_id ?? PRIMARY;
    case 'agent.thread_message_sent':
    case 'session.roster_set':
    case 'hand.thread_access':
    case 'session.thread_archived':
      return 'none';
    case 'session.status_terminated':
      return 'all';
    default:
      break;
  }
  const id = (event.payload as { session_thread_id?: string }).session_thread_id;
  if (id !== undefined) return id;
  // An interrupt without a thread stops them all; an answer without one (the guardrails RPC's, the API's) goes to
  // every thread: only the one whose tool use it names has anything waiting for it.
  if (event.type === 'user.interrupt' || event.type === 'user.tool_confirmation' || event.type === 'user.custom_tool_result') return 'all';
  if (SCOPED.has(event.type) || PRIMARY_ONLY.has(event.type)) return PRIMARY;
  return 'all';
}

function text(value: string): ContentBlock {
  return { type: 'text', text: value };
}

/** The event as thread `thread` sees it (its own session), or null when it is not part of its view. */
export function projectEvent(event: StoredEvent, thread: ThreadKey): StoredEvent | null {
  const owner = threadOfEvent(event);
  if (owner === 'none' || (owner !== 'all' && owner !== thread)) return null;
  const as = (type: StoredEvent['type'], payload: unknown): StoredEvent => ({ ...event, type, payload }) as StoredEvent;
  switch (event.type) {
    case 'session.thread_created':
      return as('user.message', { content: [text(event.payload.task)] });
    case 'session.thread_status_running':
      return as('session.status_running', {});
    case 'session.thread_status_idle':
      return as('session.status_idle', { stop_reason: event.payload.stop_reason });
    case 'session.thread_status_terminated':
      return as('session.status_terminated', { reason: event.payload.reason ?? 'The thread was ended.' });
    case 'agent.thread_message_received': {
      const from = event.payload.from_thread_id;
      const header = from === undefined ? 'Message from the coordinator:' : `Message from thread ${from}:`;
      // Queued: mail for the thread's next request — it does not undo an interrupt nor answer a waiting call (state.ts).
      const queued: QueuedEvent = Object.assign(as('user.message', { content: [text(header), ...event.payload.content] }), {
        queued: true as const,
      });
      return queued;
    }
    default:
      break;
  }
  if (thread === PRIMARY || !('session_thread_id' in event.payload)) return event;
  const { session_thread_id: _own, ...payload } = event.payload as Record<string, unknown>;
  return as(event.type, payload);
}

/**
 * What thread `thread` records, as the log takes it: its status as thread status events, its own
 * events marked with its id, and — when its turn ends — its final text sent to its parent (the
 * pair `agent.thread_message_sent` / `_received`, in the same commit). `view` is the thread's view
 * so far (for a final text recorded in an earlier commit). The primary's events pass unchanged.
 */
export function scopeEvents(events: readonly NewEvent[], thread: ThreadKey, parent: ThreadKey, view: readonly StoredEvent[]): NewEvent[] {
  if (thread === PRIMARY) return [...events];
  const out: NewEvent[] = [];
  for (const event of events) {
    switch (event.type) {
      case 'session.status_running':
        out.push({ type: 'session.thread_status_running', payload: { session_thread_id: thread } });
        break;
      case 'session.status_idle':
        out.push({ type: 'session.thread_status_idle', payload: { session_thread_id: thread, stop_reason: event.payload.stop_reason } });
        if (event.payload.stop_reason.type === 'end_turn') {
          const content = [text(finalText(events, view) || '(The thread ended its turn without a message.)')];
          out.push(
            {
              type: 'agent.thread_message_sent',
              payload: { session_thread_id: thread, ...(parent === PRIMARY ? {} : { to_thread_id: parent }), content },
            },
            {
              type: 'agent.thread_message_received',
              payload: { ...(parent === PRIMARY ? {} : { session_thread_id: parent }), from_thread_id: thread, content },
            },
          );
        }
        break;
      case 'session.status_terminated':
        out.push({ type: 'session.thread_status_terminated', payload: { session_thread_id: thread, reason: event.payload.reason } });
        break;
      default:
        out.push(SCOPED.has(event.type) ? ({ ...event, payload: { ...event.payload, session_thread_id: thread } } as NewEvent) : event);
    }
  }
  return out;
}

/** The text of the thread's last response: its `agent.message`s after its last turn request started. */
function finalText(batch: readonly NewEvent[], view: readonly StoredEvent[]): string {
  const texts = (events: readonly (NewEvent | StoredEvent)[]): string[] =>
    events.flatMap((event) => (event.type === 'agent.message' ? event.payload.content.map((block) => block.text) : []));
  const inBatch = texts(batch);
  if (inBatch.length > 0) return inBatch.join('\n').trim();
  let start = view.length;
  while (start > 0) {
    const event = view[start - 1] as StoredEvent;
    if (event.type === 'span.model_request_start' && event.payload.purpose === 'turn') break;
    start--;
  }
  return texts(view.slice(start)).join('\n').trim();
}

/** One thread (not the primary) as the log tells it. */
export interface ThreadInfo {
  id: string;
  agent: string;
  parent: ThreadKey;
  task: string;
  createdSeq: number;
  /** Its projected state (its own session's, as state.ts folds it). */
  state: SessionState;
}

/** Every thread's state, followed event by event (the run's picture of who has work). */
export class ThreadsFold {
  roster: Roster | null = null;
  readonly primary: SessionState = emptyState();
  readonly threads = new Map<string, ThreadInfo>();
  lastSeq = 0;

  apply(event: StoredEvent): void {
    this.lastSeq = event.seq;
    if (event.type === 'session.roster_set') this.roster = event.payload;
    if (event.type === 'session.thread_created') {
      const { session_thread_id: id, agent_name: agent, parent_thread_id: parent, task } = event.payload;
      const state = emptyState();
      // A thread starts with the session-wide settings the primary has seen so far.
      state.settings = this.primary.settings;
      state.customTools = this.primary.customTools;
      this.threads.set(id, { id, agent, parent: parent ?? PRIMARY, task, createdSeq: event.seq, state });
    }
    const owner = threadOfEvent(event);
    if (owner === 'none') return;
    if (owner === 'all' || owner === PRIMARY) {
      const primary = projectEvent(event, PRIMARY);
      if (primary) applyEvent(this.primary, primary);
    }
    for (const info of this.threads.values()) {
      if (owner !== 'all' && owner !== info.id) continue;
      const projected = projectEvent(event, info.id);
      if (projected) applyEvent(info.state, projected);
    }
  }

  stateOf(thread: ThreadKey): SessionState | undefined {
    return thread === PRIMARY ? this.primary : this.threads.get(thread)?.state;
  }

  /** Threads not terminated (the primary not counted). */
  alive(): ThreadInfo[] {
    return [...this.threads.values()].filter((info) => !info.state.terminated);
  }

  /** Whether a thread (not the primary) is running or has work to do. */
  busy(thread: string): boolean {
    const state = this.threads.get(thread)?.state;
    return state !== undefined && (state.running || nextStep(state).kind !== 'none');
  }

  /** The roster agent a thread runs as (a copy of the coordinator: undefined). */
  agentOf(thread: ThreadKey): RosterAgent | undefined {
    if (thread === PRIMARY) return undefined;
    const name = this.threads.get(thread)?.agent;
    if (name === undefined || name === SELF_AGENT) return undefined;
    return this.roster?.agents.find((agent) => agent.name === name);
  }
}

/** A thread's whole view, projected from the session's events. */
export function threadView(events: readonly StoredEvent[], thread: ThreadKey): StoredEvent[] {
  const view: StoredEvent[] = [];
  for (const event of events) {
    const projected = projectEvent(event, thread);
    if (projected) view.push(projected);
  }
  return view;
}
