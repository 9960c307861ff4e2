/**
 * Running a search over the index: the user's words made into a safe FTS5 expression, the filters,
 * a fork's view (its ancestors' events up to each fork point, then its own), and hits with a
 * highlighted snippet, newest session and latest event first. Pages continue by rowid (`cursor`).
 */
import type Database from 'better-sqlite3';
import { AppError } from '#shared/errors';
import type { EventType } from '#shared/events';
import type { SearchArg, SearchHit, SnippetPart } from '#shared/search';
import { MATCH_END, MATCH_START } from './extract.ts';
import { indexable, SEARCHABLE, SYMBOL_GAP } from './schema.ts';

type Query = Omit<SearchArg, 'limit'> & { limit: number };

/**
 * The user's text as an FTS5 expression in which every part is a quoted string: words (all must
 * occur), "phrases" and word* prefixes; emoji and other symbols are words of their own, as indexed
 * (schema.ts). Nothing the user types is read as FTS5 syntax, so `NEAR(`,
 * `AND`, `"` or `*` alone are searched for (or dropped when they hold no word), never obeyed.
 */
export function toMatchExpression(text: string): string {
  const parts: string[] = [];
  for (const match of text.matchAll(/"([^"]*)"?|([^\s"]+)/g)) {
    const phrase = match[1];
    let word = match[2];
    if (phrase !== undefined) {
      if (SEARCHABLE.test(phrase)) parts.push(quote(phrase));
      continue;
    }
    if (word === undefined) continue;
    const prefix = /[\p{L}\p{N}\p{So}]\*+$/u.test(word);
    word = word.replace(/\*+$/, '');
    if (SEARCHABLE.test(word)) parts.push(`${quote(word)}${prefix ? '*' : ''}`);
  }
  if (parts.length === 0) {
    throw new AppError(
      'invalid-argument',
      `Search looks for words, numbers, emoji and symbols, and ${JSON.stringify(text)} has none: punctuation and box drawing are not indexed. Type a word from what you are looking for.`,
    );
  }
  return parts.join(' ');
}

function quote(text: string): string {
  return `"${indexable(text).replaceAll('"', '""')}"`;
}

interface Range {
  low: bigint;
  high: bigint;
}

interface HitRow {
  rowid: bigint;
  type: string;
  hand: string | null;
  ts: bigint;
  snip: string;
}

const statements = new WeakMap<Database.Database, Map<string, Database.Statement<unknown[], HitRow>>>();

export function runSearch(db: Database.Database, arg: Query): { hits: SearchHit[]; nextCursor: string | null } {
  const expression = toMatchExpression(arg.query);
  const ranges = arg.sessionId === undefined ? [{ low: 0n, high: (1n << 62n) - 1n }] : viewRanges(db, arg.sessionId);
  const before = arg.cursor === undefined ? null : BigInt(arg.cursor);
  const filters: string[] = [];
  const values: unknown[] = [];
  if (arg.types !== undefined) {
    filters.push(`type IN (${arg.types.map(() => '?').join(', ')})`);
    values.push(...arg.types);
  }
  if (arg.hand !== undefined) {
    filters.push('hand = ?');
    values.push(arg.hand);
  }
  if (arg.from !== undefined) {
    filters.push('ts >= ?');
    values.push(Date.parse(arg.from));
  }
  if (arg.to !== undefined) {
    filters.push('ts <= ?');
    values.push(Date.parse(arg.to));
  }
  const statement = statementFor(db, filters);
  const rows: HitRow[] = [];
  // Ranges come newest session first, so concatenating them keeps rowid order (newest first).
  for (const range of ranges) {
    const high = before !== null && before - 1n < range.high ? before - 1n : range.high;
    if (high < range.low) continue;
    const wanted = arg.limit + 1 - rows.length;
    rows.push(...statement.all(expression, range.low, high, ...values, wanted));
    if (rows.length > arg.limit) break;
  }
  const more = rows.length > arg.limit;
  const page = rows.slice(0, arg.limit);
  const sessions = sessionsOf(
    db,
    page.map((row) => Number(row.rowid >> 32n)),
  );
  const hits: SearchHit[] = [];
  for (const row of page) {
    const session = sessions.get(Number(row.rowid >> 32n));
    if (session === undefined) continue;
    hits.push({
      sessionId: session.id,
      sessionTitle: session.title,
      seq: Number(row.rowid & 0xffffffffn),
      type: row.type as EventType,
      hand: row.hand,
      ts: new Date(Number(row.ts)).toISOString(),
      snippet: snippetParts(row.snip),
    });
  }
  const last = page[page.length - 1];
  return { hits, nextCursor: more && last !== undefined ? String(last.rowid) : null };
}

