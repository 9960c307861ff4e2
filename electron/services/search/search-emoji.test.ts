// Emoji, symbols and mixed scripts in search, on real SQLite files in temp dirs: each emoji is a
// token of its own (found alone, in a phrase with its neighbours, with or without its skin tone or
// variation selector), the words beside it are found as before, snippets show the text as written;
// Chinese and Japanese are found by any run of characters; and an index an older Drover made (another
// tokenizer, or CJK runs as one token) is rebuilt from the log when it opens.
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '#shared/events';
import type { SearchResult } from '#shared/search';
import { appError } from '#test/support/app-error';
import { SEARCH_DDL, SEARCH_TOKENIZE } from './schema.ts';
import { searchRig } from '#test/support/search-rig';

const { scratch, openStore, openIndex } = searchRig('drover-search-emoji-');

const say = (text: string): NewEvent => ({ type: 'agent.message', payload: { content: [{ type: 'text', text }] } });

const seqs = (result: SearchResult): number[] => result.hits.map((hit) => hit.seq);

/**
 * An index as an older Drover left it beside the session's log: made by `ddl`, `bodies` indexed as the
 * session's events 1…n without Drover's rewriting, its mark past them, a clean stop — and `unfound`
 * (an FTS5 query) finding nothing in it, the reason for the change.
 */
function leaveIndex(dir: string, sessionId: string, ddl: string, bodies: readonly string[], unfound: string): void {
  const db = new Database(path.join(dir, 'sessions.db'));
  try {
    db.exec(ddl);
    const pk = db.prepare<[string], number>('SELECT pk FROM sessions WHERE id = ?').pluck().get(sessionId) ?? 0;
    const insert = db.prepare("INSERT INTO search_fts (rowid, body, type, hand, ts) VALUES (?, ?, 'agent.message', NULL, 0)");
    bodies.forEach((body, i) => insert.run((BigInt(pk) << 32n) | BigInt(i + 1), body));
    db.prepare('INSERT INTO search_marks (session_pk, seq) VALUES (?, ?)').run(pk, bodies.length);
    db.prepare("INSERT INTO search_meta (key, value) VALUES ('clean', '1')").run();
    expect(db.prepare<[string], number>('SELECT count(*) FROM search_fts WHERE search_fts MATCH ?').pluck().get(unfound)).toBe(0);
  } finally {
    db.close();
  }
}

const MIXED = [
  'Привет 🙂 мир! The build is done✅ and déjà vu 🇫🇷',
  'हिन्दी भाषा 👍🏽 日本語 30°C',
  'family 👨‍👩‍👧 photo, check ✔️ then 🥰',
  'plain ascii text without any symbol',
  '┌──┐ │ok│ └──┘ ⠋ loading',
];

