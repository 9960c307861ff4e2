/**
 * Threads in the Managed Agents API's shapes (issue 21): a thread as `BetaManagedAgentsSessionThread`
 * (from the cockpit's fold, `sessions-threads`), and the thread events — `session.thread_created`,
 * `session.thread_status_*`, `agent.thread_message_sent` / `_received` — as the service writes them
 * (agent names looked up from the fold). The primary thread has no id in Drover's log: the API calls
 * it `sthr_` + the session's uuid hex, stable and unique.
 */
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type { BetaManagedAgentsSession } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import type {
  BetaManagedAgentsInlineAgent,
  BetaManagedAgentsSessionThread,
  BetaManagedAgentsSessionThreadStatus,
} from '@anthropic-ai/sdk/resources/beta/sessions/threads/threads';
import type { BetaManagedAgentsSessionThreadAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { ContentBlock, StoredEvent } from '#shared/events';
import type { RosterAgent } from '#shared/threads';
import type { ThreadSummary } from '#shared/thread-view';
import { stopReasonOf } from './event-map.ts';
import { externalId } from './ids.ts';

/** The API's id of a thread (null: the primary). */
export function apiThreadId(sessionId: string, thread: string | null): string {
  return thread ?? `sthr_${sessionId.replaceAll('-', '').toLowerCase()}`;
}

/** The thread a `sthr_` id names (null: the primary), or undefined when it is none of the session's. */
export function threadOfApiId(sessionId: string, id: string, threads: readonly ThreadSummary[]): string | null | undefined {
  if (id === apiThreadId(sessionId, null)) return null;
  return threads.some((thread) => thread.id === id) ? id : undefined;
}

/** The thread types the API shows on a thread's list and stream (the others go through `apiEventOf`). */
export const THREAD_EVENT_TYPES: ReadonlySet<StoredEvent['type']> = new Set([
  'session.thread_created',
  'session.thread_status_running',
  'session.thread_status_idle',
  'session.thread_status_terminated',
  'agent.thread_message_sent',
  'agent.thread_message_received',
]);

/** A thread event in the service's shape; null for any other type. `nameOf`: a thread's agent name (null: the primary). */
export function threadApiEventOf(
  sessionId: string,
  event: StoredEvent,
  nameOf: (thread: string | null) => string,
): BetaManagedAgentsSessionEvent | null {
  const id = externalId('event', event.id);
  const processed_at = event.ts;
  const api = (thread: string | null | undefined) => apiThreadId(sessionId, thread ?? null);
  switch (event.type) {
    case 'session.thread_created':
      return {
        id,
        type: 'session.thread_created',
        processed_at,
        session_thread_id: event.payload.session_thread_id,
        agent_name: event.payload.agent_name,
        workflow_run_id: null,
      };
    case 'session.thread_status_running':
      return {
        id,
        type: event.type,
        processed_at,
        session_thread_id: event.payload.session_thread_id,
        agent_name: nameOf(event.payload.session_thread_id),
      };
    case 'session.thread_status_terminated':
      return {
        id,
        type: event.type,
        processed_at,
        session_thread_id: event.payload.session_thread_id,
        agent_name: nameOf(event.payload.session_thread_id),
      };
    case 'session.thread_status_idle':
      return {
        id,
        type: 'session.thread_status_idle',
        processed_at,
        session_thread_id: event.payload.session_thread_id,
        agent_name: nameOf(event.payload.session_thread_id),
        ...stopReasonOf(event.payload.stop_reason),
      };
    case 'agent.thread_message_sent':
      return {
        id,
        type: 'agent.thread_message_sent',
        processed_at,
        content: contentOf(event.payload.content),
        to_session_thread_id: api(event.payload.to_thread_id),
        to_agent_name: nameOf(event.payload.to_thread_id ?? null),
      };
    case 'agent.thread_message_received':
      return {
        id,
        type: 'agent.thread_message_received',
        processed_at,
        content: contentOf(event.payload.content),
        from_session_thread_id: api(event.payload.from_thread_id),
        from_agent_name: nameOf(event.payload.from_thread_id ?? null),
      };
    default:
      return null;
  }
}

function contentOf(content: readonly ContentBlock[]): ContentBlock[] {
  return content.map((block) =>
    block.type === 'text' ? { type: 'text', text: block.text } : { type: 'image', source: { ...block.source } },
  );
}

const STATUS: Readonly<Record<ThreadSummary['status'], BetaManagedAgentsSessionThreadStatus>> = {
  new: 'idle',
  running: 'running',
  idle: 'idle',
  terminated: 'terminated',
};

/** The primary's agent: the session's (its `multiagent` is the session's business, not the thread's). */
function primaryAgent(session: BetaManagedAgentsSession): BetaManagedAgentsSessionThreadAgent {
  const { multiagent, ...agent } = session.agent;
  void multiagent;
  return agent;
}

/** A started thread's agent: its roster entry over the session's model and system prompt. */
function rosterAgent(session: BetaManagedAgentsSession, name: string, entry: RosterAgent | undefined): BetaManagedAgentsInlineAgent {
  return {
    type: 'inline',
    name,
    description: null,
    execution_identity: { type: 'service_account' },
    mcp_servers: session.agent.mcp_servers,
    model: entry?.model === undefined ? session.agent.model : { id: entry.model },
    skills: [],
    system: entry?.system ?? session.agent.system,
    tools: [],
  };
}

/** The thread as the API shows it. `archivedAt`: when the API archived it (Drover keeps that beside the log). */
export function apiThreadOf(
  session: BetaManagedAgentsSession,
  sessionId: string,
  thread: ThreadSummary,
  roster: readonly RosterAgent[],
  archivedAt: string | null,
  nowMs = Date.now(),
): BetaManagedAgentsSessionThread {
  const createdAt = thread.createdAt ?? session.created_at;
  const updatedAt = [thread.updatedAt ?? createdAt, archivedAt ?? createdAt].sort().at(-1) ?? createdAt;
  const endMs = thread.status === 'terminated' || archivedAt !== null ? Date.parse(updatedAt) : nowMs;
  const started = thread.status !== 'new';
  return {
    id: apiThreadId(sessionId, thread.id),
    type: 'session_thread',
    session_id: session.id,
    agent:
      thread.id === null
        ? primaryAgent(session)
        : rosterAgent(
            session,
            thread.agentName,
            roster.find((entry) => entry.name === thread.agentName),
          ),
    archived_at: archivedAt,
    created_at: createdAt,
    updated_at: updatedAt,
    parent_thread_id: thread.id === null ? null : apiThreadId(sessionId, thread.parentId),
    stats: started
      ? {
          active_seconds: thread.activeMs / 1000,
          duration_seconds: Math.max(0, (endMs - Date.parse(createdAt)) / 1000),
          startup_seconds: 0,
        }
      : null,
    status: STATUS[thread.status],
    usage:
      thread.requests === 0
        ? null
        : {
            input_tokens: thread.inputTokens,
            output_tokens: thread.outputTokens,
            cache_read_input_tokens: thread.cacheReadTokens,
            cache_creation: { ephemeral_5m_input_tokens: thread.cacheCreationTokens },
            list_cost: { amount: String(Math.round(thread.costUsd * 100)), currency: 'USD' },
            active_seconds: thread.activeMs / 1000,
          },
    workflow_run_id: null,
  };
}
