/**
 * `FileAccess` over this machine's filesystem (node:fs/promises): what the editor tests use, and
 * what a local hand will use. Node's errors become `FileAccessError`s with plain sentences: a
 * file's own problem (missing, not permitted, too large) must never reach the model as a raw code.
 */
import { mkdir, open, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FileAccessError, type FileAccess, type FileInfo } from './files.ts';

export class LocalFileAccess implements FileAccess {
  async stat(target: string, signal: AbortSignal): Promise<FileInfo | null> {
    signal.throwIfAborted();
    try {
      const info = await stat(target);
      if (info.isFile()) return { kind: 'file', size: info.size };
      return { kind: info.isDirectory() ? 'directory' : 'other', size: 0 };
    } catch (error) {
      // ENOTDIR: a parent is a file, so nothing can exist here either.
      if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ENOTDIR') return null;
      throw accessError(error, target, signal);
    }
  }

  async read(target: string, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
    signal.throwIfAborted();
    try {
      const handle = await open(target, 'r');
      try {
        const info = await handle.stat();
        if (!info.isFile()) throw new FileAccessError(`Not a regular file: ${target}`);
        if (info.size > maxBytes) throw new FileAccessError(`File too large (${info.size} bytes, limit ${maxBytes}): ${target}`);
        const data = await handle.readFile({ signal });
        // The file may have grown since the stat.
        if (data.length > maxBytes) throw new FileAccessError(`File too large (over ${maxBytes} bytes): ${target}`);
        return data;
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw accessError(error, target, signal);
    }
  }

  async write(target: string, data: Buffer, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    try {
      await mkdir(path.dirname(target), { recursive: true });
      // Written in place (truncate + write), so an existing file keeps its mode, owner and links;
      // `mode` only applies to a new file (before the umask).
      await writeFile(target, data, { signal });
    } catch (error) {
      throw accessError(error, target, signal);
    }
  }

  async list(root: string, depth: number, limit: number, signal: AbortSignal): Promise<{ entries: string[]; truncated: boolean }> {
    const entries: string[] = [];
    let truncated = false;
    // Depth first, names sorted at each level, so the listing reads as a tree.
    const walk = async (relative: string, level: number): Promise<void> => {
      signal.throwIfAborted();
      let children;
      try {
        children = await readdir(path.join(root, relative), { withFileTypes: true });
      } catch (error) {
        if (level === 1) throw accessError(error, root, signal);
        return; // an unreadable subfolder is listed, just not opened
      }
      children = children.filter((child) => !child.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const child of children) {
        if (entries.length >= limit) {
          truncated = true;
          return;
        }
        // Symbolic links are listed as they are, not followed (no loops).
        const isDirectory = child.isDirectory();
        const entry = relative + child.name + (isDirectory ? '/' : '');
        entries.push(entry);
        if (isDirectory && level < depth) await walk(entry, level + 1);
        if (truncated) return;
      }
    };
    if (depth > 0) await walk('', 1);
    return { entries, truncated };
  }
}

function codeOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** A `FileAccessError` with a sentence for the model; aborts and our own errors pass through. */
function accessError(error: unknown, target: string, signal: AbortSignal): unknown {
  if (signal.aborted || error instanceof FileAccessError) return error;
  const sentences: Record<string, string> = {
    ENOENT: 'No such file or directory',
    ENOTDIR: 'Not a directory (a parent of the path is a file)',
    EISDIR: 'Is a directory',
    EACCES: 'Permission denied',
    EPERM: 'Operation not permitted',
    EEXIST: 'Already exists',
    ENOSPC: 'No space left on device',
    EDQUOT: 'Disk quota exceeded',
    EROFS: 'Read-only file system',
    ELOOP: 'Too many levels of symbolic links',
    ENAMETOOLONG: 'File name too long',
    EMFILE: 'Too many open files',
    EBUSY: 'Resource busy',
  };
  const code = codeOf(error);
  const sentence = code === undefined ? undefined : sentences[code];
  if (sentence !== undefined) return new FileAccessError(`${sentence}: ${target}`);
  return new FileAccessError(`Could not access ${target}: ${error instanceof Error ? error.message : String(error)}`);
}
