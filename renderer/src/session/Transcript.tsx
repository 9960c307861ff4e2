/**
 * The conversation as of the cursor: messages as markdown, thinking, tool calls (collapsible,
 * terminal output with colours), errors and a usage line per turn, and — when live — the
 * response streaming now. Virtualized: only what is on screen is rendered, so a 100k-event
 * session scrubs as smoothly as a short one.
 *
 * It follows the bottom while the user is there (new text never pushes the view around while
 * they read further up) and shows earlier history on request.
 *
 * A tool call's row is in ToolCall.tsx, the outcome cards in OutcomeCards.tsx.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { NO_VAULT_ADVICE } from '#renderer/ui/api-key.ts';
import { formatDuration, plural } from '#renderer/ui/format.ts';
import { Markdown } from '#renderer/ui/Markdown.tsx';
import type { SessionLog } from '#renderer/client/session-log.ts';
import type { StoredEvent } from '#shared/events';
import { OutcomeCheck, OutcomeChecking, OutcomeDefined } from './OutcomeCards.tsx';
import { ToolCall, type Pending } from './ToolCall.tsx';
import { transcriptItems, type TranscriptItem } from './transcript-items.ts';
import { Folded } from './Folded.tsx';
import type { LiveBlock, LiveState } from './useLive.ts';
import './thread-items.css';
import './transcript.css';
import './transcript-cards.css';

/** Events folded into the transcript at first; "Show earlier" adds as many again. */
const WINDOW_EVENTS = 400;
/** How close to the bottom (px) still counts as following. */
const FOLLOW_SLACK_PX = 64;

export interface TranscriptProps {
  log: SessionLog;
  /** Show the conversation as of this event. */
  cursor: number;
  /** The cursor is the newest event and follows new ones: show the live response too. */
  live: boolean;
  /** A turn is under way: a tool call without a result is still running (when live). */
  running: boolean;
  liveState: LiveState;
  /** The grader is checking the work now (the session's outcome state): a check without its verdict is under way. */
  evaluating?: boolean;
  titleOf: (sessionId: string) => string | undefined;
  /** Jump the cursor to an event (e.g. a turn's first event). */
  onSeek: (seq: number) => void;
  /** Whether an API key can be stored here (null: not known yet): how a missing key can be given. */
  keyStorable?: boolean | null;
  /** A tool call's "3 files changed": open the Changes tab on it. */
  onShowChanges?: (range: { fromSeq: number; toSeq: number; hand: string }) => void;
  /** A session with threads (issue 21): what it shows of them. */
  threads?: TranscriptThreads | undefined;
}

export interface TranscriptThreads {
  /** The events shown (one thread's, or all). */
  pick: (events: readonly StoredEvent[]) => StoredEvent[];
  /** The item of a thread event (started, message, ended). */
  item: (event: StoredEvent) => TranscriptItem | null;
  /** The label of the thread an item's event belongs to, when items are labelled (every thread shown). */
  labelOf?: ((seq: number) => { name: string; color: string } | undefined) | undefined;
  /** Changes when any of the above answers differently. */
  version: unknown;
}

type Row = TranscriptItem | { kind: 'earlier'; key: string; from: number } | { kind: 'live'; key: string; blocks: readonly LiveBlock[] };

