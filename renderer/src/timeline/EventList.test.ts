import { describe, expect, it } from 'vitest';
import type { EventType } from '#shared/events';
import { EVENT_CATEGORIES, categoryOf } from './event-categories.ts';
import {
  ALL_CATEGORIES,
  countCategories,
  filterSeqs,
  hasCategory,
  indexOfSeq,
  maskOf,
  missingRanges,
  parseEventFilter,
  serializeEventFilter,
  stepIndex,
  toggleCategory,
} from './event-filter.ts';

/** A session's types as the timeline holds them: seq n has types[n - 1]. */
function timeline(types: readonly EventType[]): (seq: number) => EventType | undefined {
  return (seq) => types[seq - 1];
}

const small: EventType[] = [
  'user.message', // 1 user
  'session.status_running', // 2 session
  'span.model_request_start', // 3 span
  'agent.tool_use', // 4 tool
  'agent.tool_result', // 5 tool
  'agent.message', // 6 agent
  'session.error', // 7 error
  'hand.ready', // 8 hand
  'session.status_idle', // 9 session
];

describe('filtering events by category', () => {
  it('keeps the seqs of the chosen categories, ascending', () => {
    const typeAt = timeline(small);
    expect(Array.from(filterSeqs(typeAt, small.length, maskOf(['tool'])))).toEqual([4, 5]);
    expect(Array.from(filterSeqs(typeAt, small.length, maskOf(['user', 'error'])))).toEqual([1, 7]);
    expect(Array.from(filterSeqs(typeAt, small.length, ALL_CATEGORIES))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('returns an Int32Array, empty for an empty session or when nothing matches', () => {
    expect(filterSeqs(timeline([]), 0, ALL_CATEGORIES)).toBeInstanceOf(Int32Array);
    expect(filterSeqs(timeline([]), 0, ALL_CATEGORIES).length).toBe(0);
    expect(filterSeqs(timeline(['user.message']), 1, maskOf(['error'])).length).toBe(0);
  });

  it('skips seqs whose type is unknown', () => {
    const typeAt = (seq: number): EventType | undefined => (seq === 2 ? undefined : 'agent.message');
    expect(Array.from(filterSeqs(typeAt, 3, ALL_CATEGORIES))).toEqual([1, 3]);
    expect(countCategories(typeAt, 3).agent).toBe(2);
  });

  it('counts every category, zero included', () => {
    expect(countCategories(timeline(small), small.length)).toEqual({
      user: 1,
      agent: 1,
      tool: 2,
      hand: 1,
      session: 2,
      span: 1,
      error: 1,
      outcome: 0,
    });
    expect(countCategories(timeline([]), 0)).toEqual({ user: 0, agent: 0, tool: 0, hand: 0, session: 0, span: 0, error: 0, outcome: 0 });
  });

  it('filters the outcome and its checks on their own', () => {
    const types: EventType[] = [
      'user.define_outcome',
      'user.message',
      'span.outcome_evaluation_start',
      'span.model_request_end',
      'span.outcome_evaluation_end',
    ];
    expect(Array.from(filterSeqs(timeline(types), types.length, maskOf(['outcome'])))).toEqual([1, 3, 5]);
    expect(countCategories(timeline(types), types.length)).toMatchObject({ outcome: 3, user: 1, span: 1 });
    expect(parseEventFilter(serializeEventFilter(maskOf(['outcome', 'error'])))).toBe(maskOf(['outcome', 'error']));
  });

  it('filters and counts 100,000 events correctly', () => {
    const kinds: EventType[] = [
      'user.message',
      'agent.message',
      'agent.thinking',
      'agent.tool_use',
      'agent.tool_result',
      'span.model_request_start',
      'span.model_request_end',
      'session.status_running',
      'session.status_idle',
      'hand.ready',
      'session.error',
    ];
    const total = 100_000;
    // Deterministic but irregular: a linear congruential sequence over the kinds.
    const types: EventType[] = [];
    let state = 12345;
    for (let index = 0; index < total; index++) {
      state = (state * 1103515245 + 12345) % 2147483648;
      types.push(kinds[state % kinds.length] ?? 'agent.message');
    }
    const typeAt = timeline(types);

    const errors = filterSeqs(typeAt, total, maskOf(['error']));
    const expectedErrors = types.flatMap((type, index) => (categoryOf(type) === 'error' ? [index + 1] : []));
    expect(Array.from(errors)).toEqual(expectedErrors);

    const all = filterSeqs(typeAt, total, ALL_CATEGORIES);
    expect(all.length).toBe(total);
    expect(all[0]).toBe(1);
    expect(all[total - 1]).toBe(total);

    const counts = countCategories(typeAt, total);
    expect(EVENT_CATEGORIES.reduce((sum, category) => sum + counts[category], 0)).toBe(total);
    for (const category of EVENT_CATEGORIES) {
      expect(filterSeqs(typeAt, total, maskOf([category])).length).toBe(counts[category]);
    }

    const toolsAndYou = filterSeqs(typeAt, total, maskOf(['tool', 'user']));
    expect(toolsAndYou.length).toBe(counts.tool + counts.user);
    expect(toolsAndYou.every((seq, index) => index === 0 || seq > (toolsAndYou[index - 1] ?? Infinity))).toBe(true);
  });
});

describe('the filter chips', () => {
  it('go from All to only the clicked category, then add and remove', () => {
    const tools = toggleCategory(ALL_CATEGORIES, 'tool');
    expect(EVENT_CATEGORIES.filter((category) => hasCategory(tools, category))).toEqual(['tool']);
    const toolsAndErrors = toggleCategory(tools, 'error');
    expect(EVENT_CATEGORIES.filter((category) => hasCategory(toolsAndErrors, category))).toEqual(['tool', 'error']);
    expect(toggleCategory(toolsAndErrors, 'error')).toBe(tools);
  });

  it('show all again when the last category is removed or every one is on', () => {
    expect(toggleCategory(maskOf(['tool']), 'tool')).toBe(ALL_CATEGORIES);
    const allButOne = maskOf(EVENT_CATEGORIES.filter((category) => category !== 'span'));
    expect(toggleCategory(allButOne, 'span')).toBe(ALL_CATEGORIES);
    expect(maskOf([])).toBe(ALL_CATEGORIES);
  });
});

describe('the saved filter', () => {
  it('round-trips through its stored form', () => {
    const mask = maskOf(['agent', 'error']);
    expect(serializeEventFilter(mask)).toBe('["agent","error"]');
    expect(parseEventFilter(serializeEventFilter(mask))).toBe(mask);
  });

  it('falls back to All for anything it cannot read, and drops unknown names', () => {
    expect(parseEventFilter(null)).toBe(ALL_CATEGORIES);
    expect(parseEventFilter('')).toBe(ALL_CATEGORIES);
    expect(parseEventFilter('{not json')).toBe(ALL_CATEGORIES);
    expect(parseEventFilter('{"user":true}')).toBe(ALL_CATEGORIES);
    expect(parseEventFilter('"user"')).toBe(ALL_CATEGORIES);
    expect(parseEventFilter('[]')).toBe(ALL_CATEGORIES);
    expect(parseEventFilter('["nonsense", 3, null]')).toBe(ALL_CATEGORIES);
    expect(parseEventFilter('["nonsense", "user", "user"]')).toBe(maskOf(['user']));
  });
});

describe('moving through the filtered list', () => {
  const seqs = Int32Array.from([3, 5, 9, 12]);

  it('finds a seq, or says it is filtered out', () => {
    expect(indexOfSeq(seqs, 9)).toBe(2);
    expect(indexOfSeq(seqs, 4)).toBe(-1);
    expect(indexOfSeq(seqs, 13)).toBe(-1);
    expect(indexOfSeq(new Int32Array(0), 1)).toBe(-1);
  });

  it('steps by rows from a listed cursor, clamped to the ends', () => {
    expect(stepIndex(seqs, 5, 1)).toBe(2);
    expect(stepIndex(seqs, 5, -1)).toBe(0);
    expect(stepIndex(seqs, 12, 1)).toBe(3);
    expect(stepIndex(seqs, 3, -10)).toBe(0);
    expect(stepIndex(seqs, 3, 10)).toBe(3);
  });

  it('steps from a filtered-out cursor to its neighbours', () => {
    expect(stepIndex(seqs, 7, 1)).toBe(2); // 9, the next match after 7
    expect(stepIndex(seqs, 7, -1)).toBe(1); // 5, the one before it
    expect(stepIndex(seqs, 7, 2)).toBe(3);
    expect(stepIndex(seqs, 0, 1)).toBe(0); // no cursor yet: the first event
    expect(stepIndex(seqs, 20, -1)).toBe(3);
    expect(stepIndex(new Int32Array(0), 1, 1)).toBeNull();
  });
});

describe('loading the visible rows', () => {
  it('asks once for a dense run and separately for rows far apart', () => {
    const loaded = new Set([2, 3]);
    const isLoaded = (seq: number) => loaded.has(seq);
    expect(missingRanges([1, 2, 3, 4, 5], isLoaded, 256)).toEqual([[1, 5]]);
    expect(missingRanges([10, 20, 5000, 5001, 90_000], isLoaded, 256)).toEqual([
      [10, 20],
      [5000, 5001],
      [90_000, 90_000],
    ]);
    expect(missingRanges([2, 3], isLoaded, 256)).toEqual([]);
  });
});
