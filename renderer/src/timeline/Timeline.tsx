/**
 * The scrubber under a session: a tape of the events around the cursor (one tick per event,
 * coloured by type) that is the keyboard slider, and a minimap of the whole session (one colour
 * per pixel) to jump anywhere. Dragging either moves the cursor; the transcript, hands and
 * inspector show the session as of that event.
 *
 * Drawing is on canvases and the cursor marks are moved with transforms, so a frame costs the
 * same at 100 or 100,000 events. Keys: ←/→ one event, Shift+←/→ one turn, Home/End, PageUp/Down.
 */
import {
  memo,
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  useSyncExternalStore,
  type KeyboardEvent,
  type PointerEvent,
  type RefObject,
} from 'react';
import { EVENT_CATEGORIES, categoryOf } from './event-categories.ts';
import { formatFullTime, outcomeResultTone, type OutcomeTone } from '#renderer/ui/format.ts';
import type { SessionLog } from '#renderer/client/session-log.ts';
import { binCategories, clampSeq, nextTurn, previousTurn, seqAt } from './timeline-nav.ts';
import { eventName } from './event-names.ts';
import { turnNumberAt, zoomed } from './time-scale.ts';
import { ScaleControls, TimeTape, TurnMarks, useTimeScale } from './TimeScale.tsx';
import { TimelineLegend } from './TimelineLegend.tsx';
import './timeline-scale.css';
import { THEME_CHANGE_EVENT } from '#renderer/ui/theme.ts';
import { TAPE_EVENTS, binLanes, tapeWindow, type TimelineLanes } from './lane-model.ts';
import { Lanes } from './TimelineLanes.tsx';
import { TerminalBands } from './TerminalBands.tsx';

export interface TimelineProps {
  log: SessionLog;
  /** The event shown (the last one when live). */
  cursor: number;
  /** The view follows new events. */
  live: boolean;
  onSeek: (seq: number) => void;
  onLive: () => void;
  /** The session's threads (issue 21): a lane each under the tape, and each event's thread marked on the tape and minimap. */
  lanes?: TimelineLanes | undefined;
}

