import { describe, expect, it } from 'vitest';
import { densityBars, densityFits, densityRequest, densityTurnMarks, seqNearTime, windowCovered } from './density-tape.ts';
import { timeWindow, ZOOM_LEVELS_MS } from './time-scale.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('the time tape zoomed out past the loaded events', () => {
  it('the loaded events cover the window only when they reach both its ends or the log’s', () => {
    const window = { start: 1000, end: 2000 };
    const events = [
      { seq: 10, ms: 900 },
      { seq: 11, ms: 1500 },
      { seq: 12, ms: 2100 },
    ];
    expect(windowCovered(events, 50, window)).toBe(true);
    expect(windowCovered(events.slice(1), 50, window)).toBe(false); // starts inside the window, not at seq 1
    expect(windowCovered(events.slice(0, 2), 50, window)).toBe(false); // ends inside the window, not at the last event
    expect(windowCovered(events.slice(0, 2), 11, window)).toBe(true); // …but that is the log's last event
    expect(windowCovered([{ seq: 1, ms: 1500 }, ...events.slice(2)], 12, window)).toBe(true);
    expect(windowCovered([], 0, window)).toBe(true);
    expect(windowCovered([], 5, window)).toBe(false);
  });

  it('asks for three windows aligned to the span, one slice per pixel rounded to 64, so scrubbing within asks nothing new', () => {
    const day = timeWindow(Date.parse('2026-06-10T15:00:00Z'), ZOOM_LEVELS_MS.length - 1);
    const request = densityRequest(day, 1000);
    expect(request.to - request.from).toBe(3 * DAY);
    expect(request.from % DAY).toBe(0);
    expect(request.from).toBeLessThanOrEqual(day.start);
    expect(request.to).toBeGreaterThanOrEqual(day.end);
    expect(request.buckets).toBe(3 * 1024);
    // An hour later (the cursor moved), and 10 pixels narrower: the same request.
    const later = timeWindow(Date.parse('2026-06-10T16:00:00Z'), ZOOM_LEVELS_MS.length - 1);
    expect(densityRequest(later, 990)).toEqual(request);
    // Never more than the RPC takes, never before 1970.
    expect(densityRequest(day, 10_000).buckets).toBeLessThanOrEqual(4096);
    expect(densityRequest({ start: -500, end: 500 }, 100).from).toBe(0);
    expect(densityFits({ from: request.from, to: request.to }, later)).toBe(true);
    expect(densityFits({ from: request.from, to: request.to }, { start: later.start, end: later.start + HOUR })).toBe(false);
    expect(densityFits({ from: request.from + 2 * DAY, to: request.to + 2 * DAY }, day)).toBe(false);
  });

  it('draws a bar per slice with events inside the window, on a log scale against the fullest, a single event still visible', () => {
    const density = { from: 0, bucketMs: 100, counts: [0, 1, 0, 1000, 10, 0, 5] };
    const bars = densityBars(density, { start: 100, end: 600 }, 500);
    expect(bars.map((bar) => [bar.x, bar.width, bar.count])).toEqual([
      [0, 100, 1],
      [200, 100, 1000],
      [300, 100, 10],
    ]); // the slice at 600…700 starts where the window ends: not drawn
    expect(bars[1]?.height).toBe(1);
    expect(bars[0]?.height).toBe(0.15);
    expect(bars[2]?.height).toBeCloseTo(Math.log1p(10) / Math.log1p(1000));
    expect(densityBars({ from: 0, bucketMs: 100, counts: [0, 0] }, { start: 0, end: 200 }, 100)).toEqual([]);
  });

  it('a click goes to the first event of its slice, else of the nearest slice with events', () => {
    const density = { from: 1000, bucketMs: 10, firstSeqs: [1, null, null, 40, null, null, null, 90] };
    expect(seqNearTime(density, 1000)).toBe(1);
    expect(seqNearTime(density, 1035)).toBe(40);
    expect(seqNearTime(density, 1012)).toBe(1); // slice 1: slice 0 is nearer than slice 3
    expect(seqNearTime(density, 1025)).toBe(40);
    expect(seqNearTime(density, 1061)).toBe(90);
    expect(seqNearTime(density, 99_999)).toBe(90);
    expect(seqNearTime(density, 0)).toBe(1);
    expect(seqNearTime({ from: 0, bucketMs: 1, firstSeqs: [null, null] }, 0)).toBeNull();
  });

  it('places the turn marks in the window, none crowding the one before', () => {
    const turns = [
      { seq: 1, turn: 1, ms: 50 },
      { seq: 100, turn: 2, ms: 200 },
      { seq: 150, turn: 3, ms: 205 },
      { seq: 300, turn: 4, ms: 400 },
      { seq: 900, turn: 9, ms: 5000 },
    ];
    expect(densityTurnMarks({ turns }, { start: 100, end: 600 }, 500)).toEqual([
      { x: 100, turn: 2, seq: 100 },
      { x: 300, turn: 4, seq: 300 },
    ]);
  });
});
