/**
 * The inspector's list of every event of a session, newest included, with filters by category
 * and the cursor event's raw JSON below it. Stays fast at 100k events: it filters on types alone
 * (event-filter.ts), renders only the visible rows, and loads payloads only for those rows.
 *
 * It never changes the cursor itself: it asks with `onSelect`, and follows the `cursor` it is given.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useId, useMemo, useRef, useState, useSyncExternalStore, type KeyboardEvent, type MouseEvent } from 'react';
import type { EventType, StoredEvent } from '#shared/events';
import { CATEGORY_LABELS, EVENT_CATEGORIES, categoryOf, type EventCategory } from './event-categories.ts';
import {
  ALL_CATEGORIES,
  countCategories,
  filterSeqs,
  hasCategory,
  indexOfSeq,
  missingRanges,
  parseEventFilter,
  serializeEventFilter,
  stepIndex,
  toggleCategory,
  type CategoryMask,
} from './event-filter.ts';
import { formatEventTime, formatFullTime, summarizeEvent } from '#renderer/ui/format.ts';
import { CHUNK_SIZE, type SessionLog } from '#renderer/client/session-log.ts';
import { eventName } from './event-names.ts';
import './timeline.css';
import './event-names.css';

export interface EventListProps {
  log: SessionLog;
  /** Seq of the event the app is looking at (the timeline's cursor). */
  cursor: number;
  onSelect: (seq: number) => void;
  titleOf: (sessionId: string) => string | undefined;
}

/** Fixed, so a row never changes height when its payload arrives (no layout jumps). */
const ROW_HEIGHT = 28;
const OVERSCAN = 12;
const FILTER_STORAGE_KEY = 'drover.eventFilter';
/** A cursor move this soon after the user's own wheel or touch scroll does not scroll the list. */
const USER_SCROLL_GRACE_MS = 400;
const COPY_FEEDBACK_MS = 2000;

function rowSize(): number {
  return ROW_HEIGHT;
}

