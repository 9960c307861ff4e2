/**
 * SessionStore: the durable, append-only event log of every session — the one source of truth.
 *
 * - `emitEvent` returns only after the event is committed with fsync (WAL, synchronous=FULL).
 * - Forks are copy-free: a child stores only its own events; its view is its ancestors' events
 *   up to each fork point followed by its own (its "lineage"), resolved at read time.
 * - Every write is one transaction, so a failure (bad input, disk full, read-only disk) leaves
 *   everything saved before exactly as it was.
 *
 * It must never import electron, never hold model or hand state, and never rewrite an event.
 *
 * Its in-memory records and lineage are in records.ts; its SQL and the events' stored JSON in statements.ts.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '#shared/errors';
import {
  describeIssues,
  eventPayloadSchemas,
  issuesText,
  EVENT_TYPES,
  isEventType,
  type EventType,
  type NewEvent,
  type StoredEvent,
} from '#shared/events';
import { describeDescendants, type EventQuery, type SessionTimeline, type StoredSession, type SessionTreeNode } from '#shared/sessions';
import { dataDirExposure, ensureDataDir, withPrivateFiles } from '#services/data-dir';
import { exportLines, parseExport } from './jsonl.ts';
import { DataDirLock, type NativeBindingOption } from './lock.ts';
import { lineageOf, rootRecord, SEQ_MAX, summaryOf, type SessionRecord, type SessionRow } from './records.ts';
import { applyPragmas, migrate, PER_TURN_EVENT_TYPES } from './schema.ts';
import { inSeqOrder, prepareStatements, serialize, sliceSql } from './statements.ts';
import { guardStorage } from './storage-errors.ts';

export const DB_FILE = 'sessions.db';
export { MAX_EVENT_BYTES } from './statements.ts';

const DEFAULT_QUERY_LIMIT = 1000;
/** An event id a caller may choose (see NewEvent.id): a uuid, as every stored event id is. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface SessionStoreOptions extends NativeBindingOption {
  dataDir: string;
  /** Recorded in the database so a newer Drover's database can name its writer. */
  appVersion?: string;
  /** Called when a subscriber throws; the append it was told about has already succeeded. */
  onListenerError?: (error: unknown) => void;
  /** Where a warning about the data folder goes (default: console.warn). */
  warn?: (message: string) => void;
}

export type EventListener = (event: StoredEvent) => void;
export type AnyEventListener = (sessionId: string, event: StoredEvent) => void;

export class SessionStore {
  readonly dataDir: string;
  readonly dbPath: string;
  /** The better-sqlite3 binary it loaded (undefined: the module's own), for other connections to its database. */
  readonly nativeBinding: string | undefined;
  private readonly db: Database.Database;
  private readonly lock: DataDirLock;
  private readonly onListenerError: (error: unknown) => void;
  private readonly records = new Map<string, SessionRecord>();
  private readonly typeCodes = new Map<string, number>();
  private readonly listeners = new Map<string, Set<EventListener>>();
  private readonly anyListeners = new Set<AnyEventListener>();
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly sliceStatements = new Map<string, Database.Statement<unknown[], string | null>>();
  private redactPayload: ((payload: unknown) => unknown) | null = null;

  private constructor(dataDir: string, db: Database.Database, lock: DataDirLock, options: SessionStoreOptions) {
    this.dataDir = dataDir;
    this.dbPath = path.join(dataDir, DB_FILE);
    this.nativeBinding = options.nativeBinding;
    this.db = db;
    this.lock = lock;
    this.onListenerError = options.onListenerError ?? ((error) => console.error('Session event listener failed:', error));
    this.statements = prepareStatements(db);
    this.loadEventTypes();
  }

