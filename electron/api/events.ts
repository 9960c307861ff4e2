/**
 * A session's events through the API: `GET /v1/sessions/{id}/events` (the log in the service's
 * shape, filtered and paged by stable cursors) and `POST /v1/sessions/{id}/events` (what a client
 * sends: messages, interrupts, outcomes, tool confirmations, custom tool results, system
 * messages). Sending goes through the host's RPC methods, the same the cockpit calls; a batch is
 * checked whole before anything of it is recorded.
 */
import type { BetaManagedAgentsSessionEvent, BetaManagedAgentsSendSessionEvents } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { z } from 'zod';
import { isAppError } from '#shared/errors';
import type { EventType, StoredEvent } from '#shared/events';
import type { ApiContext } from './context.ts';
import { invalid, notFound } from './errors.ts';
import { eventIndex } from './event-index.ts';
import { SERVICE_EVENT_TYPES } from './event-map.ts';
import { SESSION_VISIBLE_TYPES, sessionApiEventOf } from './session-event-map.ts';
import { internalId } from './ids.ts';
import { cursorParam, encodeCursor, inRange, limitParam, orderParam, rangeParam, arrayParam } from './query.ts';
import type { Route } from './router.ts';
import { sendEvents } from './events-send.ts';
import { checkWorkerSend } from './work.ts';

/** The session's uuid behind `sesn_…`, after checking it exists (404 otherwise). */
export function sessionUuid(context: ApiContext, id: string): string {
  const uuid = internalId('session', id);
  if (uuid === null) throw notFound('session', id);
  try {
    context.store.getSession(uuid);
  } catch (error) {
    if (isAppError(error) && error.code === 'not-found') throw notFound('session', id);
    throw error;
  }
  return uuid;
}

/** Stored events of one session in the service's shape, Drover's own left out (for other resources, e.g. initial events). */
export function apiEventsOf(context: ApiContext, sessionId: string, events: readonly StoredEvent[]): BetaManagedAgentsSessionEvent[] {
  const index = eventIndex(context.store, sessionId);
  const last = Math.max(0, ...events.map((event) => event.seq));
  index.ensure(last);
  return events.flatMap((event) => {
    const mapped = sessionApiEventOf(sessionId, event, index);
    return mapped === null ? [] : [mapped];
  });
}

/** The query keys a list takes (anything else is refused by name). */
const LIST_KEYS = new Set([
  'types[]',
  'types',
  'order',
  'limit',
  'page',
  'created_at[gt]',
  'created_at[gte]',
  'created_at[lt]',
  'created_at[lte]',
]);

/** Where the next page starts: after (asc) or before (desc) this seq. */
const EventCursorSchema = z.strictObject({ seq: z.number().int().nonnegative(), order: z.enum(['asc', 'desc']) });

/** Most events per page (the SDK's own session runner asks for 1000). */
export const MAX_PAGE = 1000;

export function checkQueryKeys(query: URLSearchParams, allowed: ReadonlySet<string>, what: string): void {
  const unknown = [...new Set(query.keys())].filter((key) => !allowed.has(key));
  if (unknown.length === 0) return;
  const named = unknown.map((key) => JSON.stringify(key.slice(0, 64))).join(', ');
  throw invalid(
    allowed.size === 0
      ? `${what} takes no query parameters (got ${named}).`
      : `${what} takes no ${named} parameter${unknown.length > 1 ? 's' : ''}. It takes ${[...allowed].join(', ')}.`,
  );
}

export interface EventPage {
  data: BetaManagedAgentsSessionEvent[];
  next_page: string | null;
}

/** One page of the session's events in the service's shape. */
export function listEvents(context: ApiContext, sessionId: string, query: URLSearchParams): EventPage {
  checkQueryKeys(query, LIST_KEYS, 'Listing events');
  const requested = arrayParam(query, 'types');
  const known = new Set<string>(SERVICE_EVENT_TYPES);
  const unknown = requested.filter((type) => !known.has(type));
  if (unknown.length > 0)
    throw invalid(
      `types[] has ${unknown.map((type) => JSON.stringify(type.slice(0, 64))).join(', ')}, which ${unknown.length > 1 ? 'are not event types' : 'is not an event type'}. Use the service's names, such as user.message or agent.tool_use.`,
    );
  const order = orderParam(query, 'asc');
  const limit = limitParam(query, 20, MAX_PAGE);
  const range = rangeParam(query, 'created_at');
  const cursor = cursorParam(query, EventCursorSchema);
  if (cursor !== null && cursor.order !== order)
    throw invalid(`page is a cursor of a list in ${cursor.order} order: ask for the next page with order=${cursor.order}.`);
  const types: EventType[] =
    requested.length === 0 ? [...SESSION_VISIBLE_TYPES] : SESSION_VISIBLE_TYPES.filter((type) => requested.includes(type));
  if (types.length === 0) return { data: [], next_page: null };

  const index = eventIndex(context.store, sessionId);
  const backward = order === 'desc';
  let position = cursor?.seq ?? (backward ? Number.MAX_SAFE_INTEGER : 0);
  const picked: StoredEvent[] = [];
  let exhausted = false;
  // Reads until a page and one more event are found (the one more says whether a next page exists).
  while (picked.length <= limit && !exhausted) {
    const chunk = context.store.getEvents(sessionId, {
      types,
      limit: Math.min(MAX_PAGE, Math.max(100, (limit + 1 - picked.length) * 2)),
      ...(backward ? { direction: 'backward' as const, beforeSeq: position } : { afterSeq: position }),
    });
    if (chunk.length === 0) break;
    // A backward read comes in seq order too (the last events before the cursor): walk it from its end.
    if (backward) chunk.reverse();
    for (const event of chunk) {
      position = event.seq;
      const ms = Date.parse(event.ts);
      if (!inRange(ms, range)) {
        // Timestamps grow with seq: past the range's far end, nothing later can match.
        if (!backward && ((range.lt !== undefined && ms >= range.lt) || (range.lte !== undefined && ms > range.lte))) exhausted = true;
        if (backward && ((range.gt !== undefined && ms <= range.gt) || (range.gte !== undefined && ms < range.gte))) exhausted = true;
        if (exhausted) break;
        continue;
      }
      picked.push(event);
      if (picked.length > limit) break;
    }
  }
  const page = picked.slice(0, limit);
  const last = page.at(-1);
  if (last !== undefined) index.ensure(Math.max(last.seq, page[0]?.seq ?? 0));
  const data: BetaManagedAgentsSessionEvent[] = [];
  for (const event of page) {
    const mapped = sessionApiEventOf(sessionId, event, index);
    if (mapped !== null) data.push(mapped);
  }
  return {
    data,
    next_page: picked.length > limit && last !== undefined ? encodeCursor({ seq: last.seq, order }) : null,
  };
}

export function eventRoutes(context: ApiContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/sessions/:session_id/events',
      handler: (request) => ({ body: listEvents(context, sessionUuid(context, request.params['session_id'] ?? ''), request.query) }),
    },
    {
      method: 'POST',
      path: '/v1/sessions/:session_id/events',
      handler: async (request) => {
        const sessionId = sessionUuid(context, request.params['session_id'] ?? '');
        checkQueryKeys(request.query, new Set(), 'Sending events');
        checkWorkerSend(context, request);
        const sent: BetaManagedAgentsSendSessionEvents = await sendEvents(context, sessionId, request.body);
        return { body: sent };
      },
    },
  ];
}
