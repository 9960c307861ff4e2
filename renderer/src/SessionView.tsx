/**
 * One session: its hands, its events in a table (loaded page by page, then kept live by the
 * 'session-event' push), "Fork here" on each event, and "Export" as a .jsonl download.
 */
import { memo, useCallback, useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import type { StoredEvent } from '#shared/events';
import type { SessionSummary } from '#shared/sessions';
import { Composer } from './Composer.tsx';
import { formatEventTime, formatFullTime, summarizeEvent, toolOutputText } from './format.ts';
import { HandsPanel } from './HandsPanel.tsx';
import type { Transport } from './transport.ts';

/** Events fetched per request; the newest page first, older ones on demand. */
const PAGE_SIZE = 500;
/** How close to the bottom (px) still counts as "following" new events. */
const FOLLOW_SLACK_PX = 48;

export interface SessionViewProps {
  transport: Transport;
  session: SessionSummary;
  titleOf: (sessionId: string) => string | undefined;
  onSelect: (sessionId: string) => void;
  /** A fork was created from this session. */
  onForked: (fork: SessionSummary) => void;
  onError: (reason: unknown) => void;
}

export function SessionView({ transport, session, titleOf, onSelect, onForked, onError }: SessionViewProps) {
  const [events, setEvents] = useState<readonly StoredEvent[]>([]);
  const [loading, setLoading] = useState(true);
  const [busy, setBusy] = useState<'export' | 'fork' | 'earlier' | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const following = useRef(true);
  /** Distance from the bottom to keep while older events are prepended, so the view stays put. */
  const keepFromBottom = useRef<number | null>(null);
  const titleId = useId();
  const sessionId = session.id;

  useEffect(() => {
    let active = true;
    // Listen before loading so nothing appended meanwhile is missed; mergeEvents drops repeats.
    const stop = transport.on('session-event', (push) => {
      if (push.sessionId === sessionId) setEvents((current) => mergeEvents(current, [push.event]));
    });
    transport
      .call('sessions-events', { sessionId, query: { direction: 'backward', limit: PAGE_SIZE } })
      .then(
        (page) => {
          if (active) setEvents((current) => mergeEvents(current, page));
        },
        (reason: unknown) => {
          if (active) onError(reason);
        },
      )
      .finally(() => {
        if (active) setLoading(false);
      });
    return () => {
      active = false;
      stop();
    };
  }, [transport, sessionId, onError]);

  // Keep the user's place when older events are prepended; otherwise follow the newest event
  // while the user is at the bottom.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (element === null) return;
    if (keepFromBottom.current !== null) {
      element.scrollTop = element.scrollHeight - keepFromBottom.current;
      keepFromBottom.current = null;
    } else if (following.current) {
      element.scrollTop = element.scrollHeight;
    }
  }, [events]);

  function onScroll(): void {
    const element = scroller.current;
    if (element === null) return;
    following.current = element.scrollHeight - element.scrollTop - element.clientHeight <= FOLLOW_SLACK_PX;
  }

  const firstSeq = events[0]?.seq;
  const hiddenEarlier = firstSeq === undefined ? 0 : firstSeq - 1;

  async function loadEarlier(): Promise<void> {
    if (firstSeq === undefined || busy !== null) return;
    setBusy('earlier');
    try {
      const page = await transport.call('sessions-events', {
        sessionId,
        query: { beforeSeq: firstSeq, direction: 'backward', limit: PAGE_SIZE },
      });
      const element = scroller.current;
      if (element !== null) keepFromBottom.current = element.scrollHeight - element.scrollTop;
      setEvents((current) => mergeEvents(page, current));
    } catch (reason) {
      onError(reason);
    } finally {
      setBusy(null);
    }
  }

  async function exportSession(): Promise<void> {
    setBusy('export');
    try {
      const { fileName, jsonl } = await transport.call('sessions-export', { sessionId });
      downloadText(fileName, jsonl, 'application/x-ndjson');
    } catch (reason) {
      onError(reason);
    } finally {
      setBusy(null);
    }
  }

  const fork = useCallback(
    async (atSeq: number) => {
      setBusy('fork');
      try {
        onForked(await transport.call('sessions-fork', { sessionId, atSeq }));
      } catch (reason) {
        onError(reason);
      } finally {
        setBusy(null);
      }
    },
    [transport, sessionId, onForked, onError],
  );

  const running = isRunning(events);
  // A launched session starts with its settings and hands recorded, but no conversation yet.
  const started = hiddenEarlier > 0 || events.some((event) => event.type === 'user.message');
  const parentId = session.parentId;
  const parentTitle = parentId === null ? undefined : titleOf(parentId);
  const inheritedThrough = session.forkSeq ?? 0;

  return (
    <section className="session" aria-labelledby={titleId}>
      <header className="session-header">
        <div className="session-heading">
          <h2 id={titleId}>{session.title}</h2>
          <p className="session-subtitle">
            {session.lastSeq === 1 ? '1 event' : `${session.lastSeq} events`} · created{' '}
            <time dateTime={session.createdAt}>{formatFullTime(session.createdAt)}</time>
            {parentId !== null && (
              <>
                {' · fork of '}
                {parentTitle === undefined ? (
                  'a deleted session'
                ) : (
                  <button type="button" className="link" onClick={() => onSelect(parentId)}>
                    {parentTitle}
                  </button>
                )}
                {session.forkSeq !== null && ` after event #${session.forkSeq}`}
              </>
            )}
          </p>
        </div>
        <div className="session-actions">
          <button
            type="button"
            className="button"
            onClick={() => void exportSession()}
            disabled={busy !== null}
            title="Save this session's events as a .jsonl file"
          >
            {busy === 'export' ? 'Exporting…' : 'Export'}
          </button>
        </div>
      </header>

      <HandsPanel transport={transport} sessionId={sessionId} />

      <div className="events" ref={scroller} onScroll={onScroll}>
        {hiddenEarlier > 0 && (
          <div className="load-earlier">
            <button type="button" className="button button-quiet" onClick={() => void loadEarlier()} disabled={busy !== null}>
              {busy === 'earlier'
                ? 'Loading…'
                : `Load earlier events (${hiddenEarlier} not shown)`}
            </button>
          </div>
        )}
        {events.length > 0 && (
          <table className="event-table">
            <thead>
              <tr>
                <th scope="col" className="col-seq">
                  #
                </th>
                <th scope="col" className="col-time">
                  Time
                </th>
                <th scope="col" className="col-type">
                  Type
                </th>
                <th scope="col">Summary</th>
                <th scope="col" className="col-actions">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => (
                <EventRow
                  key={event.seq}
                  event={event}
                  inherited={event.seq <= inheritedThrough}
                  titleOf={titleOf}
                  onFork={fork}
                  disabled={busy !== null}
                />
              ))}
            </tbody>
          </table>
        )}
        {!loading && events.length > 0 && !started && (
          <p className="events-hint empty-note">
            Send a message below to start Claude. Events appear here live as they are recorded.
          </p>
        )}
        {loading && events.length === 0 && <p className="events-empty">Loading events…</p>}
        {!loading && events.length === 0 && (
          <div className="events-empty">
            <p>No events yet.</p>
            <p className="empty-note">
              Send a message below to start Claude. Events appear here live as they are recorded.
            </p>
          </div>
        )}
      </div>
      <Composer transport={transport} sessionId={sessionId} running={running} onError={onError} />
    </section>
  );
}

