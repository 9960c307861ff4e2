/**
 * A session's threads through the API (issue 21), as the official SDK calls them:
 * `GET /v1/sessions/{id}/threads` (PageCursor, `statuses[]`), `GET …/threads/{tid}`,
 * `POST …/threads/{tid}/archive`, `GET …/threads/{tid}/events` (PageCursor) and
 * `GET …/threads/{tid}/stream` (SSE, as the session's stream). The threads are the cockpit's fold
 * (RPC `sessions-threads`); a thread's events are those of its lane (its own, and the creation of
 * the threads it started). Archiving is `session.thread_archived` in the log (RPC `sessions-archive-thread`):
 * forks taken after it show the thread archived; it changes nothing the threads do.
 */
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type { BetaManagedAgentsSession } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import type {
  BetaManagedAgentsSessionThread,
  BetaManagedAgentsSessionThreadStatus,
} from '@anthropic-ai/sdk/resources/beta/sessions/threads/threads';
import { z } from 'zod';
import type { StoredEvent } from '#shared/events';
import type { RosterAgent } from '#shared/threads';
import { threadOf, type SessionThreads, type ThreadSummary } from '#shared/thread-view';
import { call, type ApiContext } from './context.ts';
import { invalid, notFound } from './errors.ts';
import { eventIndex } from './event-index.ts';
import { apiEventOf, isApiVisible } from './event-map.ts';
import { MAX_PAGE, checkQueryKeys, sessionUuid } from './events.ts';
import { arrayParam, cursorParam, encodeCursor, limitParam } from './query.ts';
import { checkNoBody } from './resource-pages.ts';
import type { Route } from './router.ts';
import { retrieveSession } from './session-view.ts';
import { tail, type StreamView } from './stream.ts';
import { THREAD_EVENT_TYPES, apiThreadOf, threadApiEventOf, threadOfApiId } from './threads-map.ts';

const STATUSES: readonly BetaManagedAgentsSessionThreadStatus[] = ['running', 'idle', 'rescheduling', 'terminated'];
const LIST_KEYS = new Set(['limit', 'page', 'statuses[]', 'statuses']);
const EVENT_KEYS = new Set(['limit', 'page']);
const ThreadCursorSchema = z.strictObject({ after: z.number().int().nonnegative() });
const EventCursorSchema = z.strictObject({ after_seq: z.number().int().nonnegative() });

interface Threads {
  sessionId: string;
  view: SessionThreads;
}

async function threadsOf(context: ApiContext, sessionId: string): Promise<Threads> {
  return { sessionId, view: await call(context, 'sessions-threads', { sessionId }) };
}

/** The thread `id` names in the session (null: the primary); 404 when it is none of its threads. */
function pick(threads: Threads, id: string): { thread: ThreadSummary; lane: number } {
  const key = threadOfApiId(threads.sessionId, id, threads.view.threads);
  const lane = key === undefined ? -1 : threads.view.threads.findIndex((thread) => thread.id === key);
  const thread = threads.view.threads[lane];
  if (thread === undefined) throw notFound('thread in this session', id);
  return { thread, lane };
}

/** The session's latest `session.roster_set` agents (none: no roster). */
function rosterOf(context: ApiContext, sessionId: string): RosterAgent[] {
  const [set] = context.store.getEvents(sessionId, { types: ['session.roster_set'], direction: 'backward', limit: 1 });
  return set?.type === 'session.roster_set' ? set.payload.agents : [];
}

function resourceOf(context: ApiContext, session: BetaManagedAgentsSession, threads: Threads, thread: ThreadSummary) {
  const roster = rosterOf(context, threads.sessionId);
  const body: BetaManagedAgentsSessionThread = apiThreadOf(session, threads.sessionId, thread, roster, thread.archivedAt);
  return body;
}

/** A thread's events in the service's shape: its API events and its thread events. */
function threadView(sessionId: string, thread: ThreadSummary, nameOf: (id: string | null) => string): StreamView {
  return (event, index) => {
    const own = threadOf(event) === thread.id;
    const started = event.type === 'session.thread_created' && (event.payload.parent_thread_id ?? null) === thread.id;
    if (!own && !started) return null;
    if (THREAD_EVENT_TYPES.has(event.type)) return threadApiEventOf(sessionId, event, nameOf);
    return isApiVisible(event.type) ? apiEventOf(event, index) : null;
  };
}

/** A thread's agent name by id, from the fold, and from creations seen since (a stream outlives the fold it started with). */
function namer(threads: readonly ThreadSummary[]): (id: string | null) => string {
  const names = new Map(threads.map((thread) => [thread.id, thread.agentName]));
  return (id) => names.get(id) ?? id ?? 'coordinator';
}

function listThreads(context: ApiContext, session: BetaManagedAgentsSession, threads: Threads, query: URLSearchParams) {
  checkQueryKeys(query, LIST_KEYS, 'Listing threads');
  const statuses = arrayParam(query, 'statuses');
  const unknown = statuses.filter((status) => !STATUSES.includes(status as BetaManagedAgentsSessionThreadStatus));
  if (unknown.length > 0)
    throw invalid(
      `statuses[] takes ${STATUSES.join(', ')} (got ${unknown.map((status) => JSON.stringify(status.slice(0, 64))).join(', ')}).`,
    );
  const limit = limitParam(query, 20, 100);
  const cursor = cursorParam(query, ThreadCursorSchema);
  const all = threads.view.threads.map((thread) => resourceOf(context, session, threads, thread));
  const kept = statuses.length === 0 ? all : all.filter((thread) => statuses.includes(thread.status));
  const start = cursor?.after ?? 0;
  const data = kept.slice(start, start + limit);
  return { data, next_page: start + limit < kept.length ? encodeCursor({ after: start + limit }) : null };
}

