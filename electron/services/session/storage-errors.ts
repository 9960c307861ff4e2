/**
 * Turns SQLite and file-system failures into errors a user can act on: what happened to which
 * file, and what to do. Every message also says that what was saved before is intact, which the
 * store guarantees by writing each change in one transaction.
 */
import { AppError } from '#shared/errors';

function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return '';
}

function detailOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Maps a low-level failure while doing `action` on `file` to an AppError, or returns undefined
 * when the failure is not a storage condition (a bug, which must surface as such).
 */
export function storageError(error: unknown, file: string, action: string): AppError | undefined {
  if (error instanceof AppError) return error;
  const code = codeOf(error);
  const detail = detailOf(error);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') {
    return new AppError(
      'storage-full',
      `Could not ${action}: the disk holding ${file} is full. Nothing saved before was lost. ` + 'Free some disk space, then try again.',
      { cause: error },
    );
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new AppError(
      'storage-corrupt',
      `The session database ${file} is damaged (${detail}). Drover has not changed it. ` +
        'Quit Drover and move the file aside (keep it: the sqlite3 ".recover" command may rescue its sessions), ' +
        'then start Drover again to begin a new database, or set DROVER_DATA_DIR to another folder.',
      { cause: error },
    );
  }
  if (
    code.startsWith('SQLITE_READONLY') ||
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_IOERR') ||
    code === 'SQLITE_PERM' ||
    code === 'EACCES' ||
    code === 'EPERM' ||
    code === 'EROFS' ||
    code === 'ENOTDIR' ||
    code === 'EISDIR'
  ) {
    return new AppError(
      'storage-unwritable',
      `Could not ${action}: ${file} cannot be written (${detail}). Nothing saved before was lost. ` +
        'Check that the folder exists, belongs to you and is not on a read-only disk, ' +
        'or set DROVER_DATA_DIR to a folder you can write to.',
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new AppError(
      'storage-locked',
      `Could not ${action}: ${file} is locked by another program. Close other programs using it and try again.`,
      { cause: error },
    );
  }
  return undefined;
}

/** Runs `work`, rethrowing storage failures as user-facing errors about `file`. */
export function guardStorage<T>(file: string, action: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw storageError(error, file, action) ?? error;
  }
}
