import { describe, expect, it } from 'vitest';
import type { EventType } from '#shared/events';
import { EVENT_CATEGORIES } from './event-categories.ts';
import { binCategories, clampSeq, nextTurn, previousTurn, seqAt } from './timeline-nav.ts';

describe('turn stepping', () => {
  const turns = [1, 10, 25];
  it('goes to the previous turn start, or the first event', () => {
    expect(previousTurn(turns, 12)).toBe(10);
    expect(previousTurn(turns, 10)).toBe(1);
    expect(previousTurn(turns, 1)).toBe(1);
    expect(previousTurn([], 7)).toBe(1);
  });
  it('goes to the next turn start, or the last event', () => {
    expect(nextTurn(turns, 1, 30)).toBe(10);
    expect(nextTurn(turns, 12, 30)).toBe(25);
    expect(nextTurn(turns, 25, 30)).toBe(30);
    expect(nextTurn([], 3, 30)).toBe(30);
  });
  it('clamps seqs to the session', () => {
    expect(clampSeq(0, 5)).toBe(1);
    expect(clampSeq(9, 5)).toBe(5);
    expect(clampSeq(3, 0)).toBe(0);
  });
});

describe('minimap bins', () => {
  it('gives one pixel per event when there is room, and lets an error win a crowded pixel', () => {
    const types: EventType[] = ['user.message', 'agent.message', 'agent.tool_use', 'session.error'];
    const bins = binCategories(1, 4, 4, (seq) => types[seq - 1]);
    expect([...bins].map((code) => EVENT_CATEGORIES[code - 1])).toEqual(['user', 'agent', 'tool', 'error']);
    const typeAt = (seq: number): EventType => (seq === 50_000 ? 'session.error' : 'span.model_request_end');
    const crowded = binCategories(1, 100_000, 100, typeAt);
    expect(EVENT_CATEGORIES[(crowded[49] ?? 0) - 1]).toBe('error');
    expect(EVENT_CATEGORIES[(crowded[10] ?? 0) - 1]).toBe('span');
  });
  it('maps pixels back to seqs', () => {
    expect(seqAt(0, 100, 1, 1000)).toBe(1);
    expect(seqAt(100, 100, 1, 1000)).toBe(1000);
    expect(seqAt(50, 100, 1, 1000)).toBe(501);
    expect(seqAt(-5, 100, 1, 10)).toBe(1);
  });
});
