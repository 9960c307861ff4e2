// The search index on real SQLite files in temp dirs: it follows the log asynchronously, catches up after a
// restart, a SIGKILL mid-indexing and a damaged index (exactly: the same rows as a rebuild from the log),
// reads a fork's view through its parent, forgets deleted sessions, and takes any text as a query.
import { spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import type { NewEvent } from '#shared/events';
import type { SearchArg, SearchResult } from '#shared/search';
import { appError } from '#test/support/app-error';
import { startReadyChild } from '#test/support/ready-child';
import { SessionStore } from '#services/session/store';
import { SearchIndex } from './search-index.ts';
import { searchRig } from '#test/support/search-rig';

const { cleanups, scratch, openStore, openIndex } = searchRig('drover-search-');

const say = (text: string): NewEvent => ({ type: 'agent.message', payload: { content: [{ type: 'text', text }] } });
const ask = (text: string): NewEvent => ({ type: 'user.message', payload: { content: [{ type: 'text', text }] } });
const run = (id: string, command: string, hand = 'box'): NewEvent => ({
  type: 'agent.tool_use',
  payload: { tool_use_id: id, name: 'bash', input: { command }, hand_id: hand },
});
const output = (id: string, text: string): NewEvent => ({
  type: 'agent.tool_result',
  payload: { tool_use_id: id, content: [{ type: 'text', text }], is_error: false },
});

function find(index: SearchIndex, query: string, more: Omit<SearchArg, 'query' | 'limit'> & { limit?: number } = {}): SearchResult {
  return index.search({ query, limit: 50, ...more });
}

/** Every row of the index, for comparing an index with a rebuild of it. */
function dump(dir: string): unknown[] {
  const db = new Database(path.join(dir, 'sessions.db'), { readonly: true });
  try {
    return db.prepare('SELECT rowid, body, type, hand, ts FROM search_fts ORDER BY rowid').safeIntegers(true).all();
  } finally {
    db.close();
  }
}

describe('following the log', () => {
  it('finds what was appended, with its session, seq, type, hand and a highlighted snippet', async () => {
    const store = openStore(scratch());
    const index = openIndex(store);
    const session = store.createSession({ title: 'Fix the build' });
    store.emitEvents(session.id, [ask('please fix the flaky build'), run('t1', 'npm run lint -- --fix'), output('t1', 'lint passed')]);
    await index.whenIdle();
    const { hits, status } = find(index, 'lint');
    expect(status).toEqual({ state: 'idle', indexed: 3, pending: 0 });
    expect(hits.map((hit) => [hit.seq, hit.type, hit.hand])).toEqual([
      [3, 'agent.tool_result', 'box'],
      [2, 'agent.tool_use', 'box'],
    ]);
    expect(hits[1]).toMatchObject({ sessionId: session.id, sessionTitle: 'Fix the build' });
    expect(hits[1]?.snippet).toEqual([
      { text: 'bash\nnpm run ', match: false },
      { text: 'lint', match: true },
      { text: ' -- --fix', match: false },
    ]);
    expect(find(index, 'flaky buil*').hits.map((hit) => hit.seq)).toEqual([1]);
    expect(find(index, '"the fix flaky"').hits).toHaveLength(0);
    expect(find(index, '"fix the flaky build"').hits.map((hit) => hit.seq)).toEqual([1]);
  });

  it('indexes a burst of appends together, settleMs after the first of them, without being asked', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    cleanups.push(() => vi.useRealTimers());
    const store = openStore(scratch());
    const index = openIndex(store, { settleMs: 100 });
    const session = store.createSession({ title: 'Burst' });
    store.emitEvent(session.id, say('first of the burst'));
    vi.advanceTimersByTime(60);
    for (let i = 0; i < 9; i++) store.emitEvent(session.id, say(`burst message ${i}`));
    vi.advanceTimersByTime(39);
    // Nothing was indexed while the burst went on: the appends of the burst wait for one transaction.
    expect(index.status()).toEqual({ state: 'indexing', indexed: 0, pending: 10 });
    vi.advanceTimersByTime(1); // the settle timer fires and schedules a slice…
    vi.runOnlyPendingTimers(); // …which indexes the ten in one go
    expect(index.status()).toEqual({ state: 'idle', indexed: 10, pending: 0 });
    expect(find(index, 'burst').hits).toHaveLength(10);
  });

  it('a search sees what was appended a moment ago, still settling, without waiting for it', () => {
    const store = openStore(scratch());
    const index = openIndex(store, { settleMs: 60_000 });
    const session = store.createSession({ title: 'Fresh' });
    store.emitEvents(session.id, [say('just said it'), run('t1', 'make fresh-target')]);
    expect(index.status()).toEqual({ state: 'indexing', indexed: 0, pending: 2 });
    const { hits, status } = find(index, 'fresh');
    expect(hits.map((hit) => hit.seq)).toEqual([2]);
    expect(status).toEqual({ state: 'idle', indexed: 2, pending: 0 });
  });

  it('filters by session, hand, event kind and date, and pages with a cursor', async () => {
    const store = openStore(scratch());
    const index = openIndex(store);
    const one = store.createSession({ title: 'one' });
    const two = store.createSession({ title: 'two' });
    store.emitEvents(one.id, [run('a', 'make deploy', 'box'), output('a', 'deploy ok'), run('b', 'make deploy', 'web')]);
    store.emitEvents(two.id, [say('deploy later'), run('c', 'deploy now', 'web')]);
    await index.whenIdle();
    expect(find(index, 'deploy').hits).toHaveLength(5);
    expect(find(index, 'deploy', { sessionId: one.id }).hits.map((hit) => hit.seq)).toEqual([3, 2, 1]);
    expect(find(index, 'deploy', { hand: 'web' }).hits.map((hit) => [hit.sessionTitle, hit.seq])).toEqual([
      ['two', 2],
      ['one', 3],
    ]);
    expect(find(index, 'deploy', { hand: 'box' }).hits.map((hit) => hit.type)).toEqual(['agent.tool_result', 'agent.tool_use']);
    expect(find(index, 'deploy', { types: ['agent.message', 'agent.tool_result'] }).hits.map((hit) => hit.sessionTitle)).toEqual([
      'two',
      'one',
    ]);
    const now = Date.now();
    expect(find(index, 'deploy', { from: new Date(now + 60_000).toISOString() }).hits).toHaveLength(0);
    expect(find(index, 'deploy', { to: new Date(now - 3_600_000).toISOString() }).hits).toHaveLength(0);
    expect(
      find(index, 'deploy', { from: new Date(now - 60_000).toISOString(), to: new Date(now + 60_000).toISOString() }).hits,
    ).toHaveLength(5);
    const first = find(index, 'deploy', { limit: 2 });
    expect(first.nextCursor).not.toBeNull();
    const second = find(index, 'deploy', { limit: 2, cursor: first.nextCursor ?? '' });
    const third = find(index, 'deploy', { limit: 2, cursor: second.nextCursor ?? '' });
    expect(third.nextCursor).toBeNull();
    const pages = [...first.hits, ...second.hits, ...third.hits].map((hit) => `${hit.sessionTitle}:${hit.seq}`);
    expect(pages).toEqual(find(index, 'deploy').hits.map((hit) => `${hit.sessionTitle}:${hit.seq}`));
    expect(new Set(pages).size).toBe(5);
  });

  it('catches up with a log written while it was closed, saying it is indexing until it has', async () => {
    const dir = scratch();
    const store = openStore(dir);
    const session = store.createSession({ title: 'big' });
    for (let i = 0; i < 20; i++) {
      store.emitEvents(
        session.id,
        Array.from({ length: 100 }, (_, j) => say(`word${i * 100 + j} common`)),
      );
    }
    const index = openIndex(store, { batchEvents: 100 });
    expect(index.status()).toEqual({ state: 'indexing', indexed: 0, pending: 2000 });
    expect(find(index, 'common').status.state).toBe('indexing');
    await index.whenIdle();
    expect(index.status()).toEqual({ state: 'idle', indexed: 2000, pending: 0 });
    expect(find(index, 'word1234').hits.map((hit) => hit.seq)).toEqual([1235]);
    expect(find(index, 'common', { limit: 200 }).hits).toHaveLength(200);
  });
});

