import { describe, expect, it } from 'vitest';
import type { SearchHit } from '#shared/search';
import { groupHits, hitLabel, NO_FILTERS, searchArg } from './search-model.ts';

const hit = (sessionId: string, seq: number): SearchHit => ({
  sessionId,
  sessionTitle: `title ${sessionId}`,
  seq,
  type: 'agent.tool_use',
  hand: 'box',
  ts: '2026-12-03T10:00:00.000Z',
  snippet: [{ text: 'x', match: true }],
});

describe('search model', () => {
  it('makes a request only when there is something to look for, with the filters set', () => {
    expect(searchArg({ ...NO_FILTERS, query: '   ' })).toBeNull();
    expect(searchArg({ ...NO_FILTERS, query: ' make test ' })).toEqual({ query: 'make test', limit: 50 });
    const arg = searchArg({ query: 'x', sessionId: 'abc', hand: ' box ', kind: 'calls', from: '2026-12-01', to: '2026-12-02' }, '42');
    expect(arg).toMatchObject({ query: 'x', sessionId: 'abc', hand: 'box', cursor: '42' });
    expect(arg?.types).toEqual(['agent.tool_use', 'agent.mcp_tool_use', 'agent.custom_tool_use']);
    expect(Date.parse(arg?.to ?? '') - Date.parse(arg?.from ?? '')).toBe(2 * 86_400_000 - 1);
    expect(new Date(arg?.from ?? '').getHours()).toBe(0);
    expect(searchArg({ ...NO_FILTERS, query: 'x', from: 'not a day' })).toEqual({ query: 'x', limit: 50 });
  });

  it('groups hits by session in the order they came and labels them in words', () => {
    const groups = groupHits([hit('b', 9), hit('a', 5), hit('b', 2)]);
    expect(groups.map((group) => [group.sessionId, group.hits.map((h) => h.seq)])).toEqual([
      ['b', [9, 2]],
      ['a', [5]],
    ]);
    expect(hitLabel({ type: 'agent.tool_use', hand: 'box' })).toBe('Tool call on box');
    expect(hitLabel({ type: 'user.message', hand: null })).toBe('You');
  });
});
