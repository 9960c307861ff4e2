/**
 * Search across sessions (Ctrl/Cmd+Shift+F, or Search in the sidebar): a query box, filters (session,
 * hand, kind of event, dates) and hits grouped by session, each with its highlighted snippet. A hit
 * opens its session at that event on the timeline. While the index catches up with the log it says
 * "Indexing…" with how many events are still to come. A native <dialog>: Escape closes it.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { SearchHit, SearchResult, SearchStatus } from '#shared/search';
import type { SessionSummary } from '#shared/sessions';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { formatFullTime } from '#renderer/ui/format.ts';
import { EVENT_KINDS, groupHits, hitLabel, NO_FILTERS, searchArg, type EventKind, type SearchFilters } from './search-model.ts';
import './search.css';

export interface SearchDialogProps {
  transport: Transport;
  sessions: readonly SessionSummary[];
  onOpenHit: (sessionId: string, seq: number) => void;
  onClose: () => void;
}

export function SearchDialog({ transport, sessions, onOpenHit, onClose }: SearchDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [filters, setFilters] = useState<SearchFilters>(NO_FILTERS);
  const [hits, setHits] = useState<SearchHit[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [status, setStatus] = useState<SearchStatus | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [searched, setSearched] = useState(false);
  const [busy, setBusy] = useState(false);
  const request = useRef(0);
  const queryBox = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const element = dialog.current;
    if (element !== null && !element.open) element.showModal();
    // showModal focuses the first control (Close): the query box is where the user types.
    queryBox.current?.focus();
  }, []);

  const run = useCallback(
    async (current: SearchFilters, cursor?: string) => {
      const arg = searchArg(current, cursor);
      const id = ++request.current;
      if (arg === null) {
        setHits([]);
        setNextCursor(null);
        setProblem(null);
        setSearched(false);
        return;
      }
      setBusy(true);
      try {
        const result: SearchResult = await transport.call('search', arg);
        if (id !== request.current) return;
        setHits((before) => (cursor === undefined ? result.hits : [...before, ...result.hits]));
        setNextCursor(result.nextCursor);
        setStatus(result.status);
        setProblem(null);
        setSearched(true);
      } catch (reason) {
        if (id !== request.current) return;
        setHits([]);
        setNextCursor(null);
        setProblem(messageOf(reason));
      } finally {
        if (id === request.current) setBusy(false);
      }
    },
    [transport],
  );

  // Searches as the user types (a moment after the last key) and when a filter changes.
  useEffect(() => {
    const timer = setTimeout(() => void run(filters), 250);
    return () => clearTimeout(timer);
  }, [filters, run]);

  // While the index catches up, say so and how far it has to go; search again when it is done.
  const indexing = status?.state === 'indexing';
  useEffect(() => {
    if (!indexing) return;
    const timer = setInterval(() => {
      transport.call('search-status', undefined).then((next) => {
        setStatus(next);
        if (next.state === 'idle') void run(filters);
      }, setProblemFrom(setProblem));
    }, 1000);
    return () => clearInterval(timer);
  }, [indexing, transport, run, filters]);

  useEffect(() => {
    transport.call('search-status', undefined).then(setStatus, setProblemFrom(setProblem));
  }, [transport]);

  const groups = useMemo(() => groupHits(hits), [hits]);
  const hands = useMemo(() => [...new Set(hits.flatMap((hit) => (hit.hand === null ? [] : [hit.hand])))].sort(), [hits]);
  const update = (change: Partial<SearchFilters>) => setFilters((current) => ({ ...current, ...change }));

  return (
    <dialog ref={dialog} className="search-dialog" aria-labelledby="search-title" aria-modal="true" onClose={onClose}>
      <header className="search-header">
        <h2 id="search-title">Search sessions</h2>
        <form method="dialog">
          <button type="submit" className="button" aria-label="Close search">
            Close
          </button>
        </form>
      </header>
      <form
        className="search-form"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          void run(filters);
        }}
      >
        <input
          className="input search-query"
          ref={queryBox}
          type="search"
          value={filters.query}
          onChange={(event) => update({ query: event.target.value })}
          placeholder='Words, "a phrase" or a prefix*'
          aria-label="Search for"
          maxLength={1000}
        />
        <div className="search-filters">
          <label>
            Session
            <select className="input" value={filters.sessionId} onChange={(event) => update({ sessionId: event.target.value })}>
              <option value="">All sessions</option>
              {sessions.map((session) => (
                <option key={session.id} value={session.id}>
                  {session.title}
                  {session.kind === 'rewind' ? ' (branch)' : ''}
                </option>
              ))}
            </select>
          </label>
          <label>
            Hand
            <input
              className="input"
              list="search-hands"
              value={filters.hand}
              onChange={(event) => update({ hand: event.target.value })}
              placeholder="Any"
            />
            <datalist id="search-hands">
              {hands.map((hand) => (
                <option key={hand} value={hand} />
              ))}
            </datalist>
          </label>
          <label>
            Kind
            <select className="input" value={filters.kind} onChange={(event) => update({ kind: event.target.value as EventKind | '' })}>
              <option value="">Any event</option>
              {(Object.keys(EVENT_KINDS) as EventKind[]).map((kind) => (
                <option key={kind} value={kind}>
                  {EVENT_KINDS[kind].label}
                </option>
              ))}
            </select>
          </label>
          <label>
            From
            <input className="input" type="date" value={filters.from} onChange={(event) => update({ from: event.target.value })} />
          </label>
          <label>
            To
            <input className="input" type="date" value={filters.to} onChange={(event) => update({ to: event.target.value })} />
          </label>
        </div>
      </form>
      <p className="search-status" role="status" aria-live="polite">
        {indexing && status !== null
          ? `Indexing… ${status.pending.toLocaleString()} events to go (${status.indexed.toLocaleString()} searchable)`
          : busy
            ? 'Searching…'
            : searched
              ? `${hits.length}${nextCursor === null ? '' : '+'} ${hits.length === 1 ? 'hit' : 'hits'} in ${groups.length} ${groups.length === 1 ? 'session' : 'sessions'}`
              : ''}
      </p>
      {problem !== null && (
        <p className="search-problem" role="alert">
          {problem}
        </p>
      )}
      <div className="search-results" data-testid="search-results">
        {searched && hits.length === 0 && problem === null && (
          <p className="empty-note">Nothing found. Try fewer words or other filters.</p>
        )}
        {groups.map((group) => (
          <section key={group.sessionId} className="search-group" aria-label={`Hits in ${group.title}`}>
            <h3 className="search-group-title">
              {group.title} <span className="search-count">({group.hits.length})</span>
            </h3>
            <ul>
              {group.hits.map((hit) => (
                <li key={`${hit.sessionId}:${hit.seq}`}>
                  <button type="button" className="search-hit" data-testid="search-hit" onClick={() => onOpenHit(hit.sessionId, hit.seq)}>
                    <span className="search-hit-meta">
                      <span>{hitLabel(hit)}</span>
                      <span>#{hit.seq}</span>
                      <time dateTime={hit.ts}>{formatFullTime(hit.ts)}</time>
                    </span>
                    <span className="search-snippet">
                      {hit.snippet.map((part, index) =>
                        part.match ? <mark key={index}>{part.text}</mark> : <span key={index}>{part.text}</span>,
                      )}
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          </section>
        ))}
        {nextCursor !== null && (
          <button type="button" className="button" disabled={busy} onClick={() => void run(filters, nextCursor)}>
            More results
          </button>
        )}
      </div>
    </dialog>
  );
}

function setProblemFrom(set: (message: string) => void): (reason: unknown) => void {
  return (reason) => set(messageOf(reason));
}