describe('emoji and mixed scripts', () => {
  it('finds a message by an emoji in it and by the words next to it, and snippets it as written', async () => {
    const store = openStore(scratch());
    const index = openIndex(store);
    const session = store.createSession({ title: 'emoji' });
    store.emitEvents(session.id, MIXED.map(say));
    await index.whenIdle();
    const find = (query: string): number[] => seqs(index.search({ query, limit: 50 }));

    expect(find('🙂')).toEqual([1]);
    expect(find('✅')).toEqual([1]);
    expect(find('done')).toEqual([1]);
    expect(find('done✅')).toEqual([1]);
    expect(find('привет мир')).toEqual([1]);
    expect(find('"Привет 🙂 мир"')).toEqual([1]);
    expect(find('deja vu')).toEqual([1]);
    expect(find('🇫🇷')).toEqual([1]);
    // Devanagari's combining marks stay inside their words.
    expect(find('हिन्दी')).toEqual([2]);
    expect(find('भाषा 👍')).toEqual([2]);
    expect(find('👍🏽')).toEqual([2]);
    expect(find('👍')).toEqual([2]);
    expect(find('日本語')).toEqual([2]);
    expect(find('30°C')).toEqual([2]);
    expect(find('30')).toEqual([2]);
    expect(find('👨‍👩‍👧')).toEqual([3]);
    expect(find('👩')).toEqual([3]);
    // A variation selector does not matter either way.
    expect(find('✔')).toEqual([3]);
    expect(find('✔️')).toEqual([3]);
    expect(find('🥰 family')).toEqual([3]);
    expect(find('🚀')).toEqual([]);
    expect(find('🙂 photo')).toEqual([]);
    expect(find('ok loading')).toEqual([5]);
    // Box drawing and braille are never tokens; a query of only those (or punctuation) says so.
    for (const query of ['│', '┌──┐', '⠋', '!', '🏽']) {
      expect(appError(() => index.search({ query, limit: 5 })).message).toMatch(/has none: punctuation and box drawing are not indexed/);
    }

    const [hit] = index.search({ query: '🙂', limit: 5 }).hits;
    expect(hit?.snippet.map((part) => part.text).join('')).toBe(MIXED[0]);
    expect(hit?.snippet.filter((part) => part.match).map((part) => part.text)).toEqual(['🙂']);
    const [done] = index.search({ query: 'done', limit: 5 }).hits;
    expect(done?.snippet.filter((part) => part.match).map((part) => part.text)).toEqual(['done']);
    expect(done?.snippet.map((part) => part.text).join('')).not.toContain('\u200b');
  });

  it('finds Chinese and Japanese by any run of characters inside a longer run, Korean by its words', async () => {
    const store = openStore(scratch());
    const index = openIndex(store);
    const session = store.createSession({ title: 'CJK' });
    store.emitEvents(session.id, [
      say('会议在东京都厅举行，请检查日志文件'),
      say('ビルドはテストに失敗しましたがログを確認してください'),
      say('서울 날씨 확인 후 배포했습니다'),
      say('東京 and 京都 are different cities'),
    ]);
    await index.whenIdle();
    const find = (query: string): number[] => seqs(index.search({ query, limit: 50 }));
    expect(find('东京都')).toEqual([1]);
    expect(find('京都')).toEqual([4, 1]);
    expect(find('日志文件')).toEqual([1]);
    expect(find('检查 日志')).toEqual([1]);
    expect(find('"东京都厅"')).toEqual([1]);
    expect(find('"都厅东京"')).toEqual([]); // a phrase keeps its characters' order
    expect(find('テスト')).toEqual([2]);
    expect(find('失敗')).toEqual([2]);
    expect(find('ログを確認')).toEqual([2]);
    expect(find('서울')).toEqual([3]);
    expect(find('배포*')).toEqual([3]);
    expect(find('東京')).toEqual([4]);
    expect(find('京東')).toEqual([]);
    const [hit] = index.search({ query: '日志', limit: 5 }).hits;
    expect(hit?.snippet.map((part) => part.text).join('')).toBe('会议在东京都厅举行，请检查日志文件');
    expect(hit?.snippet.filter((part) => part.match).map((part) => part.text)).toEqual(['日志']);
  });

  it('rebuilds an index whose rows were split the old way (a CJK run one token) when it opens', async () => {
    const dir = scratch();
    const store = openStore(dir);
    const session = store.createSession({ title: 'before the upgrade' });
    store.emitEvents(session.id, [say('会议在东京都厅举行')]);
    // As the previous release left it: this tokenizer, no format recorded, the run as one token.
    leaveIndex(dir, session.id, SEARCH_DDL, ['会议在东京都厅举行'], '"东京"');

    const logged: string[] = [];
    const index = openIndex(store, { log: (message) => logged.push(message) });
    expect(logged).toEqual(['The search index was made by an older Drover: rebuilding it from the sessions’ logs']);
    await index.whenIdle();
    expect(seqs(index.search({ query: '东京', limit: 5 }))).toEqual([1]);
  });

  it('rebuilds an index an older Drover made with the old tokenizer, from the log, when it opens', async () => {
    const dir = scratch();
    const store = openStore(dir);
    const session = store.createSession({ title: 'before the upgrade' });
    store.emitEvents(session.id, MIXED.map(say));
    // The index as the previous Drover left it: the old tokenizer (under which an emoji is not found).
    leaveIndex(dir, session.id, SEARCH_DDL.replace(`"${SEARCH_TOKENIZE}"`, "'unicode61 remove_diacritics 2'"), MIXED, '"👍"');

    const logged: string[] = [];
    const index = openIndex(store, { log: (message) => logged.push(message) });
    expect(logged).toEqual(['The search index was made by an older Drover: rebuilding it from the sessions’ logs']);
    expect(index.status()).toEqual({ state: 'indexing', indexed: 0, pending: MIXED.length });
    await index.whenIdle();
    expect(seqs(index.search({ query: '👍', limit: 5 }))).toEqual([2]);
    expect(seqs(index.search({ query: 'done', limit: 5 }))).toEqual([1]);
    index.close();

    // Opened again, the new index is kept as it is.
    const again: string[] = [];
    const reopened = openIndex(store, { log: (message) => again.push(message) });
    expect(again).toEqual([]);
    expect(reopened.status()).toEqual({ state: 'idle', indexed: MIXED.length, pending: 0 });
    expect(seqs(reopened.search({ query: '🇫🇷', limit: 5 }))).toEqual([1]);
  });
});
