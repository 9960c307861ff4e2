/**
 * Group commit for the session store's appends that can wait for durability (the harness's runs):
 * such an append is committed to the WAL at once (synchronous = NORMAL: no fsync on the event
 * loop) and is durable only once the WAL has been fdatasync'ed — off the event loop, on libuv's
 * thread pool. Appends committed while one fdatasync is in flight share the next one, so ten
 * threads appending at once pay for one or two fsyncs instead of ten in a row.
 *
 * Nothing is acknowledged before it is durable: an append's promise resolves, and the store's
 * listeners hear of its events, only after an fsync that started after its commit completed — or
 * after a durable (synchronous = FULL) commit made later on the same connection, whose fsync of the
 * WAL covers every frame written before it. Until then the store's readers do not see it either.
 */
import { fdatasyncSync, closeSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** One append waiting for its fsync. */
export interface PendingAppend {
  /** Called once it is durable (in commit order): make it visible, tell the listeners, resolve. */
  publish(): void;
  /** Called when the fsync failed: it may not be durable. */
  fail(error: unknown): void;
  /** Set once published or failed. */
  settled: boolean;
}

export class GroupCommit {
  /** Committed, not yet covered by an fsync that has started. */
  private waiting: PendingAppend[] = [];
  /** Covered by the fsync in flight. */
  private inFlight: PendingAppend[] = [];
  private syncing = false;
  /** fdatasync calls made (for the benchmarks' figures). */
  syncs = 0;

  constructor(private readonly walPath: string) {}

  /** Takes an append just committed to the WAL; starts an fsync unless one is in flight (the next one covers it). */
  add(append: PendingAppend): void {
    this.waiting.push(append);
    this.start();
  }

  /** A durable commit has just fsynced the WAL: everything committed before it is durable too. */
  durableNow(): void {
    if (this.inFlight.length === 0 && this.waiting.length === 0) return;
    const all = [...this.inFlight, ...this.waiting];
    this.waiting = [];
    for (const append of all) settle(append, null);
  }

  /** Makes every pending append durable now, synchronously (the store is closing). */
  flushSync(): void {
    if (this.inFlight.length === 0 && this.waiting.length === 0) return;
    try {
      const fd = openSync(this.walPath, 'r');
      try {
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      const all = [...this.inFlight, ...this.waiting];
      this.waiting = [];
      for (const append of all) settle(append, error);
      return;
    }
    this.durableNow();
  }

  private start(): void {
    if (this.syncing || this.waiting.length === 0) return;
    this.syncing = true;
    const batch = this.waiting;
    this.waiting = [];
    this.inFlight = batch;
    this.syncs++;
    syncFile(this.walPath).then(
      () => this.finish(batch, null),
      (error: unknown) => this.finish(batch, error),
    );
  }

  private finish(batch: PendingAppend[], error: unknown): void {
    for (const append of batch) settle(append, error);
    this.inFlight = [];
    this.syncing = false;
    this.start();
  }
}

function settle(append: PendingAppend, error: unknown): void {
  if (append.settled) return;
  append.settled = true;
  if (error === null) append.publish();
  else append.fail(error);
}

/** fdatasync of the file through a descriptor of its own (fsync flushes the file itself, whichever descriptor wrote to it). */
async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
