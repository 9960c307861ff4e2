/**
 * The time scale zoomed out past the events loaded around the cursor (issue 23), as plain math:
 * whether the loaded events cover the window shown; the range of time to ask the store to count
 * (`sessions-time-density`), three windows wide and aligned so scrubbing inside it asks nothing
 * new; the bars the counts make on the tape; the event a click on a slice goes to; the turn marks
 * in the window. No DOM, no React.
 */
import { MAX_DENSITY_BUCKETS, type TimeDensity } from '#shared/time-density';
import { xOfTime } from './time-scale.ts';

type Window = { start: number; end: number };

/**
 * True when the events loaded around the cursor show everything in the window: the first loaded is
 * the session's first or at/before the window's start, and the last is its last or at/after its end.
 */
export function windowCovered(events: ReadonlyArray<{ seq: number; ms: number }>, lastSeq: number, window: Window): boolean {
  const first = events[0];
  const last = events.at(-1);
  if (first === undefined || last === undefined) return lastSeq === 0;
  return (first.seq <= 1 || first.ms <= window.start) && (last.seq >= lastSeq || last.ms >= window.end);
}

export interface DensityRequest {
  from: number;
  to: number;
  buckets: number;
}

/**
 * What to ask for the window on a tape `width` pixels wide: the window's span either side of it,
 * aligned to multiples of the span (the same request while the cursor moves within it), one slice
 * per pixel rounded up to 64 pixels (a resize by a few pixels asks nothing new).
 */
export function densityRequest(window: Window, width: number): DensityRequest {
  const span = Math.max(1, window.end - window.start);
  const columns = Math.min(Math.floor(MAX_DENSITY_BUCKETS / 3), Math.max(64, Math.ceil(width / 64) * 64));
  const from = Math.max(0, (Math.floor(window.start / span) - 1) * span);
  return { from, to: from + 3 * span, buckets: columns * 3 };
}

/** Whether an answer (for `request`) still draws `window`: it was asked for this span and holds the window. */
export function densityFits(density: Pick<TimeDensity, 'from' | 'to'>, window: Window): boolean {
  const span = window.end - window.start;
  return Math.abs(density.to - density.from - 3 * span) < 1 && density.from <= window.start && density.to >= window.end;
}

export interface DensityBar {
  x: number;
  width: number;
  /** 0…1 of the tape's height: a slice's count on a log scale against the fullest slice in view (a single event still shows). */
  height: number;
  count: number;
}

/** The bars of the slices with events inside the window, on a tape `width` pixels wide. */
export function densityBars(density: Pick<TimeDensity, 'from' | 'bucketMs' | 'counts'>, window: Window, width: number): DensityBar[] {
  const visible: Array<{ x: number; width: number; count: number }> = [];
  let fullest = 0;
  density.counts.forEach((count, index) => {
    if (count === 0) return;
    const start = density.from + index * density.bucketMs;
    if (start + density.bucketMs <= window.start || start >= window.end) return;
    const x = xOfTime(start, window, width);
    const right = xOfTime(start + density.bucketMs, window, width);
    visible.push({ x, width: Math.max(1, right - x), count });
    fullest = Math.max(fullest, count);
  });
  const scale = Math.log1p(fullest);
  return visible.map((bar) => ({ ...bar, height: scale === 0 ? 0 : Math.max(0.15, Math.log1p(bar.count) / scale) }));
}

/** The event a click at `ms` goes to: the first of its slice, else of the nearest slice with events; null when none. */
export function seqNearTime(density: Pick<TimeDensity, 'from' | 'bucketMs' | 'firstSeqs'>, ms: number): number | null {
  const count = density.firstSeqs.length;
  if (count === 0) return null;
  const at = Math.max(0, Math.min(count - 1, Math.floor((ms - density.from) / density.bucketMs)));
  for (let distance = 0; distance < count; distance++) {
    for (const index of distance === 0 ? [at] : [at - distance, at + distance]) {
      const seq = density.firstSeqs[index];
      if (seq !== undefined && seq !== null) return seq;
    }
  }
  return null;
}

/** Turn marks in the window (x in pixels), none closer than `minGapPx` to the one before. */
export function densityTurnMarks(
  density: Pick<TimeDensity, 'turns'>,
  window: Window,
  width: number,
  minGapPx = 24,
): Array<{ x: number; turn: number; seq: number }> {
  const marks: Array<{ x: number; turn: number; seq: number }> = [];
  for (const { seq, turn, ms } of density.turns) {
    if (ms < window.start || ms > window.end) continue;
    const x = xOfTime(ms, window, width);
    const previous = marks.at(-1);
    if (previous !== undefined && x - previous.x < minGapPx) continue;
    marks.push({ x, turn, seq });
  }
  return marks;
}
