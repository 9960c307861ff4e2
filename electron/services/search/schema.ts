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

export const SEARCH_DDL = `
  CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
    body,
    type UNINDEXED,
    hand UNINDEXED,
    ts UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
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

export function ensureSearchSchema(db: Database.Database): void {
  db.exec(SEARCH_DDL);
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
