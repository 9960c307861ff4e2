/**
 * The session database schema and its migrations. `PRAGMA user_version` is the schema version;
 * migration i takes the schema from version i to i+1 inside one transaction. A database whose
 * version is newer than this build knows is refused, never "repaired".
 *
 * The log's invariants are enforced by SQLite itself, not only by the store's code: events
 * cannot be updated, cannot be deleted (except when their whole session is being purged), and
 * each session's `seq` is dense (1, 2, 3… continuing after its fork point).
 */
import type Database from 'better-sqlite3';
import { AppError } from '#shared/errors';

/**
 * Pragmas every connection to a session database uses. WAL with synchronous=FULL makes each
 * commit fsync the WAL, so an event is durable when `emitEvent` returns.
 */
export const SESSION_DB_PRAGMAS = [
  'journal_mode = WAL',
  'synchronous = FULL',
  'foreign_keys = ON',
  'cache_size = -32000',
  // Reads map the file instead of copying pages through read(): a slice of a session larger
  // than the page cache costs the same as a small one (writes still go through write()).
  'mmap_size = 1073741824',
  'temp_store = MEMORY',
] as const;

export function applyPragmas(db: Database.Database): void {
  for (const pragma of SESSION_DB_PRAGMAS) db.pragma(pragma);
}

const migrations: ReadonlyArray<(db: Database.Database) => void> = [
  // v0 → v1: sessions, the event log, and the invariants on it.
  (db) => {
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;

      CREATE TABLE sessions (
        pk         INTEGER PRIMARY KEY,
        id         TEXT    NOT NULL UNIQUE,
        title      TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        parent_pk  INTEGER REFERENCES sessions(pk),
        fork_seq   INTEGER CHECK (fork_seq >= 0),
        purging    INTEGER NOT NULL DEFAULT 0,
        CHECK ((parent_pk IS NULL) = (fork_seq IS NULL))
      ) STRICT;
      CREATE INDEX sessions_by_parent ON sessions(parent_pk);

      CREATE TABLE event_types (code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;

      -- Clustered by (session, seq): a slice of one session's log is one contiguous range.
      -- \`event\` is the event's canonical JSON ({seq,id,ts,type,payload}), written once: reads
      -- aggregate it in SQLite and parse once, and exports are byte-exact by construction.
      -- \`landmark\` repeats \`type\` for sparse event types only (user messages, status changes,
      -- hands, outcomes, compaction, MCP) and is NULL for the per-turn ones, so the partial index
      -- that finds landmarks costs nothing on the common appends (measured: ~10 µs per durable
      -- append for a full type index). Per-turn types are dense, so a LIMITed scan finds them.
      CREATE TABLE events (
        session_pk INTEGER NOT NULL REFERENCES sessions(pk),
        seq        INTEGER NOT NULL CHECK (seq > 0),
        type       INTEGER NOT NULL,
        landmark   INTEGER CHECK (landmark IS NULL OR landmark = type),
        event      TEXT    NOT NULL,
        PRIMARY KEY (session_pk, seq)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX events_landmarks ON events(session_pk, landmark) WHERE landmark IS NOT NULL;

      CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
      BEGIN
        SELECT RAISE(ABORT, 'session events are append-only: an event cannot be changed');
      END;

      CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
      WHEN (SELECT purging FROM sessions WHERE pk = OLD.session_pk) IS NOT 1
      BEGIN
        SELECT RAISE(ABORT, 'session events are append-only: an event cannot be deleted');
      END;

      CREATE TRIGGER events_dense_seq BEFORE INSERT ON events
      WHEN NEW.seq <> 1 + coalesce(
        (SELECT max(seq) FROM events WHERE session_pk = NEW.session_pk),
        (SELECT fork_seq FROM sessions WHERE pk = NEW.session_pk),
        0)
      BEGIN
        SELECT RAISE(ABORT, 'event seq must continue the session densely');
      END;

      CREATE TRIGGER sessions_lineage_fixed BEFORE UPDATE OF id, parent_pk, fork_seq, created_at ON sessions
      BEGIN
        SELECT RAISE(ABORT, 'a session''s identity and fork point cannot be changed');
      END;
    `);
  },
  // v1 → v2: how each session came to be (root, fork, rewind) and, for a conversation, the
  // branch it shows. A rewind is a branch inside its conversation; a fork is a new one.
  (db) => {
    db.exec(`
      ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'root' CHECK (kind IN ('root', 'fork', 'rewind'));
      UPDATE sessions SET kind = 'fork' WHERE parent_pk IS NOT NULL;
      ALTER TABLE sessions ADD COLUMN current_pk INTEGER REFERENCES sessions(pk);
      CREATE INDEX sessions_by_current ON sessions(current_pk) WHERE current_pk IS NOT NULL;

      CREATE TRIGGER sessions_kind_fixed BEFORE UPDATE OF kind ON sessions
      BEGIN
        SELECT RAISE(ABORT, 'how a session was made cannot be changed');
      END;
      CREATE TRIGGER sessions_kind_consistent BEFORE INSERT ON sessions
      WHEN (NEW.parent_pk IS NULL) <> (NEW.kind = 'root')
      BEGIN
        SELECT RAISE(ABORT, 'a root session has no parent, and a fork or rewind has one');
      END;
    `);
  },
  // v2 → v3: a session imported from a file records how many of its events came from it (their
  // hands stay off until the user reviews them).
  (db) => {
    db.exec('ALTER TABLE sessions ADD COLUMN imported_seq INTEGER');
  },
];

export const SCHEMA_VERSION = migrations.length;

/**
 * Event types that occur in (nearly) every model turn. They are not indexed by type; every
 * other type is a "landmark" and is. Changing this set needs a migration that rewrites
 * `landmark`, which the append-only triggers forbid — so treat it as fixed.
 */
export const PER_TURN_EVENT_TYPES: ReadonlySet<string> = new Set([
  'agent.message',
  'agent.thinking',
  'agent.tool_use',
  'agent.tool_result',
  'span.model_request_start',
  'span.model_request_end',
]);

/** Brings the schema up to SCHEMA_VERSION, or refuses a database from a newer Drover. */
export function migrate(db: Database.Database, file: string, appVersion: string): void {
  const current = Number(db.pragma('user_version', { simple: true }));
  if (current > SCHEMA_VERSION) {
    let writer = 'a newer version of Drover';
    try {
      const row = db.prepare("SELECT value FROM meta WHERE key = 'app_version'").pluck().get();
      if (typeof row === 'string') writer = `Drover ${row}`;
    } catch {
      // A newer schema may have moved the meta table; the version number alone still refuses.
    }
    throw new AppError(
      'storage-too-new',
      `The session database ${file} was written by ${writer} (schema version ${current}); ` +
        `this is Drover ${appVersion}, which understands schema versions up to ${SCHEMA_VERSION}. ` +
        'Nothing was changed. Update Drover to open it, or set DROVER_DATA_DIR to another folder.',
    );
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    const step = migrations[version];
    if (!step) break;
    db.transaction(() => {
      step(db);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  if (current < SCHEMA_VERSION || readAppVersion(db) !== appVersion) {
    db.prepare("INSERT INTO meta (key, value) VALUES ('app_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(
      appVersion,
    );
  }
}

function readAppVersion(db: Database.Database): string | undefined {
  const value: unknown = db.prepare("SELECT value FROM meta WHERE key = 'app_version'").pluck().get();
  return typeof value === 'string' ? value : undefined;
}
