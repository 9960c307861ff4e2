/**
 * `GET /v1/sessions/{id}/events/stream`: the session's live tail as Server-Sent Events, as the
 * official SDK reads them — an `event: <type>` line, an `id:` line (the event's `sevt_` id) and a
 * `data:` line of JSON per frame, a `: ping` comment every 15 s.
 *
 * A frame is written when its event is durable (the store's subscription), from the moment the
 * connection is attached — before the response's headers go out, so a client that opens the
 * stream and then lists the events (the SDK's own session runner does) misses nothing: what was
 * durable before is in the list, what came after is on the stream, and ids tell the overlap.
 * A new connection first gets the latest turn so far (from the last user input on, at most 1000
 * events), so a program that sends and only then opens the stream — the SDK's own example — sees
 * its whole turn and its end even when the turn ended first; repeats of listed events share ids.
 *
 * With `event_deltas[]` (`agent.message`, `agent.thinking`) the connection also gets the harness's
 * live (never stored) previews: an `event_start` when a text or thinking block starts, then
 * `event_delta` fragments of a text block's text. A preview's id is the id its stored event will
 * have (the harness promises it in the live `block_start`), so preview and event are one event.
 *
 * A client that reads slower than the session writes is dropped once its unsent frames pass a
 * bound (an `error` frame saying so, then the end): the server never holds more than that for it.
 * A deleted session's streams end with a `session.deleted` frame: at once when the API deletes it
 * (`endSessionStreams`), at the next ping when the cockpit does.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { BetaManagedAgentsSessionDeletedEvent, BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type { BetaManagedAgentsDeltaEvent, BetaManagedAgentsStartEvent } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import { isAppError } from '#shared/errors';
import type { LiveUpdate } from '#shared/harness';
import type { EventType, StoredEvent } from '#shared/events';
import type { ApiContext } from './context.ts';
import { invalid } from './errors.ts';
import { sessionApiEventOf } from './session-event-map.ts';
import { eventIndex, type EventIndex } from './event-index.ts';
import { checkQueryKeys, sessionUuid } from './events.ts';
import { externalId } from './ids.ts';
import { arrayParam } from './query.ts';
import type { Route } from './router.ts';

/** How often a quiet stream says it is alive, and how much unsent output a slow client may hold. Tests tune them. */
export const streamSettings = { pingMs: 15_000, maxBufferedBytes: 8 * 1024 * 1024, closeGraceMs: 10_000 };

const DELTA_TYPES = new Set(['agent.message', 'agent.thinking']);
const STREAM_KEYS = new Set(['event_deltas[]', 'event_deltas']);

/** Live streams open now (for tests and the bench: each ends its subscriptions when it closes). */
let openStreams = 0;
export function openStreamCount(): number {
  return openStreams;
}

/** Each open stream's "the session is gone" ending, by session uuid. */
const endings = new Map<string, Set<() => void>>();

/** Ends every stream of a deleted session with a `session.deleted` frame. */
export function endSessionStreams(sessionId: string): void {
  for (const end of [...(endings.get(sessionId) ?? [])]) end();
}

function frame(event: string, data: unknown, id?: string): string {
  return `event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`;
}

/** Previews of one connection: which live block is which preview (a response's blocks by index). */
class Previews {
  private readonly ids = new Map<number, string>();

  constructor(
    private readonly wanted: ReadonlySet<string>,
    private readonly write: (text: string) => void,
  ) {}

  take(update: LiveUpdate): void {
    switch (update.type) {
      case 'response_start':
      case 'response_end':
      case 'response_discarded':
        this.ids.clear();
        return;
      case 'block_start': {
        const type = update.block === 'text' ? 'agent.message' : update.block === 'tool_use' ? null : 'agent.thinking';
        if (type === null || !this.wanted.has(type)) return;
        // The stored event will carry the id the harness promised here: a client joins preview and event by it.
        const id = externalId('event', update.event_id ?? randomUUID());
        if (type === 'agent.message') this.ids.set(update.index, id);
        const start: BetaManagedAgentsStartEvent = { type: 'event_start', event: { type, id } };
        this.write(frame('event_start', start));
        return;
      }
      case 'delta': {
        const id = this.ids.get(update.index);
        if (update.kind !== 'text' || id === undefined) return;
        const delta: BetaManagedAgentsDeltaEvent = {
          type: 'event_delta',
          event_id: id,
          // An agent.message carries one text block: every fragment lands in its entry 0.
          delta: { type: 'content_delta', content: { type: 'text', text: update.text }, index: 0 },
        };
        this.write(frame('event_delta', delta));
        return;
      }
      default:
        return;
    }
  }
}

/** A stream's frame for an event, or null to leave it out: the session's API events by default, one thread's on a thread's stream. */
export type StreamView = (event: StoredEvent, index: EventIndex) => BetaManagedAgentsSessionEvent | null;

/** The session-level view: every thread's API events (a thread's with its `session_thread_id`) and the thread lifecycle. */
const sessionView =
  (sessionId: string): StreamView =>
  (event, index) =>
    sessionApiEventOf(sessionId, event, index);