  /**
   * Opens (creating if needed) the store in `dataDir`. Refuses a folder another process holds,
   * a damaged database, and a database from a newer Drover — each with a message saying what
   * to do — and never modifies the file when it refuses.
   */
  static open(options: SessionStoreOptions): SessionStore {
    const dataDir = path.resolve(options.dataDir);
    ensureDataDir(dataDir);
    const exposure = dataDirExposure(dataDir);
    if (exposure !== null) (options.warn ?? console.warn)(exposure);
    const lock = DataDirLock.acquire(dataDir, options);
    const dbPath = path.join(dataDir, DB_FILE);
    let db: Database.Database | undefined;
    try {
      // The database, its -wal and -shm are private to the user (0600), whatever the umask.
      const files = [dbPath, `${dbPath}-wal`, `${dbPath}-shm`, `${dbPath}-journal`];
      db = guardStorage(dbPath, 'open the session database', () =>
        withPrivateFiles(files, () => {
          const opened =
            options.nativeBinding === undefined ? new Database(dbPath) : new Database(dbPath, { nativeBinding: options.nativeBinding });
          // Read the header before any pragma writes, so a damaged file is refused untouched.
          opened.pragma('schema_version');
          applyPragmas(opened);
          migrate(opened, dbPath, options.appVersion ?? '0.0.0');
          return opened;
        }),
      );
      return new SessionStore(dataDir, db, lock, options);
    } catch (error) {
      db?.close();
      lock.release();
      throw error;
    }
  }

  close(): void {
    if (!this.db.open) return;
    this.listeners.clear();
    this.anyListeners.clear();
    this.db.close();
    this.lock.release();
  }

  // ---------------------------------------------------------------- sessions

  createSession({ title }: { title: string }): StoredSession {
    const id = randomUUID();
    const now = Date.now();
    const pk = this.guard('create the session', () =>
      Number(this.statements.insertSession.run(id, title, now, null, null, 'root').lastInsertRowid),
    );
    return this.remember(rootRecord({ pk, id, title, createdAt: now, lastSeq: 0, lastTs: now }));
  }

  getSession(sessionId: string): StoredSession {
    return summaryOf(this.record(sessionId));
  }

