/**
 * The timeline's time scale (issue 23), as plain math: the tape can place events by when they
 * happened instead of one tick per event, over a window of time around the cursor's event that
 * zoom buttons and Ctrl+wheel widen or narrow; the choice is remembered (localStorage, read back
 * as untrusted input). Also the turn numbers the timeline shows. No DOM, no React.
 */

export type ScaleMode = 'events' | 'time';

/** The time windows the tape can show, narrowest first (ms). */
export const ZOOM_LEVELS_MS = [5_000, 15_000, 60_000, 5 * 60_000, 15 * 60_000, 60 * 60_000, 6 * 60 * 60_000, 24 * 60 * 60_000] as const;
const DEFAULT_ZOOM = 2;

export interface ScalePrefs {
  mode: ScaleMode;
  /** Index into ZOOM_LEVELS_MS. */
  zoom: number;
}

export const DEFAULT_SCALE: ScalePrefs = { mode: 'events', zoom: DEFAULT_ZOOM };
export const SCALE_STORAGE_KEY = 'drover.timeline.scale';

/** The remembered scale from what localStorage holds (anything: a bad part falls back to its default). */
export function parseScalePrefs(raw: string | null): ScalePrefs {
  if (raw === null) return DEFAULT_SCALE;
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return DEFAULT_SCALE;
  }
  if (typeof data !== 'object' || data === null) return DEFAULT_SCALE;
  const record = data as Record<string, unknown>;
  const mode = record.mode === 'time' || record.mode === 'events' ? record.mode : DEFAULT_SCALE.mode;
  const zoom =
    typeof record.zoom === 'number' && Number.isInteger(record.zoom) && record.zoom >= 0 && record.zoom < ZOOM_LEVELS_MS.length
      ? record.zoom
      : DEFAULT_ZOOM;
  return { mode, zoom };
}

/** One step narrower (`in`) or wider (`out`), kept within the levels. */
export function zoomed(zoom: number, direction: 'in' | 'out'): number {
  return Math.max(0, Math.min(ZOOM_LEVELS_MS.length - 1, zoom + (direction === 'in' ? -1 : 1)));
}

/** "15 s", "5 min", "6 h", "1 day": a window's width in words. */
export function describeSpan(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 60 * 60_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 24 * 60 * 60_000) return `${Math.round(ms / (60 * 60_000))} h`;
  const days = Math.round(ms / (24 * 60 * 60_000));
  return days === 1 ? '1 day' : `${days} days`;
}

/** The time window shown, centred on `centerMs`. */
export function timeWindow(centerMs: number, zoom: number): { start: number; end: number } {
  const span = ZOOM_LEVELS_MS[Math.max(0, Math.min(ZOOM_LEVELS_MS.length - 1, zoom))] ?? ZOOM_LEVELS_MS[DEFAULT_ZOOM];
  return { start: centerMs - span / 2, end: centerMs + span / 2 };
}

/** Where `ms` falls on a tape `width` pixels wide showing `window`. */
export function xOfTime(ms: number, window: { start: number; end: number }, width: number): number {
  return ((ms - window.start) / Math.max(1, window.end - window.start)) * width;
}

/** The time at pixel `x`. */
export function timeAtX(x: number, window: { start: number; end: number }, width: number): number {
  return window.start + (x / Math.max(1, width)) * (window.end - window.start);
}

/** The seq of the event nearest to `ms` among `events` (ascending by seq, and so by time), or null. */
export function nearestSeq(events: ReadonlyArray<{ seq: number; ms: number }>, ms: number): number | null {
  let best: { seq: number; distance: number } | null = null;
  for (const event of events) {
    const distance = Math.abs(event.ms - ms);
    if (best === null || distance < best.distance) best = { seq: event.seq, distance };
  }
  return best?.seq ?? null;
}

/** Axis marks for a window: a round step giving at least `minGapPx` between labels. */
export function axisStep(window: { start: number; end: number }, width: number, minGapPx = 70): number {
  const steps = [1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 2 * 60_000, 5 * 60_000, 10 * 60_000, 15 * 60_000, 30 * 60_000];
  const hours = [60 * 60_000, 2 * 60 * 60_000, 3 * 60 * 60_000, 6 * 60 * 60_000, 12 * 60 * 60_000, 24 * 60 * 60_000];
  const perPixel = (window.end - window.start) / Math.max(1, width);
  return [...steps, ...hours].find((step) => step / perPixel >= minGapPx) ?? 24 * 60 * 60_000;
}

/** The marks (ms) of `step` inside the window. */
export function axisMarks(window: { start: number; end: number }, step: number): number[] {
  const marks: number[] = [];
  for (let mark = Math.ceil(window.start / step) * step; mark <= window.end; mark += step) marks.push(mark);
  return marks;
}

/** The turn an event belongs to (1-based: the last turn start at or before it), 0 before the first. */
export function turnNumberAt(turnStarts: readonly number[], seq: number): number {
  let low = 0;
  let high = turnStarts.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((turnStarts[middle] ?? Infinity) <= seq) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The events the tape shows in event mode: `size` around the cursor (as the tape draws them). */
export function eventWindow(cursor: number, lastSeq: number, size: number): { first: number; last: number; span: number } {
  const span = Math.min(lastSeq, size);
  const first = lastSeq <= size ? 1 : Math.min(lastSeq - size + 1, Math.max(1, cursor - Math.floor(size / 2)));
  return { first, last: first + span - 1, span };
}