export function Transcript({
  log,
  cursor,
  live,
  running,
  liveState,
  evaluating = false,
  titleOf,
  onSeek,
  keyStorable = null,
  onShowChanges,
  threads,
}: TranscriptProps) {
  const version = useSyncExternalStore(log.subscribe, log.getVersion);
  // Scrubbing moves the cursor every frame; the transcript follows as fast as it can render
  // without holding up the frames (React renders the deferred value in the background).
  const shown = useDeferredValue(cursor);
  const [windowEvents, setWindowEvents] = useState(WINDOW_EVENTS);
  const from = Math.max(1, shown - windowEvents + 1);
  const scroller = useRef<HTMLDivElement>(null);
  const following = useRef(true);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());

  useEffect(() => {
    if (shown > 0) log.ensure(from, shown);
  }, [log, from, shown, version]);

  const items = useMemo(() => {
    // The log is mutable: `version` changes when chunks arrive or events are appended, and is
    // what makes this list be read again.
    void version;
    const events = log.eventsIn(from, shown);
    return threads === undefined ? transcriptItems(events, titleOf) : transcriptItems(threads.pick(events), titleOf, threads.item);
  }, [log, from, shown, version, titleOf, threads]);
  const complete = log.hasRange(from, shown);

  const rows = useMemo<Row[]>(() => {
    const list: Row[] = [];
    if (from > 1) list.push({ kind: 'earlier', key: 'earlier', from });
    // Messages sent while Claude writes come after the answer in progress: that is when it reads them.
    for (const item of items) if (item.kind !== 'user' || item.queued !== true) list.push(item);
    if (live && liveState.blocks !== null && liveState.blocks.length > 0)
      list.push({ kind: 'live', key: 'live', blocks: liveState.blocks });
    for (const item of items) if (item.kind === 'user' && item.queued === true) list.push(item);
    return list;
  }, [items, from, live, liveState.blocks]);

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: (index) => estimateHeight(rows[index]),
    getItemKey: (index) => rows[index]?.key ?? index,
    overscan: 6,
  });

  // A new cursor position shows that moment at the bottom, as a live session would.
  useEffect(() => {
    following.current = true;
  }, [shown]);

  const totalSize = virtualizer.getTotalSize();
  useLayoutEffect(() => {
    const element = scroller.current;
    if (element === null || !following.current || rows.length === 0) return;
    element.scrollTop = element.scrollHeight;
  }, [rows, totalSize]);

  const onScroll = useCallback(() => {
    const element = scroller.current;
    if (element === null) return;
    following.current = element.scrollHeight - element.scrollTop - element.clientHeight <= FOLLOW_SLACK_PX;
  }, []);

  const toggle = useCallback((key: string) => {
    setExpanded((current) => {
      const next = new Set(current);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });
  }, []);

  const showEarlier = useCallback(() => {
    following.current = false;
    setWindowEvents((current) => current + WINDOW_EVENTS);
  }, []);

  // Nothing to read yet: a new session has only its settings and hands recorded.
  if (shown === 0 || (rows.length === 0 && complete)) {
    return (
      <div className="transcript transcript-empty" data-testid="transcript">
        <div className="empty-inline">
          <h3>Nothing here yet</h3>
          <p>Write your first message below and press Ctrl+Enter. Claude’s replies, commands and files appear here as they happen.</p>
        </div>
      </div>
    );
  }

  return (
    <div className="transcript" ref={scroller} onScroll={onScroll} data-testid="transcript" aria-busy={!complete}>
      <div className="transcript-inner" style={{ height: totalSize }}>
        {virtualizer.getVirtualItems().map((virtual) => {
          const row = rows[virtual.index];
          if (row === undefined) return null;
          const thread = row.kind === 'earlier' || row.kind === 'live' ? undefined : threads?.labelOf?.(row.seq);
          return (
            <div
              key={virtual.key}
              data-index={virtual.index}
              ref={virtualizer.measureElement}
              className="transcript-row"
              style={{ transform: `translateY(${virtual.start}px)` }}
            >
              {thread !== undefined && (
                <span className="transcript-thread" data-testid="transcript-thread-label">
                  <span className="transcript-thread-swatch" style={{ background: thread.color }} aria-hidden="true" />
                  {thread.name}
                </span>
              )}
              <RowView
                row={row}
                pending={!live ? 'past' : running || (evaluating && row.kind === 'outcome-checking') ? 'running' : 'cut'}
                expanded={expanded.has(row.key)}
                onToggle={toggle}
                toolOutput={row.kind === 'tool' ? liveState.toolOutput.get(row.toolUseId) : undefined}
                titleOf={titleOf}
                onSeek={onSeek}
                onShowEarlier={showEarlier}
                keyStorable={keyStorable}
                onShowChanges={onShowChanges}
              />
            </div>
          );
        })}
      </div>
      {!complete && <div className="transcript-loading">Loading events…</div>}
    </div>
  );
}

function estimateHeight(row: Row | undefined): number {
  if (row === undefined) return 40;
  switch (row.kind) {
    case 'agent':
      return 40 + Math.min(600, row.text.length / 4) + (row.text.length > 3000 ? 36 : 0);
    case 'user':
      return 56 + Math.min(300, row.text.length / 5);
    case 'tool':
      return 44;
    case 'live':
      return 80;
    case 'outcome-check':
      return 90 + Math.min(400, row.explanation.length / 4) + row.criteria.length * 24;
    case 'outcome-defined':
      return 80;
    case 'thread':
      return 60 + Math.min(300, row.text.length / 5);
    default:
      return 32;
  }
}

interface RowViewProps {
  row: Row;
  pending: Pending;
  expanded: boolean;
  onToggle: (key: string) => void;
  toolOutput: string | undefined;
  titleOf: (sessionId: string) => string | undefined;
  onSeek: (seq: number) => void;
  onShowEarlier: () => void;
  keyStorable: boolean | null;
  onShowChanges?: ((range: { fromSeq: number; toSeq: number; hand: string }) => void) | undefined;
}

