/**
 * The timeline's scale (issue 23): "Events" (one tick per event, the tape of Timeline.tsx) or
 * "Time" (events placed by when they happened: TimeTape), zoom buttons and Ctrl+wheel for the time
 * window, remembered in localStorage; and the turn numbers (T1, T2…) over the event tape. Zoomed out
 * past the events loaded around the cursor, the time tape draws the whole session's density instead
 * (`sessions-time-density`, math in density-tape.ts), the loaded events in colour over it.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import type { SessionLog } from '#renderer/client/session-log.ts';
import type { TimeDensity } from '#shared/time-density';
import { formatFullTime } from '#renderer/ui/format.ts';
import { EVENT_CATEGORIES, categoryOf } from './event-categories.ts';
import { eventName } from './event-names.ts';
import { densityBars, densityFits, densityRequest, densityTurnMarks, seqNearTime, windowCovered } from './density-tape.ts';
import {
  SCALE_STORAGE_KEY,
  ZOOM_LEVELS_MS,
  axisMarks,
  axisStep,
  describeSpan,
  eventWindow,
  nearestSeq,
  parseScalePrefs,
  timeAtX,
  timeWindow,
  turnNumberAt,
  xOfTime,
  zoomed,
  type ScalePrefs,
} from './time-scale.ts';

/** Events loaded around the cursor for the time tape (each side). */
const TIME_REACH = 512;

/** The scale chosen, remembered across sessions and restarts. */
export function useTimeScale(): [ScalePrefs, (next: ScalePrefs) => void] {
  const [prefs, setPrefs] = useState<ScalePrefs>(() => {
    try {
      return parseScalePrefs(localStorage.getItem(SCALE_STORAGE_KEY));
    } catch {
      return parseScalePrefs(null);
    }
  });
  const change = useCallback((next: ScalePrefs) => {
    setPrefs(next);
    try {
      localStorage.setItem(SCALE_STORAGE_KEY, JSON.stringify(next));
    } catch {
      // Storage blocked: the scale works, it is just not remembered.
    }
  }, []);
  return [prefs, change];
}

/**
 * `estimated`: the time tape draws a long session's density estimated from sampled timestamps
 * (`exact: false` from `sessions-time-density`): said beside the zoom, where it covers nothing.
 */
export function ScaleControls({
  prefs,
  onChange,
  estimated = false,
}: {
  prefs: ScalePrefs;
  onChange: (next: ScalePrefs) => void;
  estimated?: boolean;
}) {
  const time = prefs.mode === 'time';
  return (
    <div className="timeline-scale" role="group" aria-label="Timeline scale">
      <button
        type="button"
        className="timeline-scale-mode"
        aria-pressed={!time}
        onClick={() => onChange({ ...prefs, mode: 'events' })}
        title="One tick per event"
      >
        Events
      </button>
      <button
        type="button"
        className="timeline-scale-mode"
        aria-pressed={time}
        onClick={() => onChange({ ...prefs, mode: 'time' })}
        title="Events placed by when they happened"
      >
        Time
      </button>
      {time && (
        <>
          <button
            type="button"
            className="icon-button"
            onClick={() => onChange({ ...prefs, zoom: zoomed(prefs.zoom, 'out') })}
            disabled={prefs.zoom >= ZOOM_LEVELS_MS.length - 1}
            aria-label="Zoom out"
            title="Zoom out (Ctrl+wheel)"
          >
            −
          </button>
          <span className="timeline-scale-span" data-testid="timeline-zoom">
            {describeSpan(ZOOM_LEVELS_MS[prefs.zoom] ?? ZOOM_LEVELS_MS[0])}
          </span>
          <button
            type="button"
            className="icon-button"
            onClick={() => onChange({ ...prefs, zoom: zoomed(prefs.zoom, 'in') })}
            disabled={prefs.zoom <= 0}
            aria-label="Zoom in"
            title="Zoom in (Ctrl+wheel)"
          >
            +
          </button>
          {estimated && (
            <span
              className="timeline-scale-estimated"
              data-testid="timeline-density-estimated"
              title="This session is too long to place every event's time at this zoom: the bars are estimated from sampled timestamps (a few events may sit in a neighbouring slice). Zoom in for exact marks."
            >
              ≈ estimated
              <span className="visually-hidden">
                : the bars are estimated from sampled timestamps, as the session is long; zoom in for exact marks
              </span>
            </span>
          )}
        </>
      )}
    </div>
  );
}