describe('forks and deletes', () => {
  it("searches a fork's view through its parent, naming the session each event lives in", async () => {
    const store = openStore(scratch());
    const index = openIndex(store);
    const parent = store.createSession({ title: 'parent' });
    store.emitEvents(parent.id, [say('alpha one'), say('alpha two'), say('alpha three')]);
    const fork = store.fork(parent.id, 2, { title: 'fork' });
    store.emitEvent(fork.id, say('alpha four in the fork'));
    const grandchild = store.fork(fork.id, 3, { title: 'grandchild' });
    store.emitEvent(grandchild.id, say('alpha five'));
    await index.whenIdle();
    // Every event once, where it lives.
    expect(find(index, 'alpha').hits.map((hit) => `${hit.sessionTitle}:${hit.seq}`)).toEqual([
      'grandchild:5',
      'fork:4',
      'parent:3',
      'parent:2',
      'parent:1',
    ]);
    expect(find(index, 'alpha', { sessionId: fork.id }).hits.map((hit) => `${hit.sessionTitle}:${hit.seq}`)).toEqual([
      'fork:4',
      'parent:2',
      'parent:1',
    ]);
    // Forked at 3 (the fork's session.forked event): the fork's message at 4 is not in its view.
    expect(find(index, 'alpha', { sessionId: grandchild.id }).hits.map((hit) => `${hit.sessionTitle}:${hit.seq}`)).toEqual([
      'grandchild:5',
      'parent:2',
      'parent:1',
    ]);
  });

  it('forgets a deleted session in the same transaction, and a new session reusing its number starts clean', async () => {
    const dir = scratch();
    const store = openStore(dir);
    const index = openIndex(store);
    const keep = store.createSession({ title: 'keep' });
    const doomed = store.createSession({ title: 'doomed' });
    store.emitEvent(keep.id, say('needle kept'));
    store.emitEvents(doomed.id, [say('needle gone'), say('needle gone again')]);
    const fork = store.fork(doomed.id, 1);
    store.emitEvent(fork.id, say('needle in the fork'));
    await index.whenIdle();
    expect(find(index, 'needle').hits).toHaveLength(4);
    store.deleteSession(doomed.id, { withDescendants: true });
    expect(find(index, 'needle').hits.map((hit) => hit.sessionTitle)).toEqual(['keep']);
    expect(dump(dir)).toHaveLength(1);
    expect(appError(() => find(index, 'needle', { sessionId: doomed.id })).code).toBe('not-found');
    const next = store.createSession({ title: 'next' });
    store.emitEvent(next.id, say('needle new'));
    await index.whenIdle();
    expect(find(index, 'needle').hits.map((hit) => hit.sessionTitle)).toEqual(['next', 'keep']);
    expect(index.status()).toMatchObject({ indexed: 2, pending: 0 });
  });
});

