/**
 * The store's SQL: every prepared statement, the event-slice queries, and the canonical JSON an
 * event is stored as (size-checked on the way in, order-checked on the way out).
 *
 * Statements here only read, append, or purge a whole session (the schema's triggers refuse
 * anything else): none may ever update or delete a single event.
 */
import type Database from 'better-sqlite3';
import { AppError } from '#shared/errors';
import type { StoredEvent } from '#shared/events';
import type { SessionKind } from '#shared/sessions';
import type { SessionRow } from './records.ts';

/** Larger payloads belong in a file, not in the log (hands cap tool output well below this). */
export const MAX_EVENT_BYTES = 8 * 1024 * 1024;

export function prepareStatements(db: Database.Database) {
  return {
    insertSession: db.prepare<[string, string, number, number | null, number | null, SessionKind]>(
      'INSERT INTO sessions (id, title, created_at, parent_pk, fork_seq, kind) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    insertImported: db.prepare<[string, string, number, number | null]>(
      "INSERT INTO sessions (id, title, created_at, parent_pk, fork_seq, kind, imported_seq) VALUES (?, ?, ?, NULL, NULL, 'root', ?)",
    ),
    setCurrent: db.prepare<[number | null, number]>('UPDATE sessions SET current_pk = ? WHERE pk = ?'),
    setTitle: db.prepare<[string, number]>('UPDATE sessions SET title = ? WHERE pk = ?'),
    replaceCurrent: db.prepare<[number | null, number]>('UPDATE sessions SET current_pk = ? WHERE current_pk = ?'),
    typesInRange: db
      .prepare<[number, number, number], number>('SELECT type FROM events WHERE session_pk = ? AND seq BETWEEN ? AND ? ORDER BY seq')
      .pluck(),
    insertEvent: db.prepare<[number, number, number, number | null, string]>(
      'INSERT INTO events (session_pk, seq, type, landmark, event) VALUES (?, ?, ?, ?, ?)',
    ),
    insertEventType: db.prepare<[string]>('INSERT OR IGNORE INTO event_types (name) VALUES (?)'),
    eventTypes: db.prepare<[], { code: number; name: string }>('SELECT code, name FROM event_types'),
    sessionById: db.prepare<[string], SessionRow>(`${SESSION_SELECT} WHERE s.id = ?`),
    listSessions: db.prepare<[], SessionRow>(SESSION_SELECT),
    tree: db.prepare<
      [number],
      { id: string; title: string; created_at: number; parent_id: string | null; fork_seq: number | null; depth: number }
    >(
      `WITH RECURSIVE tree(pk, depth) AS (
         SELECT ?, 0
         UNION ALL SELECT s.pk, tree.depth + 1 FROM sessions s JOIN tree ON s.parent_pk = tree.pk
       )
       SELECT s.id, s.title, s.created_at, p.id AS parent_id, s.fork_seq, tree.depth
       FROM tree JOIN sessions s ON s.pk = tree.pk LEFT JOIN sessions p ON p.pk = s.parent_pk
       ORDER BY tree.depth, s.created_at, s.pk`,
    ),
    markPurging: db.prepare<[number]>('UPDATE sessions SET purging = 1 WHERE pk = ?'),
    deleteEvents: db.prepare<[number]>('DELETE FROM events WHERE session_pk = ?'),
    deleteSession: db.prepare<[number]>('DELETE FROM sessions WHERE pk = ?'),
  };
}

/**
 * The query for one slice of a segment's events, as a single JSON array assembled inside SQLite.
 * Without a type filter the caller passes an exact seq range (session, low, high); with one, the
 * subquery walks the range in the requested direction along the primary key until `limit` events
 * of those types are found (session, low, high, ...types, limit): through the landmark index when
 * every type is a landmark, else along the primary key (per-turn types are dense, so the walk is short).
 */
export function sliceSql(typeCount: number, backward: boolean, byLandmark: boolean): string {
  const types = Array.from({ length: typeCount }, () => '?').join(', ');
  const source =
    typeCount === 0
      ? 'SELECT event FROM events WHERE session_pk = ? AND seq BETWEEN ? AND ?'
      : `SELECT seq, event FROM events ${byLandmark ? 'INDEXED BY events_landmarks' : ''}
         WHERE session_pk = ? AND seq BETWEEN ? AND ? AND ${byLandmark ? 'landmark' : 'type'} IN (${types})
         ORDER BY seq ${backward ? 'DESC' : 'ASC'} LIMIT ?`;
  return `SELECT '[' || group_concat(event, ',') || ']' FROM (${source})`;
}

const SESSION_SELECT = `
  SELECT s.pk, s.id, s.title, s.created_at, s.kind, c.id AS current_id, s.parent_pk, p.id AS parent_id, s.fork_seq, s.imported_seq,
    (SELECT e.seq FROM events e WHERE e.session_pk = s.pk ORDER BY e.seq DESC LIMIT 1) AS last_seq,
    (SELECT e.event ->> '$.ts' FROM events e WHERE e.session_pk = s.pk ORDER BY e.seq DESC LIMIT 1) AS last_ts
  FROM sessions s LEFT JOIN sessions p ON p.pk = s.parent_pk LEFT JOIN sessions c ON c.pk = s.current_pk`;

/** The canonical JSON of an event (key order seq, id, ts, type, payload), size-checked. */
export function serialize(event: StoredEvent): string {
  const json = JSON.stringify(event);
  if (json.length > MAX_EVENT_BYTES / 3 && Buffer.byteLength(json) > MAX_EVENT_BYTES) {
    throw new AppError(
      'invalid-argument',
      `Event ${event.seq} (${event.type}) is ${Buffer.byteLength(json)} bytes; the limit is ${MAX_EVENT_BYTES}. ` +
        'Large outputs belong in a file on the hand. Nothing was saved.',
    );
  }
  return json;
}

/**
 * SQLite concatenates in visiting order, which for these range scans is seq order; the order
 * is not a documented guarantee, so it is checked (cheaply) and restored if ever needed.
 */
export function inSeqOrder(events: StoredEvent[]): StoredEvent[] {
  for (let i = 1; i < events.length; i++) {
    if ((events[i]?.seq ?? 0) < (events[i - 1]?.seq ?? 0)) return events.sort((a, b) => a.seq - b.seq);
  }
  return events;
}