  /** Every session, most recently active first. */
  listSessions(): StoredSession[] {
    const rows = this.guard('list sessions', () => this.statements.listSessions.all());
    const summaries = rows.map((row) => summaryOf(this.recordFromRow(row)));
    return summaries.sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt));
  }

  /**
   * Every session in the fork tree that contains `sessionId`, root first, then by depth and age.
   * Each node names its parent and the parent event it was forked after.
   */
  getTree(sessionId: string): SessionTreeNode[] {
    let root = this.record(sessionId);
    while (root.parentId !== null) root = this.record(root.parentId);
    const rows = this.guard('read the session tree', () => this.statements.tree.all(root.pk));
    return rows.map((row) => {
      const record = this.record(row.id);
      return {
        id: row.id,
        title: row.title,
        createdAt: new Date(row.created_at).toISOString(),
        kind: record.kind,
        parentId: row.parent_id,
        forkSeq: row.fork_seq,
        depth: row.depth,
        lastSeq: record.lastSeq,
        lastActivityAt: new Date(record.lastTs).toISOString(),
      };
    });
  }

  /**
   * Continues `sessionId`'s conversation from event `atSeq` on a new branch (a fork of kind
   * `rewind`), which becomes the branch the conversation shows. The later events stay where they
   * were, on the branch this one was taken from.
   */
  rewind(sessionId: string, atSeq: number): StoredSession {
    const source = this.record(sessionId);
    return this.fork(sessionId, atSeq, { title: source.title, kind: 'rewind' });
  }

  /**
   * Renames a session's conversation: its first branch and every rewind of it (they are one
   * conversation, shown under one title). Forks are conversations of their own and keep theirs.
   */
  renameSession(sessionId: string, title: string): StoredSession {
    const conversationId = this.record(sessionId).conversationId;
    this.listSessions();
    const members = [...this.records.values()].filter((record) => record.conversationId === conversationId);
    this.guard('rename the session', () =>
      this.db.transaction(() => {
        for (const member of members) this.statements.setTitle.run(title, member.pk);
      })(),
    );
    for (const member of members) member.title = title;
    return summaryOf(this.record(sessionId));
  }

  /** Makes `sessionId` the branch its conversation shows. */
  switchBranch(sessionId: string): StoredSession {
    const branch = this.record(sessionId);
    const head = this.record(branch.conversationId);
    const currentPk = branch.pk === head.pk ? null : branch.pk;
    this.guard('switch the branch', () => this.statements.setCurrent.run(currentPk, head.pk));
    head.currentId = currentPk === null ? null : branch.id;
    return summaryOf(branch);
  }

  /** Every event's type in seq order (see SessionTimeline): one integer per event. */
  getTimeline(sessionId: string): SessionTimeline {
    const record = this.record(sessionId);
    const indexOfCode = new Map<number, number>();
    for (const [name, code] of this.typeCodes) indexOfCode.set(code, EVENT_TYPES.indexOf(name as EventType));
    const codes: number[] = [];
    for (const segment of record.lineage) {
      const high = Math.min(segment.to, record.lastSeq);
      if (segment.from > high) continue;
      const rows = this.guard('read the timeline', () => this.statements.typesInRange.all(segment.sessionPk, segment.from, high));
      for (const code of rows) codes.push(indexOfCode.get(code) ?? 0);
    }
    return { lastSeq: record.lastSeq, types: [...EVENT_TYPES], codes };
  }

  /**
   * A new session whose view is this session's events 1…atSeq, followed by a `session.forked`
   * event of its own. Nothing is copied: the cost is one row and one event whatever the history.
   */
  fork(sessionId: string, atSeq: number, options: { title?: string | undefined; kind?: 'fork' | 'rewind' } = {}): StoredSession {
    const parent = this.record(sessionId);
    if (!Number.isInteger(atSeq) || atSeq < 0 || atSeq > parent.lastSeq) {
      throw new AppError(
        'invalid-argument',
        `Cannot fork "${parent.title}" at event ${atSeq}: it has events 1 to ${parent.lastSeq}. ` +
          'Pick an event in that range (0 forks before the first event).',
      );
    }
    const id = randomUUID();
    const now = Date.now();
    const kind = options.kind ?? 'fork';
    const title = options.title ?? `${parent.title} (fork at ${atSeq})`;
    const head = kind === 'rewind' ? this.record(parent.conversationId) : null;
    const forked = { parent_session_id: parent.id, at_seq: atSeq };
    const pk = this.guard('fork the session', () =>
      this.db.transaction(() => {
        const childPk = Number(this.statements.insertSession.run(id, title, now, parent.pk, atSeq, kind).lastInsertRowid);
        if (head !== null) this.statements.setCurrent.run(childPk, head.pk);
        const event = { seq: atSeq + 1, id: randomUUID(), ts: new Date(now).toISOString(), type: 'session.forked', payload: forked };
        const code = this.typeCode(event.type);
        this.statements.insertEvent.run(childPk, event.seq, code, this.landmarkOf(event.type, code), JSON.stringify(event));
        return childPk;
      })(),
    );
    const record: SessionRecord = {
      pk,
      id,
      title,
      createdAt: now,
      kind,
      conversationId: head?.id ?? id,
      currentId: null,
      parentId: parent.id,
      forkSeq: atSeq,
      lastSeq: atSeq + 1,
      lastTs: now,
      lineage: lineageOf(pk, { parent: parent.lineage, atSeq }),
    };
    if (parent.importedSeq !== undefined && Math.min(parent.importedSeq, atSeq) > 0)
      record.importedSeq = Math.min(parent.importedSeq, atSeq);
    if (head !== null) head.currentId = id;
    return this.remember(record);
  }

  /**
   * Deletes a session and its own events; with `withDescendants`, also every branch and fork taken
   * from it (and theirs), deepest first, in one transaction. Without it, a session that others
   * continue from is refused: they read its events. Returns the ids deleted, the session's last.
   * This is the only way events leave the log, and the database allows it only mid-purge.
   */
  deleteSession(sessionId: string, { withDescendants = false }: { withDescendants?: boolean } = {}): string[] {
    const record = this.record(sessionId);
    const doomed = this.guard('read the session tree', () => this.statements.tree.all(record.pk)).map((row) => this.record(row.id));
    const descendants = doomed.slice(1);
    if (descendants.length > 0 && !withDescendants) {
      throw new AppError(
        'conflict',
        `"${record.title}" has ${describeDescendants(descendants)} that still read its events. Delete them first, or delete it with them.`,
      );
    }
    doomed.reverse();
    const after = this.guard('delete the session', () => this.db.transaction(() => doomed.map((each) => this.purge(each)))());
    after.forEach((apply) => apply());
    for (const each of doomed) {
      this.records.delete(each.id);
      this.listeners.delete(each.id);
    }
    return doomed.map((each) => each.id);
  }

  /** One session's rows, its children already gone; a conversation showing it shows the branch it was taken from. */
  private purge(record: SessionRecord): () => void {
    const head = record.kind === 'rewind' ? this.record(record.conversationId) : null;
    const parent = record.parentId === null ? null : this.record(record.parentId);
    const fallback = head !== null && parent !== null && parent.pk !== head.pk ? parent : null;
    this.statements.replaceCurrent.run(fallback?.pk ?? null, record.pk);
    this.statements.markPurging.run(record.pk);
    this.statements.deleteEvents.run(record.pk);
    this.statements.deleteSession.run(record.pk);
    // The in-memory record follows once the transaction has committed.
    return () => {
      if (head !== null && head.currentId === record.id) head.currentId = fallback?.id ?? null;
    };
  }

  // ---------------------------------------------------------------- events

  /**
   * Passes every payload through `redact` before it is stored (the vault's redactor: stored
   * secrets are replaced by markers), so no path into the log can write a secret's value.
   */
  useRedactor(redact: ((payload: unknown) => unknown) | null): void {
    this.redactPayload = redact;
  }

  /** `payload` as it will be stored (redacted), for code that must act on it before storing. */
  redacted<T>(payload: T): T {
    return this.redactPayload === null ? payload : (this.redactPayload(payload) as T);
  }

  /** Validates and appends one event; durable when it returns. Invalid input writes nothing. */
  emitEvent(sessionId: string, event: NewEvent): StoredEvent {
    // The hot path of every session: kept free of batch bookkeeping (it runs right after an
    // fsync wake-up, when every microsecond of CPU costs several).
    const record = this.record(sessionId);
    const { type, payload, code, id } = this.prepareEvent(event, undefined);
    const ts = Date.now();
    const stored = { seq: record.lastSeq + 1, id, ts: new Date(ts).toISOString(), type, payload } as StoredEvent;
    const json = serialize(stored);
    this.guard('save the event', () => this.statements.insertEvent.run(record.pk, stored.seq, code, this.landmarkOf(type, code), json));
    record.lastSeq = stored.seq;
    record.lastTs = ts;
    this.notify(sessionId, stored);
    return stored;
  }

  /** Appends several events in one transaction: all of them or, on any failure, none. */
  emitEvents(sessionId: string, events: readonly NewEvent[]): StoredEvent[] {
    const record = this.record(sessionId);
    const prepared = events.map((event, index) => this.prepareEvent(event, events.length > 1 ? index : undefined));
    const ts = Date.now();
    let seq = record.lastSeq;
    const stored: StoredEvent[] = prepared.map(({ type, payload, id }) => ({
      seq: ++seq,
      id,
      ts: new Date(ts).toISOString(),
      type,
      payload,
    })) as StoredEvent[];
    const rows = stored.map((event, index) => {
      const code = prepared[index]?.code ?? -1;
      return [record.pk, event.seq, code, this.landmarkOf(event.type, code), serialize(event)] as const;
    });
    this.guard('save the events', () => this.db.transaction(() => rows.forEach((row) => this.statements.insertEvent.run(...row)))());
    record.lastSeq = seq;
    record.lastTs = ts;
    for (const event of stored) this.notify(sessionId, event);
    return stored;
  }

  /** A positional slice of the session's view (inherited events included); see EventQuery. */
  getEvents(sessionId: string, query: EventQuery = {}): StoredEvent[] {
    const record = this.record(sessionId);
    const after = query.afterSeq ?? 0;
    const before = query.beforeSeq ?? SEQ_MAX;
    let remaining = query.limit ?? DEFAULT_QUERY_LIMIT;
    const backward = query.direction === 'backward';
    const typeCodes = query.types?.map((type) => this.typeCode(type));
    const byLandmark = query.types?.every((type) => !PER_TURN_EVENT_TYPES.has(type)) ?? false;
    const statement = this.sliceStatement(typeCodes?.length ?? 0, backward, byLandmark);
    const segments = backward ? [...record.lineage].reverse() : record.lineage;
    // Each chunk is a JSON array of one segment's events, assembled inside SQLite: one
    // JSON.parse per slice is several times cheaper than materialising rows one by one.
    const chunks: StoredEvent[][] = [];
    for (const segment of segments) {
      if (remaining <= 0) break;
      let low = Math.max(segment.from, after + 1);
      let high = Math.min(segment.to, before - 1, record.lastSeq);
      if (low > high) continue;
      if (!typeCodes) {
        // seq is dense within a segment (a trigger guarantees it), so the slice is an exact range.
        if (backward) low = Math.max(low, high - remaining + 1);
        else high = Math.min(high, low + remaining - 1);
      }
      const args = typeCodes ? [segment.sessionPk, low, high, ...typeCodes, remaining] : [segment.sessionPk, low, high];
      const json = this.guard('read session events', () => statement.get(...args));
      if (typeof json !== 'string') continue;
      const chunk = inSeqOrder(JSON.parse(json) as StoredEvent[]);
      chunks.push(chunk);
      remaining -= chunk.length;
    }
    if (backward) chunks.reverse();
    // A plain loop: Array.prototype.flat measured ~20× slower here (8.8 vs 0.4 µs per slice).
    const events: StoredEvent[] = [];
    for (const chunk of chunks) for (const event of chunk) events.push(event);
    return events;
  }

  /** Live listener for events appended to this session from now on. Returns an unsubscribe. */
  subscribe(sessionId: string, listener: EventListener): () => void {
    this.record(sessionId);
    let set = this.listeners.get(sessionId);
    if (!set) {
      set = new Set();
      this.listeners.set(sessionId, set);
    }
    set.add(listener);
    return () => {
      this.listeners.get(sessionId)?.delete(listener);
    };
  }

  /** Live listener for events appended to any session (the UI's push channel uses this). */
  subscribeAll(listener: AnyEventListener): () => void {
    this.anyListeners.add(listener);
    return () => {
      this.anyListeners.delete(listener);
    };
  }

  // ---------------------------------------------------------------- export / import

  /**
   * The session as JSONL: a header line, then every event of its view (inherited ones included)
   * exactly as stored. Lines are produced page by page, so huge sessions stream.
   */
  *exportSession(sessionId: string): Generator<string> {
    yield* exportLines(this.getSession(sessionId), (afterSeq, upTo) =>
      this.getEvents(sessionId, { afterSeq, beforeSeq: upTo + 1, limit: 1000 }),
    );
  }

  /**
   * Imports an exported session as a new root session (new id; events keep seq, id, ts and type).
   * The file is untrusted: the whole of it is validated first, held to live input's limits (see
   * jsonl.ts), and any bad line is refused, naming the line, with nothing written. Payloads go
   * through the redactor like live ones. The session is marked imported, so its hands stay off
   * until the user reviews them.
   */
  importSession(lines: Iterable<string>): StoredSession {
    const parsed = parseExport(lines);
    const id = randomUUID();
    const now = Date.now();
    const { title } = parsed.header.session;
    const rows = parsed.events.map((event) => {
      const stored = { ...event, payload: this.redacted(event.payload) } as StoredEvent;
      return { event: stored, code: this.typeCode(event.type), json: serialize(stored), ts: Date.parse(event.ts) };
    });
    const importedSeq = rows.length > 0 ? rows.length : null;
    const pk = this.guard('import the session', () =>
      this.db.transaction(() => {
        const sessionPk = Number(this.statements.insertImported.run(id, title, now, importedSeq).lastInsertRowid);
        for (const row of rows) {
          this.statements.insertEvent.run(sessionPk, row.event.seq, row.code, this.landmarkOf(row.event.type, row.code), row.json);
        }
        return sessionPk;
      })(),
    );
    const last = rows[rows.length - 1];
    const record = rootRecord({ pk, id, title, createdAt: now, lastSeq: last?.event.seq ?? 0, lastTs: last?.ts ?? now });
    if (importedSeq !== null) record.importedSeq = importedSeq;
    return this.remember(record);
  }

  // ---------------------------------------------------------------- internals

  private prepareEvent(event: NewEvent, index: number | undefined): { type: EventType; payload: never; code: number; id: string } {
    const where = index === undefined ? 'The event' : `Event ${index + 1} of the batch`;
    const id = (event as { id?: unknown } | null)?.id ?? randomUUID();
    if (typeof id !== 'string' || !UUID.test(id)) {
      throw new AppError('invalid-argument', `${where} has an id that is not a uuid; nothing was saved.`, {
        issues: [{ path: 'id', message: 'must be a uuid' }],
      });
    }
    const type: unknown = (event as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !isEventType(type)) {
      throw new AppError('invalid-argument', `${where} has an unknown type ${JSON.stringify(type)}; nothing was saved.`, {
        issues: [{ path: 'type', message: `must be one of: ${EVENT_TYPES.join(', ')}` }],
      });
    }
    const result = eventPayloadSchemas[type].safeParse(event.payload);
    if (!result.success) {
      const issues = describeIssues(result.error.issues, ['payload']);
      throw new AppError('invalid-argument', `${where} (${type}) is invalid: ${issuesText(issues)}. Nothing was saved.`, { issues });
    }
    // Validated first, so a redaction marker can never make a payload invalid or valid.
    const payload = this.redactPayload === null ? result.data : this.redactPayload(result.data);
    return { type, payload: payload as never, code: this.typeCode(type), id };
  }

  private notify(sessionId: string, event: StoredEvent): void {
    const listeners = this.listeners.get(sessionId);
    for (const listener of listeners ?? []) this.callListener(() => listener(event));
    for (const listener of this.anyListeners) this.callListener(() => listener(sessionId, event));
  }

  private callListener(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.onListenerError(error);
    }
  }

  private remember(record: SessionRecord): StoredSession {
    this.records.set(record.id, record);
    return summaryOf(record);
  }

  private record(sessionId: string): SessionRecord {
    const cached = this.records.get(sessionId);
    if (cached) return cached;
    const row = this.guard('read the session', () => this.statements.sessionById.get(sessionId));
    if (!row) {
      throw new AppError('not-found', `There is no session ${sessionId}. It may have been deleted; pick one from the sessions list.`);
    }
    return this.recordFromRow(row);
  }

  private recordFromRow(row: SessionRow): SessionRecord {
    const cached = this.records.get(row.id);
    if (cached) return cached;
    const lineage =
      row.parent_id !== null && row.fork_seq !== null
        ? lineageOf(row.pk, { parent: this.record(row.parent_id).lineage, atSeq: row.fork_seq })
        : lineageOf(row.pk);
    const kind = row.kind;
    const record: SessionRecord = {
      pk: row.pk,
      id: row.id,
      title: row.title,
      createdAt: row.created_at,
      kind,
      conversationId: kind === 'rewind' && row.parent_id !== null ? this.record(row.parent_id).conversationId : row.id,
      currentId: kind === 'rewind' ? null : row.current_id,
      parentId: row.parent_id,
      forkSeq: row.fork_seq,
      lastSeq: row.last_seq ?? row.fork_seq ?? 0,
      lastTs: row.last_ts === null ? row.created_at : Date.parse(row.last_ts),
      lineage,
    };
    const importedSeq = this.importedSeqOf(row);
    if (importedSeq !== undefined) record.importedSeq = importedSeq;
    this.records.set(row.id, record);
    return record;
  }

  /** An imported root's own count; a fork's is its parent's, cut at the fork point. */
  private importedSeqOf(row: SessionRow): number | undefined {
    if (row.parent_id === null || row.fork_seq === null) return row.imported_seq ?? undefined;
    const inherited = this.record(row.parent_id).importedSeq;
    const seq = inherited === undefined ? 0 : Math.min(inherited, row.fork_seq);
    return seq > 0 ? seq : undefined;
  }

  private loadEventTypes(): void {
    this.guard('register event types', () =>
      this.db.transaction(() => {
        for (const name of EVENT_TYPES) this.statements.insertEventType.run(name);
      })(),
    );
    for (const { code, name } of this.statements.eventTypes.all()) this.typeCodes.set(name, code);
  }

  private landmarkOf(type: string, code: number): number | null {
    return PER_TURN_EVENT_TYPES.has(type) ? null : code;
  }

  private typeCode(type: string): number {
    const code = this.typeCodes.get(type);
    if (code === undefined) throw new AppError('invalid-argument', `Unknown event type ${JSON.stringify(type)}.`);
    return code;
  }

  private sliceStatement(typeCount: number, backward: boolean, byLandmark: boolean): Database.Statement<unknown[], string | null> {
    const key = `${typeCount}${backward ? 'b' : 'f'}${byLandmark ? 'l' : 't'}`;
    let statement = this.sliceStatements.get(key);
    if (!statement) {
      statement = this.db.prepare<unknown[], string | null>(sliceSql(typeCount, backward, byLandmark)).pluck();
      this.sliceStatements.set(key, statement);
    }
    return statement;
  }

  /** Runs a database operation, turning storage failures into errors about the database file. */
  private guard<T>(action: string, work: () => T): T {
    return guardStorage(this.dbPath, action, work);
  }
}