describe('odd input', () => {
  it('searches for what the user typed, never obeying it as query syntax', async () => {
    const store = openStore(scratch());
    const index = openIndex(store);
    const session = store.createSession({ title: 'odd' });
    store.emitEvents(session.id, [
      say('NEAR(a b) AND OR NOT body:x'),
      say('deploy 🚀 rocket'),
      say('say "hello" to 5*3'),
      say('café crème'),
    ]);
    await index.whenIdle();
    for (const query of ['"', '*', '""', '(', ')', '-', ':', '^', '""""', '─│┐', '⠋']) {
      const error = appError(() => find(index, query));
      expect(error.code).toBe('invalid-argument');
      expect(error.message).toMatch(/has none/);
    }
    expect(find(index, 'NEAR(').hits.map((hit) => hit.seq)).toEqual([1]);
    expect(find(index, 'NEAR(a').hits.map((hit) => hit.seq)).toEqual([1]);
    expect(find(index, 'AND OR NOT').hits.map((hit) => hit.seq)).toEqual([1]);
    expect(find(index, 'body:x').hits.map((hit) => hit.seq)).toEqual([1]);
    expect(find(index, '🚀 rocket').hits.map((hit) => hit.seq)).toEqual([2]);
    expect(find(index, '🚀').hits.map((hit) => hit.seq)).toEqual([2]);
    expect(find(index, '"hello').hits.map((hit) => hit.seq)).toEqual([3]);
    expect(find(index, '5*3').hits.map((hit) => hit.seq)).toEqual([3]);
    expect(find(index, 'cafe creme').hits.map((hit) => hit.seq)).toEqual([4]);
    expect(find(index, 'nothinglikethis').hits).toEqual([]);
  });

  it('indexes a 1 MB tool output whole, and snippets it', async () => {
    const store = openStore(scratch());
    const index = openIndex(store);
    const session = store.createSession({ title: 'big output' });
    const filler = 'lorem ipsum dolor sit amet '.repeat(40_000);
    store.emitEvents(session.id, [run('big', 'cat huge.log'), output('big', `${filler}the needle-at-the-end`)]);
    await index.whenIdle();
    const [hit] = find(index, 'needle at the end').hits;
    expect(hit).toMatchObject({ seq: 2, type: 'agent.tool_result', hand: 'box' });
    expect(hit?.snippet.filter((part) => part.match).map((part) => part.text)).toEqual(['the', 'needle', 'at', 'the', 'end']);
    expect(hit?.snippet.map((part) => part.text).join('').length).toBeLessThan(500);
  });
});