/** Turn numbers over the event tape: T<n> at each turn's first event among those shown. */
export function TurnMarks({ log, cursor, lastSeq, size }: { log: SessionLog; cursor: number; lastSeq: number; size: number }) {
  const { first, last, span } = eventWindow(cursor, lastSeq, size);
  const turns = log.turnStarts;
  const marks: { seq: number; turn: number }[] = [];
  for (let index = turnNumberAt(turns, first - 1); index < turns.length; index++) {
    const seq = turns[index];
    if (seq === undefined || seq > last) break;
    if (seq >= first) marks.push({ seq, turn: index + 1 });
  }
  if (span === 0 || marks.length === 0) return null;
  return (
    <div className="timeline-turns" aria-hidden="true" data-testid="timeline-turns">
      {marks.map(({ seq, turn }) => (
        <span key={seq} className="timeline-turn" style={{ left: `${((seq - first) / span) * 100}%` }}>
          T{turn}
        </span>
      ))}
    </div>
  );
}

interface TimeTapeProps {
  log: SessionLog;
  cursor: number;
  lastSeq: number;
  colors: readonly string[];
  zoom: number;
  onZoom: (direction: 'in' | 'out') => void;
  onSeek: (seq: number) => void;
  onKeyDown: (event: KeyboardEvent<HTMLDivElement>) => void;
  /** Told whether the density drawn now is estimated (see ScaleControls). */
  onEstimated?: (estimated: boolean) => void;
}

/**
 * The tape on a time scale: the events loaded around the cursor, placed by their time, with a time
 * axis and turn numbers; where they do not cover the window, the session's density under them.
 */
