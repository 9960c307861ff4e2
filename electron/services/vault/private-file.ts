/**
 * Files only their owner may read (mode 0600), replaced atomically: the new content goes to a
 * temporary file beside the target (created 0600, written, fsynced), which is then renamed over
 * it. A crash, a full disk or a failed write leaves the previous file whole, never half of one,
 * and never a stray temporary file.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The temporary files `writePrivateFileAtomic` uses for `file` start with this. */
export function temporaryPrefixOf(file: string): string {
  return `.${path.basename(file)}.`;
}

/** Replaces `file` with `data` atomically; the file ends up with mode 0600. Throws the fs error. */
export function writePrivateFileAtomic(file: string, data: string | Buffer): void {
  const directory = path.dirname(file);
  const temporary = path.join(directory, `${temporaryPrefixOf(file)}${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    // 'wx': never follow or reuse a file someone else put there; 0600 from the first byte.
    fd = openSync(temporary, 'wx', 0o600);
    writeFileSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, file);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  syncDirectory(directory);
}

/**
 * Makes the rename durable. Best effort: the new file is already in place, so a failure here must
 * not report the write as failed. Windows cannot open a folder for fsync (NTFS journals renames).
 */
function syncDirectory(directory: string): void {
  if (process.platform === 'win32') return;
  try {
    const fd = openSync(directory, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on a folder (EINVAL); the rename itself has happened.
  }
}
