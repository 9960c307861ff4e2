/**
 * The search index's tables, in the session database beside the log (issue 23 item 2). They are
 * derived data: everything in them can be rebuilt from `events`, so they carry no schema version of
 * their own and are created if missing. An older Drover that does not know them leaves them alone;
 * the triggers keep them right even then (a purged session's rows go with it).
 *
 * - `search_fts`: one row per indexed event, rowid = session pk << 32 | seq, so one session's rows
 *   are one rowid range (deleted, and searched within, by range).
 * - `search_marks`: the high-water mark per session: every event of its own up to `seq` is indexed.
 * - `search_meta`: `clean` = 1 when the index was closed cleanly (else it checks itself at the next start).
 */
import type Database from 'better-sqlite3';

/**
 * Box drawing, block elements and braille (a tool's tables, bars and spinners) and the emoji
 * variation selectors: symbols, but never worth a token — they stay separators.
 */
const SEPARATORS = Array.from({ length: 0x259f - 0x2500 + 1 }, (_, i) => String.fromCharCode(0x2500 + i))
  .concat(
    Array.from({ length: 0x28ff - 0x2800 + 1 }, (_, i) => String.fromCharCode(0x2800 + i)),
    ['\ufe0e', '\ufe0f'],
  )
  .join('');

/**
 * How text becomes tokens (the SQL of the table carries it: an index made with another is rebuilt).
 * unicode61's default keeps only letters, digits and private-use characters (L* N* Co), so most
 * emoji were separators (and the few its tables did not know joined the word beside them), and
 * the combining marks of Devanagari, Thai and other scripts cut their words apart. Here marks
 * (Mc Mn) are part of words and symbols (So: emoji, flags' regional indicators, ©, °) are tokens;
 * `indexable()` sets each symbol apart, so `done✅` is `done` and `✅`.
 */
export const SEARCH_TOKENIZE = `unicode61 remove_diacritics 2 categories 'L* N* Co Mc Mn So' separators '${SEPARATORS}'`;

/** Set around each symbol and CJK character in indexed text and queries: a separator (Cf) no one sees; snippets drop it. */
export const SYMBOL_GAP = '\u200b';
/**
 * What is a token on its own: symbols (emoji…), and Chinese characters and Japanese kana, which are
 * written without spaces between words — unicode61 would make a whole run one token, found only from
 * its start. One character a token, a query's run becomes a phrase of its characters, so `京都`
 * finds `東京都庁` (Korean puts spaces between words: its words stay words).
 */
const SYMBOL = /(?![\u2500-\u259F\u2800-\u28FF])[\p{So}\p{Emoji_Modifier}\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/gu;
/** A character search looks for: a letter, digit or symbol (not a separator). */
export const SEARCHABLE = /(?![\u2500-\u259F\u2800-\u28FF])[\p{L}\p{N}\p{So}]/u;

/** `text` as it is indexed (and a query's words as they are matched): each symbol its own token. */
export function indexable(text: string): string {
  // Every symbol is outside ASCII, and most text is ASCII: its UTF-8 length (native, fast) settles it.
  if (Buffer.byteLength(text, 'utf8') === text.length) return text;
  return text.replace(SYMBOL, `${SYMBOL_GAP}$&${SYMBOL_GAP}`);
}

export const SEARCH_DDL = `
  CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
    body,
    type UNINDEXED,
    hand UNINDEXED,
    ts UNINDEXED,
    tokenize = "${SEARCH_TOKENIZE}"
  );
  CREATE TABLE IF NOT EXISTS search_marks (session_pk INTEGER PRIMARY KEY, seq INTEGER NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
  CREATE TRIGGER IF NOT EXISTS search_forget_session AFTER DELETE ON sessions
  BEGIN
    DELETE FROM search_fts WHERE rowid BETWEEN (OLD.pk << 32) AND ((OLD.pk << 32) | 4294967295);
    DELETE FROM search_marks WHERE session_pk = OLD.pk;
  END;
`;

/** Pragmas of the index's own connection. The index is rebuildable, so its commits skip the fsync (the next durable append's carries them). */
export const SEARCH_PRAGMAS = ['journal_mode = WAL', 'synchronous = NORMAL', 'busy_timeout = 5000', 'cache_size = -16000'] as const;

/** Creates what is missing; the table there now is current (an outdated one was dropped first), so its format is recorded. */
export function ensureSearchSchema(db: Database.Database): void {
  db.exec(SEARCH_DDL);
  recordSearchFormat(db);
}

/**
 * Whether the index's table is missing or was made with another tokenizer (an older Drover's): then
 * its rows and marks must go, and the follower indexes every session again from its log.
 */
export function searchTableOutdated(db: Database.Database): false | 'missing' | 'other-tokenizer' {
  const sql = db.prepare<[], string>("SELECT sql FROM sqlite_master WHERE name = 'search_fts'").pluck().get();
  if (sql === undefined) return 'missing';
  if (!sql.includes(SEARCH_TOKENIZE)) return 'other-tokenizer';
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'search_meta'").get() !== undefined;
  const format = hasMeta ? db.prepare<[], string>("SELECT value FROM search_meta WHERE key = 'format'").pluck().get() : undefined;
  return format === String(SEARCH_FORMAT) ? false : 'other-tokenizer';
}

/**
 * How `indexable()` splits text, recorded in `search_meta` (key `format`): an index written another
 * way (1: CJK runs were one token) is rebuilt, as for another tokenizer.
 */
export const SEARCH_FORMAT = 2;

function recordSearchFormat(db: Database.Database): void {
  db.prepare("INSERT INTO search_meta (key, value) VALUES ('format', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(
    String(SEARCH_FORMAT),
  );
}

/** Drops every indexed row and mark (a damaged index is rebuilt from the log). */
export function dropSearchTables(db: Database.Database): void {
  db.exec(`
    DROP TRIGGER IF EXISTS search_forget_session;
    DROP TABLE IF EXISTS search_marks;
    DROP TABLE IF EXISTS search_fts;
  `);
}

/** The rowid of an event in search_fts. */
export function rowidOf(sessionPk: number, seq: number): bigint {
  return (BigInt(sessionPk) << 32n) | BigInt(seq);
}

/** Events past this seq are not indexed (no session comes near it: 4 billion events). */
export const MAX_INDEXED_SEQ = 0xffffffff;
