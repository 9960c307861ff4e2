/**
 * The store's append path. Two kinds of append, one log:
 *
 * - durable (`emitOne`, `emitMany`): one transaction committed with synchronous = FULL — the WAL is
 *   fsynced before it returns, on the event loop;
 * - group-committed (`appendDurable`, for writers that can wait: the harness's runs): the same
 *   transaction with synchronous = NORMAL (the WAL written, not fsynced), then an fdatasync of the
 *   WAL off the event loop shared with every append committed meanwhile (group-commit.ts).
 *
 * Nothing is acknowledged before it is durable: a group-committed append's listeners, readers
 * (`lastSeq`) and promise see it only once an fsync covering it has completed — its own group's,
 * or a later durable commit's (an fsync of the WAL covers every frame written before it). Seqs are
 * given out from each session's tail (its last event appended, durable or not), so both kinds
 * interleave in one dense order, and listeners hear of events in that order.
 */
import type Database from 'better-sqlite3';
import type { NewEvent, StoredEvent } from '#shared/events';
import type { PreparedEvent } from './event-input.ts';
import { GroupCommit } from './group-commit.ts';
import type { SessionRecord } from './records.ts';
import { serialize } from './statements.ts';
import { guardStorage } from './storage-errors.ts';

export interface AppendTarget {
  db: Database.Database;
  dbPath: string;
  insert(record: SessionRecord, seq: number, code: number, type: string, json: string): void;
  prepare(event: NewEvent, index: number | undefined): PreparedEvent;
  notify(sessionId: string, event: StoredEvent): void;
  /** Whether the record is still the store's (not deleted). */
  live(record: SessionRecord): boolean;
}

export class Appender {
  private readonly group: GroupCommit;
  /** Each session's last seq appended but not yet durable. */
  private readonly tails = new Map<string, number>();

  constructor(private readonly target: AppendTarget) {
    this.group = new GroupCommit(`${target.dbPath}-wal`);
  }

  /** fdatasync calls the group commit has made. */
  get groupSyncs(): number {
    return this.group.syncs;
  }

  emitOne(record: SessionRecord, event: NewEvent): StoredEvent {
    // The hot path of every session: kept free of batch bookkeeping (it runs right after an
    // fsync wake-up, when every microsecond of CPU costs several).
    const { type, payload, code, id } = this.target.prepare(event, undefined);
    const ts = Date.now();
    const stored = { seq: this.tailSeq(record) + 1, id, ts: new Date(ts).toISOString(), type, payload } as StoredEvent;
    const json = serialize(stored);
    this.guard('save the event', () => this.target.insert(record, stored.seq, code, type, json));
    this.afterDurable(record);
    record.lastSeq = stored.seq;
    record.lastTs = ts;
    this.target.notify(record.id, stored);
    return stored;
  }

  emitMany(record: SessionRecord, events: readonly NewEvent[]): StoredEvent[] {
    const { stored, ts } = this.commit(record, events, 'durable');
    this.afterDurable(record);
    this.publish(record, stored, ts);
    return stored;
  }

  appendDurable(record: SessionRecord, events: readonly NewEvent[], onDurable?: (stored: StoredEvent[]) => void): Promise<StoredEvent[]> {
    const { stored, ts } = this.commit(record, events, 'deferred');
    const last = stored.at(-1)?.seq ?? this.tailSeq(record);
    this.tails.set(record.id, last);
    return new Promise<StoredEvent[]>((resolve, reject) => {
      this.group.add({
        settled: false,
        publish: () => {
          if (this.tails.get(record.id) === last) this.tails.delete(record.id);
          // A session deleted meanwhile has no listeners left to tell.
          if (this.target.live(record)) this.publish(record, stored, ts);
          try {
            onDurable?.(stored);
          } finally {
            resolve(stored);
          }
        },
        fail: (error) => {
          // Written but perhaps not durable: never told to listeners; the caller hears the storage error.
          if (this.tails.get(record.id) === last) this.tails.delete(record.id);
          if (record.lastSeq < last) record.lastSeq = last;
          try {
            this.guard('make the events durable', () => {
              throw error;
            });
          } catch (guarded) {
            reject(guarded);
          }
        },
      });
    });
  }

  /** A durable commit (FULL) has just fsynced the WAL: appends committed before it are durable too. */
  durableNow(): void {
    this.group.durableNow();
  }

  /** Makes every pending append durable now (the store is closing). */
  flushSync(): void {
    this.group.flushSync();
  }

  forget(sessionId: string): void {
    this.tails.delete(sessionId);
  }

  /** The seq of the session's last event appended (durable or not): the next one follows it. */
  private tailSeq(record: SessionRecord): number {
    return this.tails.get(record.id) ?? record.lastSeq;
  }

  private afterDurable(record: SessionRecord): void {
    // Its fsync covered every append committed before it: those are told first, in order.
    this.group.durableNow();
    this.tails.delete(record.id);
  }

  /** Writes events in one transaction (`deferred`: without the fsync; see appendDurable). */
  private commit(record: SessionRecord, events: readonly NewEvent[], sync: 'durable' | 'deferred'): { stored: StoredEvent[]; ts: number } {
    const prepared = events.map((event, index) => this.target.prepare(event, events.length > 1 ? index : undefined));
    const ts = Date.now();
    let seq = this.tailSeq(record);
    const stored: StoredEvent[] = prepared.map(({ type, payload, id }) => ({
      seq: ++seq,
      id,
      ts: new Date(ts).toISOString(),
      type,
      payload,
    })) as StoredEvent[];
    const rows = stored.map((event, index) => ({ event, code: prepared[index]?.code ?? -1, json: serialize(event) }));
    const { db } = this.target;
    const insert = db.transaction(() =>
      rows.forEach((row) => this.target.insert(record, row.event.seq, row.code, row.event.type, row.json)),
    );
    this.guard('save the events', () => {
      if (sync === 'durable') return insert();
      // db.exec, not a prepared statement: SQLite applies this pragma when it compiles it.
      db.exec('PRAGMA synchronous = NORMAL');
      try {
        insert();
      } finally {
        db.exec('PRAGMA synchronous = FULL');
      }
    });
    return { stored, ts };
  }

  /** Durable events become visible: the record moves on and the listeners hear of them, in order. */
  private publish(record: SessionRecord, stored: readonly StoredEvent[], ts: number): void {
    const last = stored.at(-1);
    if (last === undefined) return;
    if (last.seq > record.lastSeq) {
      record.lastSeq = last.seq;
      record.lastTs = ts;
    }
    for (const event of stored) this.target.notify(record.id, event);
  }

  private guard<T>(action: string, work: () => T): T {
    return guardStorage(this.target.dbPath, action, work);
  }
}
