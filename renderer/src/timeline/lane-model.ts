/**
 * The arithmetic of the timeline's thread lanes (issue 21): which events of the tape's window
 * fall in each lane, one thread per minimap pixel, and the lane's event nearest a click. Pure, so
 * it is tested without a browser.
 */

/** What the timeline needs of a session's threads: a lane per thread, the primary first. */
export interface TimelineLanes {
  /** Each lane's label (its thread's agent name). */
  names: readonly string[];
  /** Each lane's colour. */
  colors: readonly string[];
  /** The lane event `seq` belongs to. */
  laneAt: (seq: number) => number;
  /** Changes whenever `laneAt` may answer differently (redraws the lanes). */
  version: unknown;
}

/** Events shown on the tape at once: enough to see a turn's shape, few enough to tell apart. */
export const TAPE_EVENTS = 240;

/** The events the tape shows around the cursor: first…last (empty when last < first). */
export function tapeWindow(cursor: number, lastSeq: number): { first: number; last: number; span: number } {
  const span = Math.min(lastSeq, TAPE_EVENTS);
  const first = lastSeq <= TAPE_EVENTS ? 1 : Math.min(lastSeq - TAPE_EVENTS + 1, Math.max(1, cursor - Math.floor(TAPE_EVENTS / 2)));
  return { first, last: first + span - 1, span };
}

/**
 * One lane per pixel for events first…last drawn `width` pixels wide: the lane plus one (0: no
 * event there). Where a pixel spans several events, a thread other than the primary wins, so a
 * short thread in a long session still shows.
 */
export function binLanes(first: number, last: number, width: number, laneAt: (seq: number) => number): Uint8Array {
  const bins = new Uint8Array(Math.max(0, Math.floor(width)));
  const count = last - first + 1;
  if (count <= 0 || bins.length === 0) return bins;
  for (let seq = first; seq <= last; seq++) {
    const lane = laneAt(seq);
    const pixel = Math.min(bins.length - 1, Math.floor(((seq - first) / count) * bins.length));
    const current = bins[pixel] ?? 0;
    if (current === 0 || (current === 1 && lane > 0)) bins[pixel] = Math.min(255, lane + 1);
  }
  return bins;
}

/** The event of `lane` within first…last nearest `seq`, or null when the lane has none there. */
export function nearestInLane(lane: number, seq: number, first: number, last: number, laneAt: (seq: number) => number): number | null {
  for (let distance = 0; distance <= last - first; distance++) {
    const before = seq - distance;
    const after = seq + distance;
    if (before >= first && before <= last && laneAt(before) === lane) return before;
    if (after >= first && after <= last && laneAt(after) === lane) return after;
  }
  return null;
}