/** The latest status event says a turn is under way. */
function isRunning(events: readonly StoredEvent[]): boolean {
  for (let index = events.length - 1; index >= 0; index--) {
    const type = events[index]?.type;
    if (type === 'session.status_running') return true;
    if (type === 'session.status_idle' || type === 'session.status_terminated') return false;
  }
  return false;
}

interface EventRowProps {
  event: StoredEvent;
  /** The event belongs to an ancestor session (this one is a fork). */
  inherited: boolean;
  titleOf: (sessionId: string) => string | undefined;
  onFork: (atSeq: number) => void;
  disabled: boolean;
}

const EventRow = memo(function EventRow({ event, inherited, titleOf, onFork, disabled }: EventRowProps) {
  const summary = summarizeEvent(event, titleOf);
  const output = toolOutputText(event);
  const category = event.type.slice(0, event.type.indexOf('.'));
  return (
    <tr className={inherited ? 'inherited' : undefined}>
      <td className="col-seq" title={inherited ? 'Inherited from the session this one was forked from' : undefined}>
        {event.seq}
      </td>
      <td className="col-time">
        <time dateTime={event.ts} title={formatFullTime(event.ts)}>
          {formatEventTime(event.ts)}
        </time>
      </td>
      <td className="col-type">
        <span className={`type-badge type-${category}`}>{event.type}</span>
      </td>
      {output === null ? (
        <td className="col-summary" title={summary}>
          {summary}
        </td>
      ) : (
        <td className="col-summary">
          <details className="event-output">
            <summary title="Show the whole output">{summary}</summary>
            <pre className="event-output-text">{output}</pre>
          </details>
        </td>
      )}
      <td className="col-actions">
        <button
          type="button"
          className="button button-small row-action"
          onClick={() => onFork(event.seq)}
          disabled={disabled}
          title={`Start a new session with events 1–${event.seq} of this one; this session stays as it is`}
        >
          Fork here
        </button>
      </td>
    </tr>
  );
});

/** Merges two event lists into one in ascending seq order, without duplicates. */
function mergeEvents(
  current: readonly StoredEvent[],
  incoming: readonly StoredEvent[],
): readonly StoredEvent[] {
  const last = current[current.length - 1];
  const first = incoming[0];
  if (first === undefined) return current;
  // The common case, a live append or the first page: no sorting needed.
  if ((last === undefined || first.seq > last.seq) && isAscending(incoming)) return [...current, ...incoming];
  const bySeq = new Map<number, StoredEvent>();
  for (const event of current) bySeq.set(event.seq, event);
  for (const event of incoming) bySeq.set(event.seq, event);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function isAscending(events: readonly StoredEvent[]): boolean {
  for (let index = 1; index < events.length; index++) {
    const previous = events[index - 1];
    const event = events[index];
    if (previous !== undefined && event !== undefined && event.seq <= previous.seq) return false;
  }
  return true;
}

/** Saves text as a file through the browser's download flow (Electron shows a save dialog). */
function downloadText(fileName: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  // The download reads the Blob asynchronously; revoking at once can cut it off.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