const RowView = memo(function RowView({
  row,
  pending,
  expanded,
  onToggle,
  toolOutput,
  titleOf,
  onSeek,
  onShowEarlier,
  keyStorable,
  onShowChanges,
}: RowViewProps) {
  switch (row.kind) {
    case 'earlier':
      return (
        <div className="transcript-earlier">
          <button type="button" className="button button-quiet button-small" onClick={onShowEarlier}>
            Show earlier ({plural(row.from - 1, 'event')} before this)
          </button>
        </div>
      );
    case 'user':
      return (
        <article
          className={`message message-user${row.queued === true ? ' message-queued' : ''}`}
          aria-label={row.queued === true ? 'Your queued message' : 'Your message'}
          data-seq={row.seq}
        >
          <header className="message-meta">
            <span className="message-author">You</span>
            {row.queued === true && (
              <span className="message-queued-label" title="Sent while Claude was answering: Claude reads it when this answer ends">
                queued: Claude reads it after this answer
              </span>
            )}
            <button type="button" className="seq-link" onClick={() => onSeek(row.seq)} title="Move the timeline to this message">
              #{row.seq}
            </button>
          </header>
          <Folded text={row.text} expanded={expanded} onToggle={() => onToggle(row.key)}>
            {(text) => <div className="message-body user-text">{text}</div>}
          </Folded>
          {row.images > 0 && <p className="message-note">{row.images === 1 ? '1 image' : `${row.images} images`}</p>}
        </article>
      );
    case 'agent':
      return (
        <article className="message message-agent" aria-label="Claude's message" data-seq={row.seq}>
          <Folded text={row.text} expanded={expanded} onToggle={() => onToggle(row.key)}>
            {(text, folded) => (
              <div className="message-body">
                <Markdown text={text} streaming={folded} />
              </div>
            )}
          </Folded>
        </article>
      );
    case 'thinking':
      return (
        <div className="thinking">
          <button type="button" className="disclosure" aria-expanded={expanded} onClick={() => onToggle(row.key)}>
            <span className="disclosure-arrow" aria-hidden="true" />
            {row.redacted ? 'Thinking (redacted by the API)' : 'Thinking'}
            {!expanded && !row.redacted && <span className="thinking-preview">{row.text.slice(0, 140)}</span>}
          </button>
          {expanded && !row.redacted && <div className="thinking-text">{row.text}</div>}
        </div>
      );
    case 'tool':
      return (
        <ToolCall
          row={row}
          pending={pending}
          expanded={expanded}
          onToggle={onToggle}
          liveOutput={toolOutput}
          onShowChanges={onShowChanges}
        />
      );
    case 'notice':
      return (
        <p className={`notice notice-${row.tone}`} role={row.tone === 'error' ? 'alert' : undefined}>
          {row.text}
          {row.help === 'api-key' &&
            ` ${keyStorable === false ? `Drover cannot store a key here (no keyring). ${NO_VAULT_ADVICE}` : 'Add your key in the card above or in Settings → Credentials (or set ANTHROPIC_API_KEY and restart Drover).'} Then send your message again.`}
        </p>
      );
    case 'turn-end': {
      const usage = row.usage;
      const cached = usage.cache_read_input_tokens > 0 ? ` · ${usage.cache_read_input_tokens.toLocaleString()} cached` : '';
      return (
        <p className="turn-end" title={`Turn ended: ${row.stopReason.replaceAll('_', ' ')}`}>
          {usage.input_tokens.toLocaleString()} in{cached} · {usage.output_tokens.toLocaleString()} out · {plural(row.requests, 'request')}{' '}
          · {formatDuration(row.durationMs)}
        </p>
      );
    }
    case 'branch': {
      const title = titleOf(row.parentSessionId);
      return (
        <p className="branch-marker">
          <span aria-hidden="true">↳</span> Branch: continues from event #{row.atSeq}
          {title === undefined ? '' : ` of “${title}”`}. Everything above is shared with it.
        </p>
      );
    }
    case 'live':
      return <LiveResponse blocks={row.blocks} />;
    case 'thread':
      return (
        <article className={`thread-card thread-card-${row.tone}`} aria-label={row.title} data-seq={row.seq} data-testid="thread-card">
          <header className="message-meta">
            <span className="message-author">{row.title}</span>
            <button type="button" className="seq-link" onClick={() => onSeek(row.seq)} title="Move the timeline to this event">
              #{row.seq}
            </button>
          </header>
          {row.text !== '' && (
            <Folded text={row.text} expanded={expanded} onToggle={() => onToggle(row.key)}>
              {(text, folded) => (
                <div className="message-body">
                  <Markdown text={text} streaming={folded} />
                </div>
              )}
            </Folded>
          )}
        </article>
      );
    case 'outcome-defined':
      return <OutcomeDefined row={row} expanded={expanded} onToggle={onToggle} onSeek={onSeek} />;
    case 'outcome-checking':
      return <OutcomeChecking row={row} pending={pending} onSeek={onSeek} />;
    case 'outcome-check':
      return <OutcomeCheck row={row} expanded={expanded} onToggle={onToggle} onSeek={onSeek} />;
    default:
      return null;
  }
});

function LiveResponse({ blocks }: { blocks: readonly LiveBlock[] }) {
  return (
    <article className="message message-agent message-live" aria-live="polite" aria-label="Claude is writing" data-testid="live-response">
      {blocks.map((block, index) =>
        block.kind === 'text' ? (
          <div key={index} className="message-body">
            <Markdown text={block.text} streaming />
          </div>
        ) : block.kind === 'thinking' ? (
          <div key={index} className="thinking thinking-live">
            <span className="thinking-label">Thinking…</span>
            <span className="thinking-preview">{block.text.slice(-200)}</span>
          </div>
        ) : (
          <p key={index} className="tool-preparing">
            Preparing <code>{block.name ?? 'a tool call'}</code>…
          </p>
        ),
      )}
    </article>
  );
}