export function EventList({ log, cursor, onSelect, titleOf }: EventListProps) {
  useSyncExternalStore(log.subscribe, log.getVersion);
  const lastSeq = log.lastSeq;
  const [mask, setMask] = useState<CategoryMask>(readSavedFilter);
  const baseId = useId();
  const scroller = useRef<HTMLDivElement>(null);
  const userScrollAt = useRef(-Infinity);
  const revealed = useRef<{ log: SessionLog; cursor: number; mask: CategoryMask } | null>(null);

  // Appends only add seqs, so lastSeq (not the version, which also moves when payloads load)
  // is what the filtered list depends on.
  const seqs = useMemo(() => filterSeqs((seq) => log.typeAt(seq), lastSeq, mask), [log, lastSeq, mask]);
  const counts = useMemo(() => countCategories((seq) => log.typeAt(seq), lastSeq), [log, lastSeq]);
  const selectedIndex = indexOfSeq(seqs, cursor);

  const virtualizer = useVirtualizer({
    count: seqs.length,
    getScrollElement: () => scroller.current,
    estimateSize: rowSize,
    overscan: OVERSCAN,
    // React 19 warns about flushSync inside effects; a frame's delay on scroll is invisible here.
    useFlushSync: false,
  });
  const items = virtualizer.getVirtualItems();
  const firstIndex = items[0]?.index ?? 0;
  const lastIndex = items.at(-1)?.index ?? -1;

  useEffect(() => {
    if (lastIndex < firstIndex) return;
    const shown = seqs.subarray(firstIndex, lastIndex + 1);
    for (const [from, to] of missingRanges(shown, (seq) => log.event(seq) !== undefined, CHUNK_SIZE)) log.ensure(from, to);
  }, [log, seqs, firstIndex, lastIndex]);

  // Scroll only when the cursor (or the filter) changed and its row is out of view, so a user
  // reading elsewhere in the list is not pulled back by appends.
  useEffect(() => {
    const last = revealed.current;
    if (last !== null && last.log === log && last.cursor === cursor && last.mask === mask) return;
    if (selectedIndex < 0) return;
    revealed.current = { log, cursor, mask };
    const element = scroller.current;
    if (element === null || performance.now() - userScrollAt.current < USER_SCROLL_GRACE_MS) return;
    const top = selectedIndex * ROW_HEIGHT;
    const viewTop = element.scrollTop;
    const viewHeight = element.clientHeight;
    if (top >= viewTop && top + ROW_HEIGHT <= viewTop + viewHeight) return;
    // A step just past the edge scrolls by a row; a jump from the timeline centres the row.
    const near = top > viewTop - viewHeight && top < viewTop + 2 * viewHeight;
    virtualizer.scrollToIndex(selectedIndex, { align: near ? 'auto' : 'center' });
  }, [log, cursor, mask, selectedIndex, virtualizer]);

  const cursorEvent = cursor >= 1 && cursor <= lastSeq ? log.event(cursor) : undefined;
  const cursorMissing = cursor >= 1 && cursor <= lastSeq && cursorEvent === undefined;
  useEffect(() => {
    if (cursorMissing) log.ensure(cursor, cursor);
  }, [log, cursor, cursorMissing]);

  function changeMask(next: CategoryMask): void {
    setMask(next);
    saveFilter(next);
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>): void {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const page = Math.max(1, Math.floor((scroller.current?.clientHeight ?? 0) / ROW_HEIGHT) - 1);
    let target: number | null;
    switch (event.key) {
      case 'ArrowDown':
        target = stepIndex(seqs, cursor, 1);
        break;
      case 'ArrowUp':
        target = stepIndex(seqs, cursor, -1);
        break;
      case 'PageDown':
        target = stepIndex(seqs, cursor, page);
        break;
      case 'PageUp':
        target = stepIndex(seqs, cursor, -page);
        break;
      case 'Home':
        target = seqs.length > 0 ? 0 : null;
        break;
      case 'End':
        target = seqs.length > 0 ? seqs.length - 1 : null;
        break;
      default:
        // ←/→ step the timeline app-wide: leave them (and everything else) to bubble.
        return;
    }
    event.preventDefault();
    event.stopPropagation();
    const seq = target === null ? undefined : seqs[target];
    if (seq !== undefined && seq !== cursor) onSelect(seq);
  }

  function onClick(event: MouseEvent<HTMLDivElement>): void {
    const row = event.target instanceof Element ? event.target.closest<HTMLElement>('[data-seq]') : null;
    const seq = Number(row?.dataset.seq);
    if (Number.isInteger(seq) && seq >= 1) onSelect(seq);
  }

  function noteUserScroll(): void {
    userScrollAt.current = performance.now();
  }

  const rowId = (seq: number) => `${baseId}-event-${seq}`;
  const cursorRendered = selectedIndex >= 0 && selectedIndex >= firstIndex && selectedIndex <= lastIndex;

  return (
    <div className="event-list" data-testid="event-list">
      <div className="event-list-filters" role="group" aria-label="Show events of kind">
        <button type="button" className="event-filter" aria-pressed={mask === ALL_CATEGORIES} onClick={() => changeMask(ALL_CATEGORIES)}>
          All <span className="event-filter-count">{lastSeq.toLocaleString()}</span>
        </button>
        {EVENT_CATEGORIES.map((category) => (
          <FilterChip key={category} category={category} count={counts[category]} mask={mask} onChange={changeMask} />
        ))}
      </div>
      <div className="event-list-columns" aria-hidden="true">
        <span className="event-row-seq">#</span>
        <span className="event-row-time">Time</span>
        <span>Event</span>
        <span className="event-row-summary">Summary</span>
      </div>
      <div className="event-list-body">
        <div
          ref={scroller}
          className="event-list-scroller"
          role="listbox"
          aria-label="Events"
          tabIndex={0}
          aria-activedescendant={cursorRendered ? rowId(cursor) : undefined}
          onKeyDown={onKeyDown}
          onClick={onClick}
          onWheel={noteUserScroll}
          onTouchMove={noteUserScroll}
        >
          <div className="event-list-rows" role="presentation" style={{ height: virtualizer.getTotalSize() }}>
            {items.map((item) => {
              const seq = seqs[item.index] ?? 0;
              return (
                <EventRow
                  key={seq}
                  id={rowId(seq)}
                  seq={seq}
                  position={item.index + 1}
                  setSize={seqs.length}
                  top={item.start}
                  type={log.typeAt(seq)}
                  event={log.event(seq)}
                  selected={seq === cursor}
                  titleOf={titleOf}
                />
              );
            })}
          </div>
        </div>
        {seqs.length === 0 && (
          <div className="event-list-empty">
            {lastSeq > 0 ? (
              <p>
                No events match these filters —{' '}
                <button type="button" className="link" onClick={() => changeMask(ALL_CATEGORIES)}>
                  Show all
                </button>
              </p>
            ) : log.error !== null && !log.ready ? (
              <p role="alert">Could not load the events: {log.error}</p>
            ) : (
              <p>{log.ready ? 'No events yet' : 'Loading events…'}</p>
            )}
          </div>
        )}
      </div>
      <EventDetail seq={cursor} lastSeq={lastSeq} type={log.typeAt(cursor)} event={cursorEvent} />
    </div>
  );
}

