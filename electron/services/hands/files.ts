/**
 * A hand's filesystem as the file editor tool sees it. Each kind of hand provides one (a
 * container's filesystem through the Docker API, a remote machine's over SFTP, …); the editor's
 * semantics (editor.ts) are the same on all of them.
 *
 * Paths are absolute POSIX paths on the hand. Methods reject with a `FileAccessError` carrying a
 * sentence the model can act on (not found, permission denied, …). A method must never change
 * anything but what it was asked to (`write`: that file and its missing parent folders).
 */

export type FileKind = 'file' | 'directory' | 'other';

export interface FileInfo {
  kind: FileKind;
  /** Bytes (files); 0 for others. */
  size: number;
}

export interface FileAccess {
  /** Null when nothing exists at `path`. */
  stat(path: string, signal: AbortSignal): Promise<FileInfo | null>;
  /** The whole file; rejects when it is larger than `maxBytes` (callers stat first). */
  read(path: string, maxBytes: number, signal: AbortSignal): Promise<Buffer>;
  /** Creates or replaces the file (parent folders created as needed; an existing file keeps its mode). */
  write(path: string, data: Buffer, signal: AbortSignal): Promise<void>;
  /**
   * Entries under a directory, at most `depth` levels deep, hidden ones (`.name`) and their
   * contents left out; paths relative to `path`, directories ending with `/`, sorted.
   * At most `limit` entries; `truncated` says when there were more.
   */
  list(path: string, depth: number, limit: number, signal: AbortSignal): Promise<{ entries: string[]; truncated: boolean }>;
  /**
   * Files (not folders) under the folder `root`, folders named `.git` skipped: paths relative to
   * `root` (no `./`), each with its modification time in seconds. At most `limit`. For the toolset's
   * glob and grep (hands that offer the toolset provide it).
   */
  findFiles?(root: string, limit: number, signal: AbortSignal): Promise<{ files: FoundFile[]; truncated: boolean }>;
  /**
   * The lines of `files` (relative to `root`) that match the extended regular expression `pattern`
   * (POSIX ERE), in file order; at most `limit`. Rejects with a FileAccessError naming a bad pattern.
   */
  grep?(
    root: string,
    files: readonly string[],
    pattern: string,
    options: { ignoreCase: boolean; limit: number },
    signal: AbortSignal,
  ): Promise<{ matches: GrepMatch[]; truncated: boolean }>;
}

export interface FoundFile {
  path: string;
  /** Seconds since the epoch. */
  mtime: number;
}

export interface GrepMatch {
  file: string;
  line: number;
  text: string;
}

export class FileAccessError extends Error {
  override readonly name = 'FileAccessError';
}