export const Timeline = memo(function Timeline({ log, cursor, live, onSeek, onLive, lanes: given }: TimelineProps) {
  const lanes = given !== undefined && given.names.length > 1 ? given : undefined;
  useSyncExternalStore(log.subscribe, log.getVersion);
  const lastSeq = log.lastSeq;
  const turns = log.turnStarts;
  const colors = useCategoryColors();
  const verdicts = useVerdictColors();
  // Issue 23: one tick per event, or events by their time with zoom (remembered).
  const [scale, setScale] = useTimeScale();
  const [estimated, setEstimated] = useState(false);
  const turn = turnNumberAt(turns, cursor);

  const step = useCallback(
    (to: number) => {
      if (lastSeq > 0) onSeek(clampSeq(to, lastSeq));
    },
    [lastSeq, onSeek],
  );

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>): void {
    const page = Math.max(10, Math.round(lastSeq / 20));
    let to: number | null = null;
    if (event.key === 'ArrowLeft' || event.key === 'ArrowDown') to = event.shiftKey ? previousTurn(turns, cursor) : cursor - 1;
    else if (event.key === 'ArrowRight' || event.key === 'ArrowUp') to = event.shiftKey ? nextTurn(turns, cursor, lastSeq) : cursor + 1;
    else if (event.key === 'Home') to = 1;
    else if (event.key === 'End') to = lastSeq;
    else if (event.key === 'PageUp') to = cursor - page;
    else if (event.key === 'PageDown') to = cursor + page;
    if (to === null) return;
    event.preventDefault();
    event.stopPropagation();
    step(to);
  }

  const type = log.typeAt(cursor);
  const event = log.event(cursor);
  const empty = lastSeq === 0;

  return (
    <div className="timeline" data-testid="timeline" data-scale={scale.mode}>
      <div className="timeline-controls">
        <div className="timeline-buttons" role="group" aria-label="Step through events">
          <button
            type="button"
            className="icon-button"
            onClick={() => step(previousTurn(turns, cursor))}
            disabled={empty || cursor <= 1}
            title="Previous turn (Shift+←)"
            aria-label="Previous turn"
          >
            «
          </button>
          <button
            type="button"
            className="icon-button"
            onClick={() => step(cursor - 1)}
            disabled={empty || cursor <= 1}
            title="Previous event (←)"
            aria-label="Previous event"
          >
            ‹
          </button>
          <button
            type="button"
            className="icon-button"
            onClick={() => step(cursor + 1)}
            disabled={empty || cursor >= lastSeq}
            title="Next event (→)"
            aria-label="Next event"
          >
            ›
          </button>
          <button
            type="button"
            className="icon-button"
            onClick={() => step(nextTurn(turns, cursor, lastSeq))}
            disabled={empty || cursor >= lastSeq}
            title="Next turn (Shift+→)"
            aria-label="Next turn"
          >
            »
          </button>
        </div>
        <p className="timeline-position" aria-live="polite" data-testid="timeline-position">
          {empty ? (
            'No events yet'
          ) : (
            <>
              <span className="timeline-seq">
                Event {cursor.toLocaleString()} of {lastSeq.toLocaleString()}
              </span>
              {turn > 0 && (
                <span className="timeline-turn-of" data-testid="timeline-turn">
                  Turn {turn} of {turns.length}
                </span>
              )}
              {type !== undefined && (
                <span className={`timeline-type cat-${categoryOf(type)}`} title={type} data-testid="timeline-event-name">
                  {eventName(type, event)}
                  <span className="visually-hidden"> ({type})</span>
                </span>
              )}
              {event !== undefined && <time dateTime={event.ts}>{formatFullTime(event.ts)}</time>}
            </>
          )}
        </p>
        <ScaleControls prefs={scale} onChange={setScale} estimated={scale.mode === 'time' && estimated} />
        <TimelineLegend />
        <button
          type="button"
          className={live ? 'live-badge live-on' : 'live-badge'}
          onClick={onLive}
          disabled={live}
          aria-pressed={live}
          title={live ? 'Following new events as they are recorded' : 'Jump to the newest event and follow (End)'}
        >
          <span className="live-dot" aria-hidden="true" />
          {live ? 'Live' : 'Back to live'}
        </button>
      </div>
      {scale.mode === 'time' ? (
        <TimeTape
          log={log}
          cursor={cursor}
          lastSeq={lastSeq}
          colors={colors}
          zoom={scale.zoom}
          onZoom={(direction) => setScale({ ...scale, zoom: zoomed(scale.zoom, direction) })}
          onSeek={step}
          onKeyDown={onKeyDown}
          onEstimated={setEstimated}
        />
      ) : (
        <TurnMarks log={log} cursor={cursor} lastSeq={lastSeq} size={TAPE_EVENTS} />
      )}
      <TerminalBands log={log} cursor={cursor} lastSeq={lastSeq} />
      <Tape
        log={log}
        cursor={cursor}
        lastSeq={lastSeq}
        colors={colors}
        verdicts={verdicts}
        onSeek={step}
        onKeyDown={onKeyDown}
        lanes={lanes}
      />
      {lanes !== undefined && (
        <Lanes log={log} lanes={lanes} cursor={cursor} lastSeq={lastSeq} colors={colors} onSeek={step} prepare={prepare} />
      )}
      <Minimap log={log} cursor={cursor} lastSeq={lastSeq} colors={colors} onSeek={step} lanes={lanes} />
    </div>
  );
});

type Colors = readonly string[];

interface BarProps {
  log: SessionLog;
  cursor: number;
  lastSeq: number;
  colors: Colors;
  onSeek: (seq: number) => void;
  lanes: TimelineLanes | undefined;
}

/**
 * The events around the cursor, one tick each; the focusable slider. Drag to scrub finely. A
 * turn's start and the outcome's events are full-height ticks; a verdict is drawn in its verdict's
 * colour once its payload is loaded (the outcome's colour until then).
 */
