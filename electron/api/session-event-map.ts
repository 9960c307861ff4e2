/**
 * The session-level view of a threaded session's log (issue 21): `GET /v1/sessions/{id}/events` and
 * `…/events/stream` show every thread's API events, each event of a thread other than the primary
 * carrying that thread's `session_thread_id` (as the service's events do), and the thread lifecycle
 * — `session.thread_created`, `session.thread_status_*`, `agent.thread_message_sent` / `_received`
 * — in the service's shapes (threads-map.ts). The primary's events carry no thread id, so a session
 * without threads reads exactly as before.
 *
 * The SDK declares `session_thread_id` on the tool use, custom tool, interrupt and confirmation
 * events; on the other types it is the service's attribution field beyond the SDK's declared
 * shape, typed here as that type plus the field (`ThreadTagged`).
 */
import type { BetaManagedAgentsSessionEvent, BetaManagedAgentsSessionEventType } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type { EventType, StoredEvent } from '#shared/events';
import { API_VISIBLE_TYPES, apiEventOf, isApiVisible } from './event-map.ts';
import type { EventIndex } from './event-index.ts';
import { THREAD_EVENT_TYPES, threadApiEventOf } from './threads-map.ts';

/** An API event with the thread that produced it (absent: the primary). */
export type ThreadTagged<T extends BetaManagedAgentsSessionEvent = BetaManagedAgentsSessionEvent> = T & {
  session_thread_id?: string | null;
};

/** Drover's event types the session-level list and stream show: the API's own and the thread lifecycle. */
export const SESSION_VISIBLE_TYPES: readonly (EventType & BetaManagedAgentsSessionEventType)[] = [
  ...API_VISIBLE_TYPES,
  'session.thread_created',
  'session.thread_status_running',
  'session.thread_status_idle',
  'session.thread_status_terminated',
  'agent.thread_message_sent',
  'agent.thread_message_received',
];
const VISIBLE = new Set<string>(SESSION_VISIBLE_TYPES);

export function isSessionVisible(type: EventType): boolean {
  return VISIBLE.has(type);
}

/** The thread an event belongs to (its payload's `session_thread_id`; null: the primary). */
function threadOfEvent(event: StoredEvent): string | null {
  const payload = event.payload as { session_thread_id?: unknown };
  return typeof payload.session_thread_id === 'string' ? payload.session_thread_id : null;
}

/**
 * The event as the session-level list and stream show it, or null for Drover's own types.
 * `index` must have folded the log up to the event (`index.ensure(event.seq)` or `feed`).
 */
export function sessionApiEventOf(sessionId: string, event: StoredEvent, index: EventIndex): ThreadTagged | null {
  if (!VISIBLE.has(event.type)) return null;
  if (THREAD_EVENT_TYPES.has(event.type)) {
    const mapped = threadApiEventOf(sessionId, event, (thread) => index.threadName(thread));
    if (mapped === null) return null;
    // The lifecycle events name their thread already; a message carries the thread that recorded it.
    const thread = threadOfEvent(event);
    return 'session_thread_id' in mapped || thread === null ? mapped : { ...mapped, session_thread_id: thread };
  }
  const mapped = isApiVisible(event.type) ? apiEventOf(event, index) : null;
  if (mapped === null) return null;
  const thread = threadOfEvent(event);
  return thread === null ? mapped : { ...mapped, session_thread_id: thread };
}