/** One page of a thread's events (ascending), after the cursor's seq. */
function listThreadEvents(context: ApiContext, threads: Threads, thread: ThreadSummary, lane: number, query: URLSearchParams) {
  checkQueryKeys(query, EVENT_KEYS, "Listing a thread's events");
  const limit = limitParam(query, 20, MAX_PAGE);
  const cursor = cursorParam(query, EventCursorSchema);
  const { sessionId, view } = threads;
  const codes = view.lanes.codes;
  const laneAt = (seq: number): number => (codes.length === 0 ? 0 : (codes[seq - view.lanes.fromSeq] ?? 0));
  const index = eventIndex(context.store, sessionId);
  const map = threadView(sessionId, thread, namer(view.threads));
  const data: BetaManagedAgentsSessionEvent[] = [];
  let position = cursor?.after_seq ?? 0;
  let more = false;
  // Reads the log in order, keeping the thread's events, until a page and one more are found.
  while (!more && position < view.throughSeq) {
    const chunk = context.store.getEvents(sessionId, { afterSeq: position, limit: MAX_PAGE });
    if (chunk.length === 0) break;
    index.ensure((chunk.at(-1) as StoredEvent).seq);
    for (const event of chunk) {
      if (event.seq > view.throughSeq) break;
      // The lane says whose it is without a look at the payload; a creation is also its parent's.
      const mapped = laneAt(event.seq) === lane || event.type === 'session.thread_created' ? map(event, index) : null;
      if (mapped === null) {
        position = event.seq;
        continue;
      }
      if (data.length === limit) {
        more = true;
        break;
      }
      data.push(mapped);
      position = event.seq;
    }
  }
  return { data, next_page: more ? encodeCursor({ after_seq: position }) : null };
}

export function threadRoutes(context: ApiContext): Route[] {
  const ids = (params: Readonly<Record<string, string>>) => ({
    sessionId: sessionUuid(context, params['session_id'] ?? ''),
    threadId: params['thread_id'] ?? '',
  });
  return [
    {
      method: 'GET',
      path: '/v1/sessions/:session_id/threads',
      handler: async (request) => {
        const sessionId = sessionUuid(context, request.params['session_id'] ?? '');
        checkQueryKeys(request.query, LIST_KEYS, 'Listing threads');
        const [session, threads] = await Promise.all([retrieveSession(context, sessionId), threadsOf(context, sessionId)]);
        return { body: listThreads(context, session, threads, request.query) };
      },
    },
    {
      method: 'GET',
      path: '/v1/sessions/:session_id/threads/:thread_id',
      handler: async (request) => {
        const { sessionId, threadId } = ids(request.params);
        checkQueryKeys(request.query, new Set(), 'Retrieving a thread');
        const threads = await threadsOf(context, sessionId);
        const { thread } = pick(threads, threadId);
        return { body: resourceOf(context, await retrieveSession(context, sessionId), threads, thread) };
      },
    },
    {
      method: 'POST',
      path: '/v1/sessions/:session_id/threads/:thread_id/archive',
      handler: async (request) => {
        const { sessionId, threadId } = ids(request.params);
        checkQueryKeys(request.query, new Set(), 'Archiving a thread');
        checkNoBody(request.body);
        const threads = await threadsOf(context, sessionId);
        const { thread } = pick(threads, threadId);
        if (thread.id === null)
          throw invalid(`${threadId} is the session's primary thread: it cannot be archived on its own. Archive the session instead.`);
        // A running thread is refused by the RPC (checked with the append, so nothing can start it in between).
        const archived = await call(context, 'sessions-archive-thread', { sessionId, sessionThreadId: thread.id });
        return { body: resourceOf(context, await retrieveSession(context, sessionId), threads, archived) };
      },
    },
    {
      method: 'GET',
      path: '/v1/sessions/:session_id/threads/:thread_id/events',
      handler: async (request) => {
        const { sessionId, threadId } = ids(request.params);
        checkQueryKeys(request.query, EVENT_KEYS, "Listing a thread's events");
        const threads = await threadsOf(context, sessionId);
        const { thread, lane } = pick(threads, threadId);
        return { body: listThreadEvents(context, threads, thread, lane, request.query) };
      },
    },
    {
      method: 'GET',
      path: '/v1/sessions/:session_id/threads/:thread_id/stream',
      handler: async (request) => {
        const { sessionId, threadId } = ids(request.params);
        checkQueryKeys(request.query, new Set(['event_deltas[]', 'event_deltas']), "Streaming a thread's events");
        if (arrayParam(request.query, 'event_deltas').length > 0)
          throw invalid(
            "event_deltas[] is not available on a thread's stream yet: leave it out (each event arrives whole), or stream the session's events for previews.",
          );
        const threads = await threadsOf(context, sessionId);
        const { thread } = pick(threads, threadId);
        const names = namer(threads.view.threads);
        const seen = new Map<string, string>();
        const nameOf = (id: string | null): string => (id !== null ? (seen.get(id) ?? names(id)) : names(id));
        const view = threadView(sessionId, thread, nameOf);
        return {
          stream: tail(context, sessionId, new Set(), request.requestId, (event, index) => {
            if (event.type === 'session.thread_created') seen.set(event.payload.session_thread_id, event.payload.agent_name);
            return view(event, index);
          }),
        };
      },
    },
  ];
}
