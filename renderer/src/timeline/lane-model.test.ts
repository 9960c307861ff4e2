import { describe, expect, it } from 'vitest';
import { binLanes, nearestInLane, tapeWindow, TAPE_EVENTS } from './lane-model.ts';

// Lanes of 1…12: the primary (0) with thread 1 at 4-6 and thread 2 at 9.
const lanes = [0, 0, 0, 1, 1, 1, 0, 0, 2, 0, 0, 0];
const laneAt = (seq: number) => lanes[seq - 1] ?? 0;

describe('lane model', () => {
  it('the tape window follows the cursor once the session is longer than the tape', () => {
    expect(tapeWindow(5, 12)).toEqual({ first: 1, last: 12, span: 12 });
    expect(tapeWindow(1000, 2000)).toEqual({ first: 1000 - TAPE_EVENTS / 2, last: 1000 + TAPE_EVENTS / 2 - 1, span: TAPE_EVENTS });
    expect(tapeWindow(2000, 2000).last).toBe(2000);
  });

  it('bins one lane per pixel, a thread winning over the primary in a shared pixel', () => {
    expect([...binLanes(1, 12, 12, laneAt)]).toEqual(lanes.map((lane) => lane + 1));
    // Three events per pixel: a thread's single event still colours its pixel.
    expect([...binLanes(1, 12, 4, laneAt)]).toEqual([1, 2, 3, 1]);
    expect([...binLanes(1, 0, 4, laneAt)]).toEqual([0, 0, 0, 0]);
  });

  it("finds the lane's event nearest a click, or none in the window", () => {
    expect(nearestInLane(1, 1, 1, 12, laneAt)).toBe(4);
    expect(nearestInLane(2, 12, 1, 12, laneAt)).toBe(9);
    expect(nearestInLane(0, 5, 1, 12, laneAt)).toBe(3);
    expect(nearestInLane(2, 1, 1, 8, laneAt)).toBeNull();
  });
});
