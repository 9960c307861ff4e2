// `search` and `search-status` through the host's dispatcher (the same path as the UI's calls), over a
// real store and the index the host opens: hits after appends, deleted sessions gone, and every bad
// request answered with what was wrong — validated before anything runs, never a crash.
import { afterEach, describe, expect, it } from 'vitest';
import type { DispatchOutcome } from '#shared/rpc';
import type { SearchResult } from '#shared/search';
import { closeHostRig, hostRig, type HostRig } from '#test/support/host-rig';

let rig: HostRig | undefined;
afterEach(async () => {
  await closeHostRig(rig);
  rig = undefined;
});

async function search(arg: unknown): Promise<DispatchOutcome> {
  if (rig === undefined) throw new Error('no rig');
  return rig.host.dispatch('search', arg);
}

async function hits(arg: unknown): Promise<SearchResult> {
  const outcome = await search(arg);
  if (!outcome.ok) throw new Error(`search failed: ${outcome.error.message}`);
  return outcome.result as SearchResult;
}

/** Searches until the index has caught up with what was appended (it follows the log a moment behind). */
async function settled(arg: unknown): Promise<SearchResult> {
  for (let i = 0; i < 100; i++) {
    const result = await hits(arg);
    if (result.status.state === 'idle') return result;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the index did not catch up in 5 s');
}

describe('search over RPC', () => {
  it('finds appended events, says how far the index is, and forgets deleted sessions', async () => {
    rig = hostRig('drover-search-rpc-');
    const { store, host } = rig;
    const session = store.createSession({ title: 'Release' });
    store.emitEvents(session.id, [
      { type: 'user.message', payload: { content: [{ type: 'text', text: 'tag the release' }] } },
      { type: 'agent.tool_use', payload: { tool_use_id: 't1', name: 'bash', input: { command: 'git tag v1.2.3' }, hand_id: 'box' } },
    ]);
    const result = await settled({ query: 'v1.2.3' });
    expect(result.hits).toEqual([
      {
        sessionId: session.id,
        sessionTitle: 'Release',
        seq: 2,
        type: 'agent.tool_use',
        hand: 'box',
        ts: expect.any(String),
        // A phrase's adjacent words are one highlighted stretch.
        snippet: [
          { text: 'bash\ngit tag ', match: false },
          { text: 'v1.2.3', match: true },
        ],
      },
    ]);
    const status = await host.dispatch('search-status', undefined);
    expect(status).toMatchObject({ ok: true, result: { state: 'idle', pending: 0 } });
    expect(status.ok && (status.result as SearchResult['status']).indexed).toBe(store.getSession(session.id).lastSeq);
    expect(await host.dispatch('sessions-delete', { sessionId: session.id })).toMatchObject({ ok: true });
    expect((await hits({ query: 'release' })).hits).toEqual([]);
  });

  it('answers bad requests with what was wrong, and odd queries with a message, never a crash', async () => {
    rig = hostRig('drover-search-rpc-');
    const cases: Array<[unknown, RegExp]> = [
      [{ query: '' }, /type something to search for/],
      [{ query: 'x', colour: 'red' }, /colour/],
      [{ query: 'x', limit: 0 }, /limit/],
      [{ query: 'x', limit: 201 }, /limit/],
      [{ query: 'x', cursor: 'abc' }, /nextCursor of an earlier search/],
      [{ query: 'x', types: ['agent.nonsense'] }, /types/],
      [{ query: 'x', from: 'yesterday' }, /date and time/],
      [{ query: 'x', sessionId: 'not-a-uuid' }, /session id/],
      [{ query: 'x'.repeat(1001) }, /at most 1000 characters/],
      [undefined, /Invalid request to search/],
    ];
    for (const [arg, message] of cases) {
      const outcome = await search(arg);
      expect(outcome.ok, JSON.stringify(arg)).toBe(false);
      if (!outcome.ok) {
        expect(outcome.error.code).toBe('invalid-argument');
        expect(outcome.error.message).toMatch(message);
      }
    }
    for (const query of ['"', '*', '🚀', 'NEAR(', 'a OR', 'x:y', '"unterminated', '(((']) {
      const outcome = await search({ query });
      if (outcome.ok) expect((outcome.result as SearchResult).hits).toEqual([]);
      else {
        expect(outcome.error.code).toBe('invalid-argument');
        expect(outcome.error.message).toMatch(/has none: punctuation and box drawing are not indexed/);
      }
    }
    const unknown = await search({ query: 'x', sessionId: '00000000-0000-4000-8000-000000000000' });
    expect(unknown).toMatchObject({
      ok: false,
      error: { code: 'not-found', message: expect.stringMatching(/search all sessions instead/) },
    });
  });
});
