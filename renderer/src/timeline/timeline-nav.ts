/**
 * The arithmetic of the timeline: stepping by event and by turn, and the minimap's one colour
 * per pixel. Pure functions, so they are tested without a browser.
 */
import type { EventType } from '#shared/events';
import { CATEGORY_PRIORITY, EVENT_CATEGORIES, categoryOf, type EventCategory } from './event-categories.ts';

/** The start of the turn before `seq` (the previous user message), or 1. */
export function previousTurn(turnStarts: readonly number[], seq: number): number {
  let low = 0;
  let high = turnStarts.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((turnStarts[middle] ?? 0) < seq) low = middle + 1;
    else high = middle;
  }
  return low === 0 ? 1 : (turnStarts[low - 1] ?? 1);
}

/** The start of the turn after `seq` (the next user message), or the last event. */
export function nextTurn(turnStarts: readonly number[], seq: number, lastSeq: number): number {
  let low = 0;
  let high = turnStarts.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((turnStarts[middle] ?? 0) <= seq) low = middle + 1;
    else high = middle;
  }
  return turnStarts[low] ?? lastSeq;
}

/** Keeps `seq` within 1…lastSeq (0 for an empty session). */
export function clampSeq(seq: number, lastSeq: number): number {
  if (lastSeq < 1) return 0;
  return Math.min(lastSeq, Math.max(1, Math.round(seq)));
}

/**
 * One category per pixel for events first…last drawn `width` pixels wide: index into
 * EVENT_CATEGORIES plus one (0: no event there). Where a pixel spans several events, the most
 * telling category wins (CATEGORY_PRIORITY), so an error in 100k events still shows.
 */
export function binCategories(first: number, last: number, width: number, typeAt: (seq: number) => EventType | undefined): Uint8Array {
  const bins = new Uint8Array(Math.max(0, Math.floor(width)));
  const count = last - first + 1;
  if (count <= 0 || bins.length === 0) return bins;
  const codeOf = new Map<EventType, number>();
  for (let seq = first; seq <= last; seq++) {
    const type = typeAt(seq);
    if (type === undefined) continue;
    let code = codeOf.get(type);
    if (code === undefined) {
      code = EVENT_CATEGORIES.indexOf(categoryOf(type)) + 1;
      codeOf.set(type, code);
    }
    const pixel = Math.min(bins.length - 1, Math.floor(((seq - first) / count) * bins.length));
    const current = bins[pixel] ?? 0;
    if (current === 0 || priorityOf(code) > priorityOf(current)) bins[pixel] = code;
  }
  return bins;
}

function priorityOf(code: number): number {
  const category: EventCategory | undefined = EVENT_CATEGORIES[code - 1];
  return category === undefined ? -1 : CATEGORY_PRIORITY[category];
}

/** The seq under x pixels of a bar `width` wide showing first…last. */
export function seqAt(x: number, width: number, first: number, last: number): number {
  if (width <= 0 || last < first) return first;
  const fraction = Math.min(1, Math.max(0, x / width));
  return Math.min(last, first + Math.floor(fraction * (last - first + 1)));
}