interface FilterChipProps {
  category: EventCategory;
  count: number;
  mask: CategoryMask;
  onChange: (mask: CategoryMask) => void;
}

function FilterChip({ category, count, mask, onChange }: FilterChipProps) {
  const label = CATEGORY_LABELS[category];
  const all = mask === ALL_CATEGORIES;
  const shown = !all && hasCategory(mask, category);
  return (
    <button
      type="button"
      className={count === 0 ? 'event-filter event-filter-none' : 'event-filter'}
      data-category={category}
      aria-pressed={shown}
      title={all ? `Show only ${label}` : shown ? `Hide ${label}` : `Also show ${label}`}
      onClick={() => onChange(toggleCategory(mask, category))}
    >
      <span className="event-filter-dot" aria-hidden="true" />
      {label} <span className="event-filter-count">{count.toLocaleString()}</span>
    </button>
  );
}

interface EventRowProps {
  id: string;
  seq: number;
  position: number;
  setSize: number;
  top: number;
  type: EventType | undefined;
  event: StoredEvent | undefined;
  selected: boolean;
  titleOf: (sessionId: string) => string | undefined;
}

/** Memoized: scrolling re-renders the list, but a row only when its own data changes. */
const EventRow = memo(function EventRow({ id, seq, position, setSize, top, type, event, selected, titleOf }: EventRowProps) {
  const summary = event === undefined ? null : summarizeEvent(event, titleOf);
  return (
    <div
      id={id}
      role="option"
      aria-selected={selected}
      aria-posinset={position}
      aria-setsize={setSize}
      aria-busy={event === undefined}
      data-seq={seq}
      title={summary ?? undefined}
      className="event-row"
      style={{ transform: `translateY(${top}px)` }}
    >
      <span className="event-row-seq">{seq}</span>
      <span className="event-row-time" title={event === undefined ? undefined : formatFullTime(event.ts)}>
        {event === undefined ? '' : formatEventTime(event.ts)}
      </span>
      <span className="event-row-type">
        <NameBadge type={type} event={event} />
      </span>
      {summary === null ? (
        <span className="event-row-summary">
          {/* Varied widths read as text still coming, not as a broken table. */}
          <span className="event-row-placeholder" style={{ width: `${30 + ((seq * 37) % 45)}%` }} />
          <span className="visually-hidden">Loading</span>
        </span>
      ) : (
        <span className="event-row-summary" title={summary}>
          {summary}
        </span>
      )}
    </div>
  );
});

