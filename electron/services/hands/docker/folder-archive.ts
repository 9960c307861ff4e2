/**
 * A folder of this computer as a tar stream, for `container.putArchive` (how a repository cloned
 * on the host goes into a container). POSIX ustar with pax headers for long or non-ASCII names;
 * regular files, folders and symbolic links (sockets and the like are left out). Entries belong
 * to the given uid/gid, so files are the container user's own. Headers are written by
 * checkpoints/tar.ts, the one tar writer (checkpoint restores use it too).
 *
 * Streams file contents as it goes: memory stays flat whatever the folder's size. It must never
 * follow a symbolic link (a link goes in as a link, so nothing outside the folder is copied).
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { padding, TAR_END, tarHeader } from '#services/checkpoints/tar';

export interface ArchiveOwner {
  uid: number;
  gid: number;
}

/** The contents of `root` (not `root` itself) as a tar stream, names relative to it. */
export function archiveFolder(root: string, owner: ArchiveOwner): Readable {
  return Readable.from(entries(root, owner), { objectMode: false });
}

async function* entries(root: string, owner: ArchiveOwner): AsyncGenerator<Buffer> {
  yield* walk(root, '', owner);
  yield TAR_END;
}

async function* walk(root: string, relative: string, { uid, gid }: ArchiveOwner): AsyncGenerator<Buffer> {
  const names = (await readdir(path.join(root, relative))).sort();
  for (const name of names) {
    const entry = relative === '' ? name : `${relative}/${name}`;
    const full = path.join(root, entry);
    const info = await lstat(full);
    const fields = { name: entry, mode: info.mode & 0o7777, uid, gid, mtime: Math.floor(info.mtimeMs / 1000) };
    if (info.isDirectory()) {
      yield tarHeader({ ...fields, type: 'dir', size: 0 });
      yield* walk(root, entry, { uid, gid });
    } else if (info.isSymbolicLink()) {
      yield tarHeader({ ...fields, type: 'symlink', size: 0, linkname: await readlink(full) });
    } else if (info.isFile()) {
      yield tarHeader({ ...fields, type: 'file', size: info.size });
      let written = 0;
      for await (const chunk of createReadStream(full)) {
        const buffer = chunk as Buffer;
        // A file that grew while read: the header promised info.size bytes.
        const part = buffer.subarray(0, Math.max(0, info.size - written));
        written += part.length;
        if (part.length > 0) yield part;
        if (written >= info.size) break;
      }
      if (written < info.size) yield Buffer.alloc(info.size - written); // it shrank: pad to the promised size
      if (padding(info.size) > 0) yield Buffer.alloc(padding(info.size));
    }
  }
}
