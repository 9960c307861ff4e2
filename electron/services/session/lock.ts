/**
 * One Drover process per data folder. A second process is refused with a message naming the
 * holder, so two writers can never interleave appends to the same session log.
 *
 * The lock is an exclusive SQLite transaction on `drover.lock` that is never committed: the OS
 * drops it when the process exits, however it exits (SIGKILL included), so a crash never leaves
 * a stale lock behind — unlike pid files, which need guessing whether the pid was reused.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { AppError } from '#shared/errors';
import { restrictFiles, withPrivateFiles } from '#services/data-dir';
import { guardStorage } from './storage-errors.ts';

const OwnerSchema = z.object({ pid: z.number(), host: z.string(), since: z.string() });

export const LOCK_FILE = 'drover.lock';
const OWNER_FILE = 'drover.lock.owner.json';

export interface NativeBindingOption {
  /** Path of a better-sqlite3 native build other than the default (e.g. one built for Electron). */
  nativeBinding?: string | undefined;
}

export class DataDirLock {
  private constructor(
    private readonly db: Database.Database,
    private readonly ownerFile: string,
  ) {}

  /** Takes the data folder for this process, or throws `storage-locked` naming the holder. */
  static acquire(dataDir: string, options: NativeBindingOption = {}): DataDirLock {
    const lockFile = path.join(dataDir, LOCK_FILE);
    const ownerFile = path.join(dataDir, OWNER_FILE);
    const db = guardStorage(lockFile, 'open the data folder lock', () =>
      withPrivateFiles([lockFile, `${lockFile}-journal`], () =>
        options.nativeBinding === undefined
          ? new Database(lockFile, { timeout: 0 })
          : new Database(lockFile, { timeout: 0, nativeBinding: options.nativeBinding }),
      ),
    );
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      db.close();
      const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
      if (code.startsWith('SQLITE_BUSY')) throw lockedError(dataDir, ownerFile);
      return guardStorage(lockFile, 'lock the data folder', () => {
        throw error;
      });
    }
    const owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    try {
      guardStorage(ownerFile, 'record the lock owner', () => {
        writeFileSync(ownerFile, JSON.stringify(owner), { mode: 0o600 });
        restrictFiles([ownerFile]); // one a crash left behind keeps its old mode otherwise
      });
    } catch (error) {
      db.exec('ROLLBACK');
      db.close();
      throw error;
    }
    return new DataDirLock(db, ownerFile);
  }

  release(): void {
    if (!this.db.open) return;
    rmSync(this.ownerFile, { force: true });
    this.db.exec('ROLLBACK');
    this.db.close();
  }
}

function lockedError(dataDir: string, ownerFile: string): AppError {
  let holder = 'another Drover process';
  try {
    const owner = OwnerSchema.parse(JSON.parse(readFileSync(ownerFile, 'utf8')));
    holder = `another Drover process (pid ${owner.pid} on ${owner.host}, running since ${owner.since})`;
  } catch {
    // The owner note is informational; the lock itself is what refuses.
  }
  return new AppError(
    'storage-locked',
    `The data folder ${dataDir} is in use by ${holder}. ` +
      'Close that Drover first, or set DROVER_DATA_DIR to a different folder to run a second copy.',
  );
}