function Tape({
  log,
  cursor,
  lastSeq,
  colors,
  verdicts,
  onSeek,
  onKeyDown,
  lanes,
}: BarProps & { verdicts: VerdictColors; onKeyDown: (event: KeyboardEvent<HTMLDivElement>) => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const width = useWidth(canvas);
  const drag = useRef<{ x: number; seq: number } | null>(null);
  const { first, last, span } = tapeWindow(cursor, lastSeq);

  useLayoutEffect(() => {
    const element = canvas.current;
    if (element === null || width === 0) return;
    const context = prepare(element, width);
    if (context === null) return;
    const height = element.clientHeight;
    const tick = width / Math.max(span, 1);
    for (let seq = first; seq <= last; seq++) {
      const type = log.typeAt(seq);
      if (type === undefined) continue;
      const category = categoryOf(type);
      const verdict = type === 'span.outcome_evaluation_end' ? log.event(seq) : undefined;
      context.fillStyle =
        (verdict?.type === 'span.outcome_evaluation_end' ? verdicts[outcomeResultTone(verdict.payload.result)] : undefined) ??
        colors[EVENT_CATEGORIES.indexOf(category)] ??
        '#888';
      const x = (seq - first) * tick;
      const tall = type === 'user.message' || category === 'outcome';
      // Outcome events are a little wider too: a check is rare and worth finding at a glance.
      const barWidth = Math.max(
        category === 'outcome' ? 2 : 1,
        Math.min(tick * (category === 'outcome' ? 0.9 : 0.7), category === 'outcome' ? 8 : 6),
      );
      context.fillRect(x + (tick - barWidth) / 2, tall ? 0 : height * 0.25, barWidth, tall ? height : height * 0.5);
      // Its thread, under the tick (only when the session has threads).
      if (lanes !== undefined) {
        context.fillStyle = lanes.colors[lanes.laneAt(seq)] ?? '#888';
        context.fillRect(x, height - 3, Math.max(1, tick), 3);
      }
    }
  });

  const cursorX = span === 0 ? 0 : ((cursor - first + 0.5) / span) * width;

  function onPointerDown(event: PointerEvent<HTMLDivElement>): void {
    if (lastSeq === 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    const rect = event.currentTarget.getBoundingClientRect();
    const seq = seqAt(event.clientX - rect.left, rect.width, first, last);
    drag.current = { x: event.clientX, seq };
    onSeek(seq);
  }

  function onPointerMove(event: PointerEvent<HTMLDivElement>): void {
    const start = drag.current;
    if (start === null) return;
    // Relative: the tape scrolls under the pointer, so the whole session is reachable by dragging.
    const perPixel = span / Math.max(1, width);
    onSeek(start.seq + Math.round((event.clientX - start.x) * perPixel));
  }

  return (
    <div
      className="tape"
      role="slider"
      tabIndex={0}
      aria-label="Timeline: event shown"
      aria-valuemin={lastSeq === 0 ? 0 : 1}
      aria-valuemax={lastSeq}
      aria-valuenow={cursor}
      aria-valuetext={`Event ${cursor} of ${lastSeq}${log.typeAt(cursor) === undefined ? '' : `, ${log.typeAt(cursor)}`}`}
      onKeyDown={onKeyDown}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={() => (drag.current = null)}
      onPointerCancel={() => (drag.current = null)}
      data-testid="timeline-tape"
    >
      <canvas ref={canvas} className="tape-canvas" aria-hidden="true" />
      <div className="tape-cursor" style={{ transform: `translateX(${cursorX}px)` }} aria-hidden="true" />
    </div>
  );
}

/** The whole session, one colour per pixel; click or drag to jump. */
function Minimap({ log, cursor, lastSeq, colors, onSeek, lanes }: BarProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const width = useWidth(canvas);
  const dragging = useRef(false);

  // Redrawn only when the session grows or the bar is resized, never per cursor move.
  useLayoutEffect(() => {
    const element = canvas.current;
    if (element === null || width === 0) return;
    const context = prepare(element, width);
    if (context === null) return;
    const height = element.clientHeight;
    const pixels = Math.floor(width);
    const bins = binCategories(1, lastSeq, Math.min(pixels, Math.max(lastSeq, 1)), (seq) => log.typeAt(seq));
    const binWidth = pixels / Math.max(1, bins.length);
    for (let index = 0; index < bins.length; index++) {
      const code = bins[index] ?? 0;
      if (code === 0) continue;
      context.fillStyle = colors[code - 1] ?? '#888';
      context.fillRect(index * binWidth, 0, Math.max(1, binWidth), height);
    }
    if (lanes === undefined) return;
    // A strip along the bottom: whose event each pixel holds (a thread's over the primary's).
    const threads = binLanes(1, lastSeq, Math.min(pixels, Math.max(lastSeq, 1)), lanes.laneAt);
    const threadWidth = pixels / Math.max(1, threads.length);
    for (let index = 0; index < threads.length; index++) {
      const lane = threads[index] ?? 0;
      if (lane === 0) continue;
      context.fillStyle = lanes.colors[lane - 1] ?? '#888';
      context.fillRect(index * threadWidth, height - 3, Math.max(1, threadWidth), 3);
    }
  }, [log, lastSeq, width, colors, lanes]);

  const fraction = lastSeq <= 1 ? 1 : (cursor - 1) / (lastSeq - 1);
  const windowFraction = lastSeq === 0 ? 1 : Math.min(1, TAPE_EVENTS / lastSeq);

  function seek(event: PointerEvent<HTMLDivElement>): void {
    const rect = event.currentTarget.getBoundingClientRect();
    onSeek(seqAt(event.clientX - rect.left, rect.width, 1, lastSeq));
  }

  return (
    <div
      className="minimap"
      aria-hidden="true"
      onPointerDown={(event) => {
        if (lastSeq === 0) return;
        event.currentTarget.setPointerCapture(event.pointerId);
        dragging.current = true;
        seek(event);
      }}
      onPointerMove={(event) => {
        if (dragging.current) seek(event);
      }}
      onPointerUp={() => (dragging.current = false)}
      onPointerCancel={() => (dragging.current = false)}
      data-testid="timeline-minimap"
    >
      <canvas ref={canvas} className="minimap-canvas" />
      <div
        className="minimap-window"
        style={{ width: `${windowFraction * 100}%`, transform: `translateX(${(fraction * (1 - windowFraction) * width).toFixed(1)}px)` }}
      />
      <div className="minimap-cursor" style={{ transform: `translateX(${(fraction * width).toFixed(1)}px)` }} />
    </div>
  );
}

/** Sizes the canvas for the device's pixel ratio and clears it. */
function prepare(element: HTMLCanvasElement, width: number): CanvasRenderingContext2D | null {
  const ratio = window.devicePixelRatio || 1;
  const height = element.clientHeight;
  if (element.width !== Math.round(width * ratio) || element.height !== Math.round(height * ratio)) {
    element.width = Math.round(width * ratio);
    element.height = Math.round(height * ratio);
  }
  const context = element.getContext('2d');
  if (context === null) return null;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  return context;
}

/** The element's width in CSS pixels, kept current by a ResizeObserver (a new height re-renders too: the tape is resizable). */
function useWidth(ref: RefObject<HTMLElement | null>): number {
  const [size, setSize] = useState({ width: 0, height: 0 });
  useEffect(() => {
    const element = ref.current;
    if (element === null) return;
    const measure = () =>
      setSize((last) =>
        last.width === element.clientWidth && last.height === element.clientHeight
          ? last
          : { width: element.clientWidth, height: element.clientHeight },
      );
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
  return size.width;
}

/** The category colours from the theme's CSS variables, re-read when the OS theme changes. */
function useCategoryColors(): Colors {
  return useThemeColors(
    useCallback(
      (style: CSSStyleDeclaration): Colors =>
        EVENT_CATEGORIES.map((category) => style.getPropertyValue(`--cat-${category}`).trim() || '#888'),
      [],
    ),
  );
}

type VerdictColors = Readonly<Record<OutcomeTone, string | undefined>>;

/** A verdict's tick colour by its tone (outcome.css's `--tick-verdict-*`). */
function useVerdictColors(): VerdictColors {
  return useThemeColors(
    useCallback((style: CSSStyleDeclaration): VerdictColors => {
      const color = (name: string) => style.getPropertyValue(`--tick-verdict-${name}`).trim() || undefined;
      return { ok: color('ok'), warn: color('warn'), bad: color('bad'), muted: color('muted'), pending: undefined };
    }, []),
  );
}

/** Values read from the theme's CSS variables, re-read when the theme shown changes (ui/theme.ts). */
function useThemeColors<T>(readFrom: (style: CSSStyleDeclaration) => T): T {
  const read = useCallback(() => readFrom(getComputedStyle(document.documentElement)), [readFrom]);
  const [colors, setColors] = useState<T>(read);
  useEffect(() => {
    const update = () => setColors(read());
    window.addEventListener(THEME_CHANGE_EVENT, update);
    return () => window.removeEventListener(THEME_CHANGE_EVENT, update);
  }, [read]);
  return colors;
}