/** Streams the session's events (those `view` shows) into `response` until the client goes or the server closes. */
export function tail(
  context: ApiContext,
  sessionId: string,
  deltas: ReadonlySet<string>,
  requestId: string,
  view: StreamView = sessionView(sessionId),
) {
  return (response: ServerResponse, signal: AbortSignal): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const index = eventIndex(context.store, sessionId);
      let closed = false;
      const cleanups: Array<() => void> = [];
      const close = (): void => {
        if (closed) return;
        closed = true;
        openStreams--;
        for (const cleanup of cleanups) cleanup();
        resolve();
      };
      openStreams++;
      try {
        const deleted = (): void => {
          if (closed) return;
          const event: BetaManagedAgentsSessionDeletedEvent = {
            id: externalId('event', randomUUID()),
            type: 'session.deleted',
            processed_at: new Date().toISOString(),
          };
          response.end(frame(event.type, event, event.id));
          close();
        };
        let ending = endings.get(sessionId);
        if (ending === undefined) {
          ending = new Set();
          endings.set(sessionId, ending);
        }
        ending.add(deleted);
        cleanups.push(() => {
          const set = endings.get(sessionId);
          set?.delete(deleted);
          if (set?.size === 0) endings.delete(sessionId);
        });
        const write = (text: string): void => {
          if (closed) return;
          response.write(text);
          if (response.writableLength > streamSettings.maxBufferedBytes) {
            // Past the bound: say why (after what is queued) and let go; nothing more is held for it.
            response.end(
              frame('error', {
                type: 'error',
                error: {
                  type: 'overloaded_error',
                  message:
                    'This stream was closed because the client read it more slowly than the session wrote it. Reconnect, then list the events after the last one you received.',
                },
              }),
            );
            const timer = setTimeout(() => response.destroy(), streamSettings.closeGraceMs);
            timer.unref();
            close();
          }
        };
        // Attached before the headers go out: whatever is durable from now on reaches this client.
        cleanups.push(
          context.store.subscribe(sessionId, (event: StoredEvent) => {
            try {
              index.feed(event);
              const mapped = view(event, index);
              if (mapped !== null) write(frame(mapped.type, mapped, mapped.id));
            } catch (error) {
              context.log('An event could not be written to an API stream', error);
            }
          }),
        );
        if (deltas.size > 0) {
          const previews = new Previews(deltas, write);
          cleanups.push(
            context.host.onLive((session, update) => {
              if (session === sessionId) previews.take(update);
            }),
          );
        }
        const ping = setInterval(() => {
          if (!exists(context, sessionId)) deleted();
          else write(': ping\n\n');
        }, streamSettings.pingMs);
        ping.unref();
        cleanups.push(() => clearInterval(ping));
        signal.addEventListener('abort', close, { once: true });
        response.on('close', close);
        response.writeHead(200, {
          'Content-Type': 'text/event-stream; charset=utf-8',
          'Cache-Control': 'no-store',
          Connection: 'keep-alive',
          'X-Accel-Buffering': 'no',
          'request-id': requestId,
        });
        // A first byte, so the client's request resolves at once (the SDK waits for the headers).
        response.write(': connected\n\n');
        // Then the latest turn so far — synchronously after subscribing, so nothing falls between
        // the two and nothing comes twice on this connection. A program that sends and then opens
        // the stream (the SDK's own example) misses none of its turn, and finds its end even when
        // the turn ended first; a client that also lists drops repeats by id, as the SDK's runner does.
        for (const event of latestTurn(context, sessionId)) {
          const mapped = view(event, index);
          if (mapped !== null) write(frame(mapped.type, mapped, mapped.id));
        }
        if (signal.aborted) close();
      } catch (error) {
        // Before the headers (the session deleted meanwhile): answered as any failed request.
        reject(error instanceof Error ? error : new Error(String(error)));
        close();
      }
    });
}

/** What a user (or program) sends that starts or steers a turn: where "the latest turn" begins. */
const TURN_INPUTS: EventType[] = [
  'user.message',
  'user.tool_confirmation',
  'user.custom_tool_result',
  'user.interrupt',
  'user.define_outcome',
];
/** At most this many events are replayed when a stream opens. */
const REPLAY_LIMIT = 1000;

/** The session's events from its latest turn input on (at most the last REPLAY_LIMIT). */
function latestTurn(context: ApiContext, sessionId: string): StoredEvent[] {
  const [input] = context.store.getEvents(sessionId, { types: TURN_INPUTS, direction: 'backward', limit: 1 });
  if (input === undefined) return [];
  const lastSeq = context.store.getSession(sessionId).lastSeq;
  const from = Math.max(input.seq, lastSeq - REPLAY_LIMIT + 1);
  return context.store.getEvents(sessionId, { afterSeq: from - 1, limit: REPLAY_LIMIT });
}

function exists(context: ApiContext, sessionId: string): boolean {
  try {
    context.store.getSession(sessionId);
    return true;
  } catch (error) {
    if (isAppError(error) && error.code === 'not-found') return false;
    return true;
  }
}

export function streamRoutes(context: ApiContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/sessions/:session_id/events/stream',
      handler: (request) => {
        const sessionId = sessionUuid(context, request.params['session_id'] ?? '');
        checkQueryKeys(request.query, STREAM_KEYS, 'Streaming events');
        const deltas = arrayParam(request.query, 'event_deltas');
        const unknown = deltas.filter((type) => !DELTA_TYPES.has(type));
        if (unknown.length > 0)
          throw invalid(
            `event_deltas[] takes agent.message and agent.thinking (got ${unknown.map((type) => JSON.stringify(type.slice(0, 64))).join(', ')}).`,
          );
        return { stream: tail(context, sessionId, new Set(deltas), request.requestId) };
      },
    },
  ];
}
