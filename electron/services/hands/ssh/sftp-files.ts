/**
 * A remote machine's filesystem for the file editor, over the hand's SFTP session: no shell
 * commands, so file names need no quoting and any sshd with the sftp subsystem works. It must
 * never run a shell command for a file: a file name never reaches a shell on the machine.
 */
import path from 'node:path';
import type { FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import { FileAccessError, type FileAccess, type FileInfo } from '#services/hands/files';

/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;

export class SftpFiles implements FileAccess {
  constructor(private readonly session: () => Promise<SFTPWrapper>) {}

  async stat(file: string, signal: AbortSignal): Promise<FileInfo | null> {
    const sftp = await this.open(signal);
    const stats = await call<Stats | null>(file, (done) => sftp.stat(file, done), true);
    if (stats === null) return null;
    if (stats.isDirectory()) return { kind: 'directory', size: 0 };
    if (stats.isFile()) return { kind: 'file', size: stats.size };
    return { kind: 'other', size: 0 };
  }

  async read(file: string, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
    const sftp = await this.open(signal);
    const data = await call<Buffer>(file, (done) => sftp.readFile(file, done));
    if (data.length > maxBytes) throw new FileAccessError(`${file} is larger than ${maxBytes} bytes`);
    return data;
  }

  async write(file: string, data: Buffer, signal: AbortSignal): Promise<void> {
    const sftp = await this.open(signal);
    await this.makeFolders(sftp, path.posix.dirname(file));
    signal.throwIfAborted();
    // Opening an existing file with truncation keeps its mode and owner.
    await call<undefined>(file, (done) => sftp.writeFile(file, data, (error) => done(error, undefined)));
  }

  async list(folder: string, depth: number, limit: number, signal: AbortSignal): Promise<{ entries: string[]; truncated: boolean }> {
    const sftp = await this.open(signal);
    const entries: string[] = [];
    const walk = async (relative: string, level: number): Promise<void> => {
      if (entries.length > limit) return;
      signal.throwIfAborted();
      const absolute = relative === '' ? folder : path.posix.join(folder, relative);
      const listing = await call<FileEntryWithStats[]>(absolute, (done) => sftp.readdir(absolute, done));
      for (const item of listing.sort((a, b) => (a.filename < b.filename ? -1 : 1))) {
        if (item.filename.startsWith('.')) continue;
        const child = relative === '' ? item.filename : `${relative}/${item.filename}`;
        const isDirectory = item.attrs.isDirectory();
        entries.push(isDirectory ? `${child}/` : child);
        if (isDirectory && level < depth) await walk(child, level + 1).catch(() => undefined);
      }
    };
    await walk('', 1);
    entries.sort();
    return { entries: entries.slice(0, limit), truncated: entries.length > limit };
  }

  private async open(signal: AbortSignal): Promise<SFTPWrapper> {
    signal.throwIfAborted();
    try {
      return await this.session();
    } catch (error) {
      throw new FileAccessError(error instanceof Error ? error.message : String(error));
    }
  }

  private async makeFolders(sftp: SFTPWrapper, folder: string): Promise<void> {
    const existing = await call<Stats | null>(folder, (done) => sftp.stat(folder, done), true);
    if (existing?.isDirectory()) return;
    if (existing) throw new FileAccessError(`${folder} exists and is not a folder`);
    await this.makeFolders(sftp, path.posix.dirname(folder));
    await call<undefined>(folder, (done) => sftp.mkdir(folder, (error) => done(error, undefined))).catch(async (error: unknown) => {
      // Someone else may have made it meanwhile.
      const now = await call<Stats | null>(folder, (done) => sftp.stat(folder, done), true);
      if (!now?.isDirectory()) throw error;
    });
  }
}

/** Runs one SFTP request; its failure as a FileAccessError (or null for "no such file" when `missingIsNull`). */
function call<T>(
  file: string,
  request: (done: (error: (Error & { code?: unknown }) | null | undefined, value: T) => void) => void,
  missingIsNull = false,
): Promise<T> {
  return new Promise((resolve, reject) => {
    request((error, value) => {
      if (!error) resolve(value);
      else if (error.code === NO_SUCH_FILE && missingIsNull) resolve(null as T);
      else if (error.code === NO_SUCH_FILE) reject(new FileAccessError(`${file}: no such file or directory`));
      else if (error.code === PERMISSION_DENIED) reject(new FileAccessError(`${file}: permission denied`));
      else reject(new FileAccessError(`${file}: ${error.message}`));
    });
  });
}