/** The event in words ("Claude ran a command on box"), its raw type in the title (and for screen readers and search, hidden). */
function NameBadge({ type, event }: { type: EventType | undefined; event: StoredEvent | undefined }) {
  if (type === undefined) return <TypeBadge type={type} />;
  return (
    <span className="event-badge event-badge-name" data-category={categoryOf(type)} title={type}>
      {eventName(type, event)}
      <span className="visually-hidden"> ({type})</span>
    </span>
  );
}

function TypeBadge({ type }: { type: EventType | undefined }) {
  return (
    <span className="event-badge" data-category={type === undefined ? undefined : categoryOf(type)} title={type}>
      {type ?? 'unknown'}
    </span>
  );
}

interface EventDetailProps {
  seq: number;
  lastSeq: number;
  type: EventType | undefined;
  event: StoredEvent | undefined;
}

function EventDetail({ seq, lastSeq, type, event }: EventDetailProps) {
  const [copied, setCopied] = useState<{ seq: number; ok: boolean } | null>(null);
  const json = useMemo(() => (event === undefined ? '' : JSON.stringify(event, null, 2)), [event]);

  useEffect(() => {
    if (copied === null) return;
    const timer = setTimeout(() => setCopied(null), COPY_FEEDBACK_MS);
    return () => clearTimeout(timer);
  }, [copied]);

  async function copyJson(): Promise<void> {
    try {
      // navigator.clipboard is missing outside secure contexts (serve mode over plain http).
      await navigator.clipboard.writeText(json);
      setCopied({ seq, ok: true });
    } catch {
      setCopied({ seq, ok: false });
    }
  }

  if (seq < 1 || seq > lastSeq) {
    return (
      <section className="event-detail event-detail-empty" aria-label="Selected event">
        <p>Select an event to see all of it here.</p>
      </section>
    );
  }

  const feedback = copied?.seq === seq ? (copied.ok ? 'Copied' : 'Copy failed') : '';
  return (
    <section className="event-detail" aria-label={`Event #${seq}`} data-testid="event-detail">
      <div className="event-detail-header">
        <TypeBadge type={type} />
        {type !== undefined && <span className="event-detail-name">{eventName(type, event)}</span>}
        <span className="event-detail-seq">#{seq}</span>
        {event !== undefined && (
          <>
            <time className="event-detail-time" dateTime={event.ts}>
              {formatFullTime(event.ts)}
            </time>
            <span className="event-detail-id" title="Event id">
              {event.id}
            </span>
          </>
        )}
        <span className="event-detail-actions">
          <span
            className={copied?.ok === false ? 'event-detail-feedback event-detail-feedback-error' : 'event-detail-feedback'}
            role="status"
          >
            {feedback}
          </span>
          <button type="button" className="button button-small" disabled={event === undefined} onClick={() => void copyJson()}>
            Copy JSON
          </button>
        </span>
      </div>
      {event === undefined ? (
        <p className="event-detail-loading">Loading…</p>
      ) : (
        <pre className="event-detail-json" tabIndex={0} aria-label="The event as stored (JSON)">
          {json}
        </pre>
      )}
    </section>
  );
}

function readSavedFilter(): CategoryMask {
  try {
    return parseEventFilter(localStorage.getItem(FILTER_STORAGE_KEY));
  } catch {
    // Storage blocked: start with everything shown.
    return ALL_CATEGORIES;
  }
}

function saveFilter(mask: CategoryMask): void {
  try {
    // "All" is no entry, so a category added in a later version is shown, not hidden.
    if (mask === ALL_CATEGORIES) localStorage.removeItem(FILTER_STORAGE_KEY);
    else localStorage.setItem(FILTER_STORAGE_KEY, serializeEventFilter(mask));
  } catch {
    // Storage full or blocked: the filter works, it is just not remembered.
  }
}
