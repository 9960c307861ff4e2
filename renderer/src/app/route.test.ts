import { describe, expect, it } from 'vitest';
import { formatRoute, parseRoute } from './route.ts';

const id = '7f1c2d8e-0000-4000-8000-000000000000';

describe('routes', () => {
  it('round-trips a session and a cursor', () => {
    expect(parseRoute(formatRoute({ sessionId: id, cursor: 42 }))).toEqual({ sessionId: id, cursor: 42 });
    expect(parseRoute(formatRoute({ sessionId: id, cursor: null }))).toEqual({ sessionId: id, cursor: null });
    expect(formatRoute({ sessionId: null, cursor: null })).toBe('#/');
    expect(parseRoute(formatRoute({ sessionId: null, cursor: null, settings: true }))).toEqual({
      sessionId: null,
      cursor: null,
      settings: true,
    });
  });
  it('ignores anything malformed', () => {
    for (const hash of ['', '#', '#/s/nope', `#/s/${id}/x`, `#/s/${id}/0`, `#/x/${id}`, `#/s/${id}/1/2`]) {
      const route = parseRoute(hash);
      expect(route.cursor === null || route.sessionId !== null).toBe(true);
      if (hash !== `#/s/${id}/0`) expect(route.sessionId).toBeNull();
    }
    expect(parseRoute(`#/s/${id}/0`)).toEqual({ sessionId: id, cursor: null });
  });
});
