/**
 * The search index (issue 23 item 2): an FTS5 table in the session database that follows the log a
 * moment behind it, on its own connection.
 *
 * Why asynchronously: an FTS5 trigger inside the append transaction measured 0.84–0.96× raw
 * durable appends in different runs (bench/search.ts reports it), which with the store's own cost
 * leaves too little margin over its ≥ 0.8× raw target, and a 1 MB tool output would hold its append
 * for as long as it takes to tokenise. Following the log measured 0.98–0.99× the store without
 * search. So appends stay as they were, and this indexer reads what they committed:
 *
 * - Per session a high-water mark (`search_marks`) says up to which seq its own events are indexed;
 *   rows and mark are written in one transaction, so a crash at any point leaves them consistent
 *   and the next start carries on from the mark — exactly, never twice, never skipping.
 * - It works in slices of `sliceMs`, yielding to the event loop between them, woken by appends
 *   (subscribeAll) and, for sessions made without a notification (forks, imports), by a poll.
 * - An append wakes it `settleMs` later, not at once, so a burst of appends is indexed in one
 *   transaction: each FTS5 commit writes a segment and its structure record to the shared WAL, and
 *   the next durable append's fsync pays to write them out. Indexing after every append measured
 *   0.85–0.89× the store without search and 0.67× raw; 100 ms later, 1.02–1.07× and 0.83–0.87× raw
 *   (bench/search.ts).
 * - `status()` says how far behind it is (the cockpit's "indexing…" with progress).
 * - A damaged index (a failed integrity check after an unclean stop, or SQLite reporting corruption
 *   while searching or indexing) is dropped and rebuilt from the log.
 *
 * It never writes `events` or `sessions` (the triggers of schema.ts clear a purged session's rows
 * inside the store's delete transaction).
 */
import Database from 'better-sqlite3';
import { AppError } from '#shared/errors';
import type { SearchArg, SearchResult, SearchStatus } from '#shared/search';
import type { SessionStore } from '#services/session/store';
import { extract, TOOL_RESULT_TYPES, TOOL_USE_TYPES } from './extract.ts';
import { runSearch } from './query.ts';
import {
  dropSearchTables,
  ensureSearchSchema,
  indexable,
  MAX_INDEXED_SEQ,
  rowidOf,
  SEARCH_PRAGMAS,
  searchTableOutdated,
} from './schema.ts';

export interface SearchIndexOptions {
  store: Pick<SessionStore, 'dbPath' | 'nativeBinding' | 'subscribeAll'>;
  log?: (message: string, error?: unknown) => void;
  /** Longest stretch of indexing before yielding to the event loop (default 20 ms). */
  sliceMs?: number;
  /** Events read and indexed per transaction (default 500). */
  batchEvents?: number;
  /** How long after an append the follower waits, gathering the appends that follow, before indexing (default 100 ms). */
  settleMs?: number;
  /** How often sessions made without a notification (forks, imports) are looked for (default 2 s; 0: never). */
  pollMs?: number;
  /** Start following the log at once (default true; false: only `indexSome`, for tests and the bench). */
  follow?: boolean;
}

interface Lag {
  pk: number;
  mark: number;
  last: number;
  base: number;
}

interface LagRow {
  pk: number;
  base: number;
  mark: number;
  last: number | null;
}

const TOOL_USE_SET: ReadonlySet<string> = new Set(TOOL_USE_TYPES);
const TOOL_RESULT_SET: ReadonlySet<string> = new Set(TOOL_RESULT_TYPES);
/** How far back a tool result's use is looked for in the log when it is not in memory. */
const USE_LOOKBACK = 1000;

export class SearchIndex {
  private readonly db: Database.Database;
  private readonly log: (message: string, error?: unknown) => void;
  private readonly sliceMs: number;
  private readonly batchEvents: number;
  private readonly settleMs: number;
  private readonly lag = new Map<number, Lag>();
  private readonly pkOf = new Map<string, number>();
  private readonly handOfUse = new Map<number, Map<string, string | null>>();
  private statements!: ReturnType<typeof prepare>;
  private unsubscribe: (() => void) | null = null;
  private poll: NodeJS.Timeout | null = null;
  private scheduled: NodeJS.Immediate | null = null;
  private settling: NodeJS.Timeout | null = null;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  /** A failure to index is logged once until indexing works again. */
  private failing = false;

