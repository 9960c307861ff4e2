import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCALE,
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
} from './time-scale.ts';

describe('the time scale', () => {
  it('reads the remembered scale as untrusted input', () => {
    expect(parseScalePrefs(null)).toEqual(DEFAULT_SCALE);
    expect(parseScalePrefs('{oops')).toEqual(DEFAULT_SCALE);
    expect(parseScalePrefs('{"mode":"time","zoom":0}')).toEqual({ mode: 'time', zoom: 0 });
    expect(parseScalePrefs('{"mode":"sideways","zoom":99}')).toEqual(DEFAULT_SCALE);
    expect(parseScalePrefs('{"mode":"time","zoom":1.5}')).toEqual({ mode: 'time', zoom: DEFAULT_SCALE.zoom });
  });

  it('zooms one level at a time, within the levels', () => {
    expect(zoomed(2, 'in')).toBe(1);
    expect(zoomed(0, 'in')).toBe(0);
    expect(zoomed(ZOOM_LEVELS_MS.length - 1, 'out')).toBe(ZOOM_LEVELS_MS.length - 1);
    expect(ZOOM_LEVELS_MS.map(describeSpan)).toEqual(['5 s', '15 s', '1 min', '5 min', '15 min', '1 h', '6 h', '1 day']);
  });

  it('places times on the tape and back', () => {
    const window = timeWindow(100_000, 2); // one minute around 100 s
    expect(window).toEqual({ start: 70_000, end: 130_000 });
    expect(xOfTime(100_000, window, 600)).toBe(300);
    expect(timeAtX(150, window, 600)).toBe(85_000);
    const events = [
      { seq: 1, ms: 70_000 },
      { seq: 2, ms: 99_000 },
      { seq: 3, ms: 101_500 },
    ];
    expect(nearestSeq(events, 100_100)).toBe(2);
    expect(nearestSeq(events, 101_000)).toBe(3);
    expect(nearestSeq([], 1)).toBeNull();
  });

  it('labels the axis with round steps that leave room', () => {
    const minute = { start: 0, end: 60_000 };
    expect(axisStep(minute, 600)).toBe(10_000);
    expect(axisMarks(minute, 10_000)).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000]);
    expect(axisStep({ start: 0, end: 24 * 3_600_000 }, 600)).toBe(3 * 3_600_000);
  });

  it('numbers turns by their starts', () => {
    const turns = [3, 10, 42];
    expect(turnNumberAt(turns, 1)).toBe(0);
    expect(turnNumberAt(turns, 3)).toBe(1);
    expect(turnNumberAt(turns, 41)).toBe(2);
    expect(turnNumberAt(turns, 500)).toBe(3);
  });

  it('finds the events the tape shows around the cursor', () => {
    expect(eventWindow(5, 10, 240)).toEqual({ first: 1, last: 10, span: 10 });
    expect(eventWindow(500, 1000, 240)).toEqual({ first: 380, last: 619, span: 240 });
    expect(eventWindow(1000, 1000, 240)).toEqual({ first: 761, last: 1000, span: 240 });
  });
});