function statementFor(db: Database.Database, filters: string[]): Database.Statement<unknown[], HitRow> {
  const sql = `SELECT rowid, type, hand, ts, snippet(search_fts, 0, char(2), char(3), '…', 24) AS snip
    FROM search_fts WHERE search_fts MATCH ? AND rowid BETWEEN ? AND ?${filters.map((filter) => ` AND ${filter}`).join('')}
    ORDER BY rowid DESC LIMIT ?`;
  let cache = statements.get(db);
  if (cache === undefined) {
    cache = new Map();
    statements.set(db, cache);
  }
  let statement = cache.get(sql);
  if (statement === undefined) {
    statement = db.prepare<unknown[], HitRow>(sql).safeIntegers(true);
    cache.set(sql, statement);
  }
  return statement;
}

/** A session's view as rowid ranges, its own first: its events, then each ancestor's up to the fork point. */
function viewRanges(db: Database.Database, sessionId: string): Range[] {
  const chain = db
    .prepare<[string], { pk: number; upto: number }>(
      `WITH RECURSIVE chain(pk, parent_pk, fork_seq, upto) AS (
         SELECT pk, parent_pk, fork_seq, 4294967295 FROM sessions WHERE id = ?
         UNION ALL SELECT s.pk, s.parent_pk, s.fork_seq, min(c.fork_seq, c.upto) FROM sessions s JOIN chain c ON s.pk = c.parent_pk
       ) SELECT pk, upto FROM chain`,
    )
    .all(sessionId);
  if (chain.length === 0) {
    throw new AppError(
      'not-found',
      `There is no session ${sessionId} to search in. It may have been deleted; search all sessions instead.`,
    );
  }
  return chain.map(({ pk, upto }) => ({ low: BigInt(pk) << 32n, high: (BigInt(pk) << 32n) | BigInt(upto) }));
}

function sessionsOf(db: Database.Database, pks: number[]): Map<number, { id: string; title: string }> {
  const unique = [...new Set(pks)];
  const found = new Map<number, { id: string; title: string }>();
  if (unique.length === 0) return found;
  const rows = db
    .prepare<number[], { pk: number; id: string; title: string }>(
      `SELECT pk, id, title FROM sessions WHERE pk IN (${unique.map(() => '?').join(', ')})`,
    )
    .all(...unique);
  for (const row of rows) found.set(row.pk, { id: row.id, title: row.title });
  return found;
}

/** The snippet's text split at the match markers. */
export function snippetParts(snip: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let rest = snip.replaceAll(SYMBOL_GAP, '');
  while (rest.length > 0) {
    const start = rest.indexOf(MATCH_START);
    if (start < 0) {
      parts.push({ text: rest, match: false });
      break;
    }
    if (start > 0) parts.push({ text: rest.slice(0, start), match: false });
    const end = rest.indexOf(MATCH_END, start + 1);
    const stop = end < 0 ? rest.length : end;
    parts.push({ text: rest.slice(start + 1, stop), match: true });
    rest = end < 0 ? '' : rest.slice(end + 1);
  }
  return parts;
}