describe('crashes and damage', () => {
  it('after a SIGKILL mid-indexing, the next start catches up to exactly what a rebuild gives', async () => {
    const dir = scratch();
    const first = SessionStore.open({ dataDir: dir, appVersion: '1.0.0-test' });
    const session = first.createSession({ title: 'crashy' });
    first.close();
    let kill = (): void => undefined;
    const child = await startChild(['index', dir, session.id], (line) => {
      const [, indexed, pending] = line.split(' ').map(Number);
      if ((indexed ?? 0) >= 300 && (pending ?? 0) > 100) kill();
    });
    kill = () => child.kill('SIGKILL');
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    expect(child.signalCode).toBe('SIGKILL');
    const store = openStore(dir);
    const indexedBefore = dump(dir).length;
    expect(indexedBefore).toBeGreaterThan(0);
    const index = openIndex(store);
    const { pending } = index.status();
    expect(pending).toBeGreaterThan(100);
    await index.whenIdle();
    const caughtUp = dump(dir);
    const lastSeq = store.getSession(session.id).lastSeq;
    // Per step: a tool use and its result are indexed; the span is not.
    expect(caughtUp).toHaveLength(Math.floor(lastSeq / 3) * 2 + (lastSeq % 3));
    expect(find(index, 'crashword7').hits.map((hit) => [hit.type, hit.hand])).toEqual([
      ['agent.tool_result', 'box'],
      ['agent.tool_use', 'box'],
    ]);
    index.rebuild();
    expect(index.status().state).toBe('indexing');
    await index.whenIdle();
    expect(dump(dir)).toEqual(caughtUp);
  });

  it('rebuilds a damaged index from the log when it opens after an unclean stop', async () => {
    const dir = scratch();
    const store = openStore(dir);
    const session = store.createSession({ title: 'damaged' });
    store.emitEvents(
      session.id,
      Array.from({ length: 300 }, (_, i) => say(`entry${i} shared words here`)),
    );
    const index = SearchIndex.open({ store, log: () => undefined, pollMs: 0 });
    await index.whenIdle();
    const good = dump(dir);
    index.close();
    // Damage the index's own pages and mark the stop unclean, as a crash during damage would leave it (with Python's
    // sqlite3: better-sqlite3 runs in defensive mode, which refuses writes to FTS5's shadow tables).
    const damage = spawnSync('python3', [
      '-c',
      `import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE search_fts_data SET block = randomblob(length(block)) WHERE id > 10")
db.execute("UPDATE search_meta SET value = '0' WHERE key = 'clean'")
db.commit()`,
      path.join(dir, 'sessions.db'),
    ]);
    expect(damage.stderr.toString()).toBe('');
    const logged: string[] = [];
    const reopened = SearchIndex.open({ store, log: (message) => logged.push(message), pollMs: 0 });
    cleanups.push(() => reopened.close());
    expect(logged).toEqual([expect.stringMatching(/damaged; rebuilding/)]);
    expect(reopened.status()).toMatchObject({ state: 'indexing', pending: 300 });
    await reopened.whenIdle();
    expect(dump(dir)).toEqual(good);
    expect(find(reopened, 'entry42').hits.map((hit) => hit.seq)).toEqual([43]);
  });
});

function startChild(args: string[], onLine: (line: string) => void): Promise<ChildProcessWithoutNullStreams> {
  return startReadyChild('test/support/search-child.ts', args, { label: 'search', cleanups, onLine });
}