export function TimeTape({ log, cursor, lastSeq, colors, zoom, onZoom, onSeek, onKeyDown, onEstimated }: TimeTapeProps) {
  const element = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const dragging = useRef(false);

  useEffect(() => {
    const node = canvas.current;
    if (node === null) return;
    setWidth(node.clientWidth);
    const observer = new ResizeObserver(() => setWidth(node.clientWidth));
    observer.observe(node);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    log.ensure(cursor - TIME_REACH, cursor + TIME_REACH);
  }, [log, cursor]);

  // Ctrl+wheel zooms (a non-passive listener: the page must not zoom or scroll too).
  const zoomRef = useRef(onZoom);
  useEffect(() => {
    zoomRef.current = onZoom;
  }, [onZoom]);
  useEffect(() => {
    const node = element.current;
    if (node === null) return;
    const onWheel = (event: WheelEvent) => {
      if (!event.ctrlKey && !event.metaKey) return;
      event.preventDefault();
      zoomRef.current(event.deltaY < 0 ? 'in' : 'out');
    };
    node.addEventListener('wheel', onWheel, { passive: false });
    return () => node.removeEventListener('wheel', onWheel);
  }, []);

  const events = log
    .eventsIn(cursor - TIME_REACH, cursor + TIME_REACH)
    .map((event) => ({ seq: event.seq, ms: Date.parse(event.ts), event }));
  const center = events.find((event) => event.seq === cursor)?.ms ?? events.at(-1)?.ms ?? null;
  const window = center === null ? null : timeWindow(center, zoom);
  const covered = window === null || windowCovered(events, lastSeq, window);

  // The whole session's density for the window, asked once the cursor rests (120 ms) and only when
  // the range or the log's length changes; an answer for another session or span is not drawn.
  const [density, setDensity] = useState<{ sessionId: string; answer: TimeDensity } | null>(null);
  const request = covered || window === null || width === 0 ? null : densityRequest(window, width);
  const asked = useRef('');
  const { from: askFrom = 0, to: askTo = 0, buckets: askBuckets = 0 } = request ?? {};
  useEffect(() => {
    if (askBuckets === 0) return;
    const key = `${log.sessionId}:${askFrom}:${askTo}:${askBuckets}:${lastSeq}`;
    if (key === asked.current) return;
    const timer = setTimeout(() => {
      asked.current = key;
      log.timeDensity({ from: askFrom, to: askTo, buckets: askBuckets }).then(
        (answer) => setDensity({ sessionId: log.sessionId, answer }),
        () => (asked.current = ''),
      );
    }, 120);
    return () => clearTimeout(timer);
  }, [log, askFrom, askTo, askBuckets, lastSeq]);
  const shownDensity =
    !covered && window !== null && density !== null && density.sessionId === log.sessionId && densityFits(density.answer, window)
      ? density.answer
      : null;
  const estimated = shownDensity !== null && !shownDensity.exact;
  useEffect(() => {
    onEstimated?.(estimated);
  }, [estimated, onEstimated]);
  useEffect(() => () => onEstimated?.(false), [onEstimated]);

  useLayoutEffect(() => {
    const node = canvas.current;
    if (node === null || width === 0) return;
    const ratio = globalThis.devicePixelRatio || 1;
    const height = node.clientHeight;
    node.width = Math.round(width * ratio);
    node.height = Math.round(height * ratio);
    const context = node.getContext('2d');
    if (context === null) return;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    if (window === null) return;
    const style = getComputedStyle(node);
    context.fillStyle = style.getPropertyValue('--text-faint').trim() || '#888';
    context.font = '10px system-ui, sans-serif';
    for (const mark of axisMarks(window, axisStep(window, width))) {
      const x = xOfTime(mark, window, width);
      context.fillRect(x, height - 5, 1, 5);
      context.fillText(new Date(mark).toLocaleTimeString(), x + 2, height - 1);
    }
    const tapeHeight = height - 12;
    if (shownDensity !== null) {
      context.globalAlpha = 0.55;
      for (const bar of densityBars(shownDensity, window, width)) {
        context.fillRect(bar.x, tapeHeight * (1 - bar.height), bar.width, tapeHeight * bar.height);
      }
      context.globalAlpha = 1;
      // Labels never overlap: the widest one (the last turn's) plus a gap apart.
      const widest = context.measureText(`T${shownDensity.turns.at(-1)?.turn ?? 1}`).width + 8;
      for (const mark of densityTurnMarks(shownDensity, window, width, Math.max(24, widest))) {
        context.fillText(`T${mark.turn}`, mark.x + 3, 9);
      }
    }
    for (const { seq, ms, event } of events) {
      const x = xOfTime(ms, window, width);
      if (x < -2 || x > width + 2) continue;
      const category = categoryOf(event.type);
      context.fillStyle = colors[EVENT_CATEGORIES.indexOf(category)] ?? '#888';
      const tall = event.type === 'user.message' || category === 'outcome';
      context.fillRect(x - 1, tall ? 0 : height * 0.2, 2, tall ? height - 12 : height * 0.45);
      if (event.type === 'user.message' && shownDensity === null) context.fillText(`T${turnNumberAt(log.turnStarts, seq)}`, x + 3, 9);
    }
  });

  function seekAt(clientX: number): void {
    const node = element.current;
    if (node === null || window === null) return;
    const rect = node.getBoundingClientRect();
    const ms = timeAtX(clientX - rect.left, window, rect.width);
    const loaded = events.length > 0 && ms >= (events[0]?.ms ?? 0) && ms <= (events.at(-1)?.ms ?? 0);
    const seq = shownDensity !== null && !loaded ? seqNearTime(shownDensity, ms) : nearestSeq(events, ms);
    if (seq !== null) onSeek(seq);
  }

  function onPointerDown(event: PointerEvent<HTMLDivElement>): void {
    if (lastSeq === 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    dragging.current = true;
    seekAt(event.clientX);
  }

  const cursorMs = events.find((event) => event.seq === cursor)?.ms;
  const cursorX = window === null || cursorMs === undefined ? null : xOfTime(cursorMs, window, width);
  const type = log.typeAt(cursor);
  const shown = log.event(cursor);
  return (
    <div
      ref={element}
      className="tape tape-time"
      role="slider"
      tabIndex={0}
      aria-label="Timeline: event shown (time scale)"
      aria-valuemin={lastSeq === 0 ? 0 : 1}
      aria-valuemax={lastSeq}
      aria-valuenow={cursor}
      aria-valuetext={`Event ${cursor} of ${lastSeq}${type === undefined ? '' : `, ${eventName(type, shown)}`}${shown === undefined ? '' : `, ${formatFullTime(shown.ts)}`}`}
      onKeyDown={onKeyDown}
      onPointerDown={onPointerDown}
      onPointerMove={(event) => {
        if (dragging.current) seekAt(event.clientX);
      }}
      onPointerUp={() => (dragging.current = false)}
      onPointerCancel={() => (dragging.current = false)}
      data-testid="timeline-time-tape"
      data-drawn={covered ? 'events' : shownDensity !== null ? 'density' : 'loading'}
      data-exact={shownDensity === null ? undefined : String(shownDensity.exact)}
    >
      <canvas ref={canvas} className="tape-canvas" aria-hidden="true" />
      {cursorX !== null && <div className="tape-cursor" style={{ transform: `translateX(${cursorX}px)` }} aria-hidden="true" />}
      {window === null && lastSeq > 0 && <span className="tape-time-loading">Loading times…</span>}
    </div>
  );
}