  private constructor(db: Database.Database, options: SearchIndexOptions) {
    this.db = db;
    this.log = options.log ?? ((message, error) => console.error(message, error));
    this.sliceMs = options.sliceMs ?? 20;
    this.batchEvents = options.batchEvents ?? 500;
    this.settleMs = options.settleMs ?? 100;
    this.statements = prepare(db);
  }

  /** Opens the index in the store's database (creating its tables if missing) and starts following the log. */
  static open(options: SearchIndexOptions): SearchIndex {
    const { dbPath, nativeBinding } = options.store;
    const db = nativeBinding === undefined ? new Database(dbPath) : new Database(dbPath, { nativeBinding });
    try {
      for (const pragma of SEARCH_PRAGMAS) db.pragma(pragma);
      // Marks without their index (a table dropped by hand) would claim events as searchable, and an
      // index tokenized another way (an older Drover's) would miss what this one finds: start over.
      const outdated = searchTableOutdated(db);
      if (outdated !== false) {
        dropSearchTables(db);
        if (outdated === 'other-tokenizer')
          options.log?.('The search index was made by an older Drover: rebuilding it from the sessions’ logs');
      }
      ensureSearchSchema(db);
    } catch (error) {
      db.close();
      throw error;
    }
    const index = new SearchIndex(db, options);
    index.checkAfterUncleanStop();
    index.refreshLag();
    if (options.follow !== false) index.follow(options);
    return index;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    if (this.poll !== null) clearInterval(this.poll);
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    if (this.settling !== null) clearTimeout(this.settling);
    try {
      this.statements.setMeta.run('clean', '1');
    } catch (error) {
      this.log('The search index could not record a clean stop; it will check itself at the next start', error);
    }
    this.db.close();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** How far the index is behind the log. */
  status(): SearchStatus {
    let indexed = 0;
    let pending = 0;
    for (const lag of this.lag.values()) {
      indexed += Math.max(0, lag.mark - lag.base);
      pending += Math.max(0, lag.last - lag.mark);
    }
    return { state: pending > 0 ? 'indexing' : 'idle', indexed, pending };
  }

  search(arg: Omit<SearchArg, 'limit'> & { limit: number }): SearchResult {
    this.catchUp();
    try {
      return { ...runSearch(this.db, arg), status: this.status() };
    } catch (error) {
      if (isCorruption(error)) {
        this.recover(error);
        throw new AppError(
          'storage-corrupt',
          'The search index was damaged; Drover is rebuilding it from the sessions’ logs (nothing in them was lost). Search again in a minute.',
        );
      }
      throw error;
    }
  }

  /**
   * Indexes now the few events still settling (appended in the last settleMs), so a search or a
   * person asking how far the index is sees everything committed before — unless the index has a
   * real backlog (more than one batch): that it works through in slices, saying "indexing".
   */
  catchUp(): void {
    this.refreshLag();
    const { pending } = this.status();
    if (pending > 0 && pending <= this.batchEvents) this.indexGuarded(pending, Number.POSITIVE_INFINITY);
  }

  /** Resolves once every event committed so far is indexed (or the index is closed). */
  whenIdle(): Promise<void> {
    this.refreshLag();
    if (this.closed || this.status().pending === 0) return Promise.resolve();
    this.schedule();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Indexes up to `maxEvents` pending events (in transactions of `batchEvents`), oldest session
   * first. Returns how many events it read. Synchronous: the follower calls it in slices.
   */
  indexSome(maxEvents: number, deadline = Number.POSITIVE_INFINITY): number {
    this.refreshLag();
    let done = 0;
    for (const lag of [...this.lag.values()].sort((a, b) => a.pk - b.pk)) {
      while (lag.mark < lag.last && done < maxEvents && performance.now() < deadline) {
        const read = this.indexBatch(lag, Math.min(this.batchEvents, maxEvents - done));
        if (read === 0) {
          // Its events are gone (deleted since the lag was read): nothing to index.
          lag.last = lag.mark;
          break;
        }
        done += read;
      }
      if (done >= maxEvents || performance.now() >= deadline) break;
    }
    return done;
  }

  /** Drops the whole index and indexes every session again from its log. */
  rebuild(): void {
    this.db.transaction(() => {
      dropSearchTables(this.db);
      ensureSearchSchema(this.db);
    })();
    this.statements = prepare(this.db);
    this.lag.clear();
    this.handOfUse.clear();
    this.refreshLag();
    this.schedule();
  }

  // ---------------------------------------------------------------- internals

  private follow(options: SearchIndexOptions): void {
    this.unsubscribe = options.store.subscribeAll((sessionId, event) => {
      const pk = this.sessionPk(sessionId);
      if (pk === undefined) return;
      const lag = this.lag.get(pk);
      if (lag === undefined) this.refreshLag();
      else if (event.seq > lag.last) lag.last = event.seq;
      this.scheduleSettled();
    });
    const pollMs = options.pollMs ?? 2000;
    if (pollMs > 0) {
      this.poll = setInterval(() => {
        this.refreshLag();
        if (this.status().pending > 0) this.schedule();
      }, pollMs);
      this.poll.unref();
    }
    if (this.status().pending > 0) this.schedule();
  }

  /** Indexes `settleMs` from now (the appends of a burst together), unless a slice is already due. */
  private scheduleSettled(): void {
    if (this.settleMs <= 0) return this.schedule();
    if (this.closed || this.scheduled !== null || this.settling !== null) return;
    this.settling = setTimeout(() => {
      this.settling = null;
      this.schedule();
    }, this.settleMs);
  }

  private schedule(): void {
    if (this.closed || this.scheduled !== null) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = null;
      this.runSlice();
    });
  }

