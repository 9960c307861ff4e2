import { describe, expect, it } from 'vitest';
import type { EventType } from '#shared/events';
import { CATEGORY_LABELS, CATEGORY_PRIORITY, EVENT_CATEGORIES, categoryOf } from './event-categories.ts';
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
  it('shows an outcome check in a crowded pixel over requests, tools and hands, never over an error', () => {
    const check = (seq: number): EventType =>
      seq === 500 ? 'span.outcome_evaluation_end' : seq % 2 === 0 ? 'agent.tool_use' : 'hand.ready';
    const bins = binCategories(1, 1000, 10, check);
    expect(EVENT_CATEGORIES[(bins[4] ?? 0) - 1]).toBe('outcome');
    expect(EVENT_CATEGORIES[(bins[3] ?? 0) - 1]).toBe('hand');
    const withError = binCategories(1, 2, 1, (seq) => (seq === 1 ? 'span.outcome_evaluation_end' : 'session.error'));
    expect(EVENT_CATEGORIES[(withError[0] ?? 0) - 1]).toBe('error');
  });
  it('maps pixels back to seqs', () => {
    expect(seqAt(0, 100, 1, 1000)).toBe(1);
    expect(seqAt(100, 100, 1, 1000)).toBe(1000);
    expect(seqAt(50, 100, 1, 1000)).toBe(501);
    expect(seqAt(-5, 100, 1, 10)).toBe(1);
  });
});

describe('event categories', () => {
  it('gives the outcome and its checks their own category, and leaves the other spans and user events alone', () => {
    expect(categoryOf('user.define_outcome')).toBe('outcome');
    expect(categoryOf('span.outcome_evaluation_start')).toBe('outcome');
    expect(categoryOf('span.outcome_evaluation_end')).toBe('outcome');
    expect(categoryOf('span.model_request_end')).toBe('span');
    expect(categoryOf('user.message')).toBe('user');
    expect(categoryOf('user.interrupt')).toBe('user');
  });
  it('keeps the saved filters valid: older categories keep their place, each has a label and a priority', () => {
    expect(EVENT_CATEGORIES.slice(0, 7)).toEqual(['user', 'agent', 'tool', 'hand', 'session', 'span', 'error']);
    for (const category of EVENT_CATEGORIES) {
      expect(CATEGORY_LABELS[category]).toBeTruthy();
      expect(CATEGORY_PRIORITY[category]).toBeGreaterThanOrEqual(0);
    }
    expect(new Set(Object.values(CATEGORY_PRIORITY)).size).toBe(EVENT_CATEGORIES.length);
  });
});