  private runSlice(): void {
    if (this.closed) return;
    if (!this.indexGuarded(Number.POSITIVE_INFINITY, performance.now() + this.sliceMs)) return;
    if (this.status().pending > 0) this.schedule();
    else for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** indexSome, a damaged index rebuilt, any other failure logged once; false when indexing failed. */
  private indexGuarded(maxEvents: number, deadline: number): boolean {
    try {
      this.indexSome(maxEvents, deadline);
    } catch (error) {
      if (isCorruption(error)) this.recover(error);
      else {
        if (!this.failing) this.log('Indexing sessions for search failed; it will try again at the next event', error);
        this.failing = true;
        return false;
      }
    }
    this.failing = false;
    return true;
  }

  private indexBatch(lag: Lag, limit: number): number {
    const rows = this.statements.batch.all(lag.pk, lag.mark, limit);
    if (rows.length === 0) return 0;
    const last = rows[rows.length - 1]?.seq ?? lag.mark;
    this.db.transaction(() => {
      for (const row of rows) this.indexEvent(lag.pk, row.seq, row.event);
      this.statements.setMark.run(lag.pk, last);
    })();
    lag.mark = last;
    if (last > lag.last) lag.last = last;
    return rows.length;
  }

  private indexEvent(pk: number, seq: number, json: string): void {
    if (seq > MAX_INDEXED_SEQ) return;
    const event = JSON.parse(json) as { type: string; ts: string; payload: unknown };
    const found = extract(event.type, event.payload);
    if (found === null) return;
    let hand = found.hand;
    if (found.toolUseId !== undefined) {
      let uses = this.handOfUse.get(pk);
      if (uses === undefined) {
        uses = new Map();
        this.handOfUse.set(pk, uses);
      }
      if (TOOL_USE_SET.has(event.type)) {
        if (uses.size > 10_000) uses.clear();
        uses.set(found.toolUseId, hand);
      } else if (TOOL_RESULT_SET.has(event.type)) {
        hand = uses.has(found.toolUseId) ? (uses.get(found.toolUseId) ?? null) : this.lookUpHand(pk, seq, found.toolUseId);
      }
    }
    this.statements.insert.run(rowidOf(pk, seq), indexable(found.body), event.type, hand, Date.parse(event.ts));
  }

  /** The hand of the tool use `toolUseId` answered, read back from the log (a result indexed after a restart). */
  private lookUpHand(pk: number, seq: number, toolUseId: string): string | null {
    const row = this.statements.useOf.get(pk, Math.max(1, seq - USE_LOOKBACK), seq, toolUseId);
    return row?.hand ?? null;
  }

  private sessionPk(sessionId: string): number | undefined {
    let pk = this.pkOf.get(sessionId);
    if (pk === undefined) {
      pk = this.statements.pkOf.get(sessionId);
      if (pk !== undefined) this.pkOf.set(sessionId, pk);
    }
    return pk;
  }

  /** Reads every session's mark and last seq (O(sessions): one index probe each). */
  private refreshLag(): void {
    if (this.closed) return;
    const seen = new Set<number>();
    for (const row of this.statements.lag.all()) {
      seen.add(row.pk);
      const last = Math.max(row.last ?? row.base, row.base);
      const known = this.lag.get(row.pk);
      if (known === undefined) this.lag.set(row.pk, { pk: row.pk, mark: row.mark, last, base: row.base });
      else {
        known.mark = row.mark;
        known.base = row.base;
        known.last = Math.max(known.last, last);
      }
    }
    for (const pk of this.lag.keys()) {
      if (!seen.has(pk)) {
        this.lag.delete(pk);
        this.handOfUse.delete(pk);
      }
    }
    for (const [id, pk] of this.pkOf) if (!seen.has(pk)) this.pkOf.delete(id);
  }

  /** After an unclean stop, checks the index and rebuilds it if damaged. */
  private checkAfterUncleanStop(): void {
    const clean = this.statements.getMeta.get('clean');
    this.statements.setMeta.run('clean', '0');
    if (clean === '1' || clean === undefined) return;
    try {
      this.db.prepare("INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)").run();
    } catch (error) {
      this.recover(error);
    }
  }

  private recover(error: unknown): void {
    this.log('The search index is damaged; rebuilding it from the sessions’ logs', error);
    this.rebuild();
    this.statements.setMeta.run('clean', '0');
  }
}

function prepare(db: Database.Database) {
  return {
    lag: db.prepare<[], LagRow>(
      `SELECT s.pk, coalesce(s.fork_seq, 0) AS base, coalesce(m.seq, s.fork_seq, 0) AS mark,
         (SELECT e.seq FROM events e WHERE e.session_pk = s.pk ORDER BY e.seq DESC LIMIT 1) AS last
       FROM sessions s LEFT JOIN search_marks m ON m.session_pk = s.pk`,
    ),
    pkOf: db.prepare<[string], number>('SELECT pk FROM sessions WHERE id = ?').pluck(),
    batch: db.prepare<[number, number, number], { seq: number; event: string }>(
      'SELECT seq, event FROM events WHERE session_pk = ? AND seq > ? ORDER BY seq LIMIT ?',
    ),
    insert: db.prepare<[bigint, string, string, string | null, number]>(
      'INSERT INTO search_fts (rowid, body, type, hand, ts) VALUES (?, ?, ?, ?, ?)',
    ),
    setMark: db.prepare<[number, number]>(
      'INSERT INTO search_marks (session_pk, seq) VALUES (?, ?) ON CONFLICT(session_pk) DO UPDATE SET seq = excluded.seq',
    ),
    useOf: db.prepare<[number, number, number, string], { hand: string | null }>(
      `SELECT coalesce(event ->> '$.payload.hand_id', event ->> '$.payload.server_name') AS hand FROM events
       WHERE session_pk = ? AND seq BETWEEN ? AND ? AND event ->> '$.payload.tool_use_id' = ?
         AND event ->> '$.type' IN ('agent.tool_use', 'agent.mcp_tool_use', 'agent.custom_tool_use')
       ORDER BY seq DESC LIMIT 1`,
    ),
    getMeta: db.prepare<[string], string>('SELECT value FROM search_meta WHERE key = ?').pluck(),
    setMeta: db.prepare<[string, string]>(
      'INSERT INTO search_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ),
  };
}

function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  return (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT')) || /malformed|corrupt/i.test(message);
}
