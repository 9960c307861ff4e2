/**
 * A folder of this computer as a tar stream, for `container.putArchive` (how a repository cloned
 * on the host goes into a container). POSIX ustar with pax headers for long or non-ASCII names;
 * regular files, folders and symbolic links (sockets and the like are left out). Entries belong
 * to the given uid/gid, so files are the container user's own.
 *
 * Streams file contents as it goes: memory stays flat whatever the folder's size. It must never
 * follow a symbolic link (a link goes in as a link, so nothing outside the folder is copied).
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';

export interface ArchiveOwner {
  uid: number;
  gid: number;
}

const BLOCK = 512;

/** The contents of `root` (not `root` itself) as a tar stream, names relative to it. */
export function archiveFolder(root: string, owner: ArchiveOwner): Readable {
  return Readable.from(entries(root, owner), { objectMode: false });
}

async function* entries(root: string, owner: ArchiveOwner): AsyncGenerator<Buffer> {
  yield* walk(root, '', owner);
  yield Buffer.alloc(BLOCK * 2); // end of archive
}

async function* walk(root: string, relative: string, owner: ArchiveOwner): AsyncGenerator<Buffer> {
  const names = (await readdir(path.join(root, relative))).sort();
  for (const name of names) {
    const entry = relative === '' ? name : `${relative}/${name}`;
    const full = path.join(root, entry);
    const info = await lstat(full);
    const mode = info.mode & 0o7777;
    const mtime = Math.floor(info.mtimeMs / 1000);
    if (info.isDirectory()) {
      yield* header({ name: `${entry}/`, type: '5', size: 0, mode, mtime, owner });
      yield* walk(root, entry, owner);
    } else if (info.isSymbolicLink()) {
      yield* header({ name: entry, type: '2', size: 0, mode, mtime, owner, linkname: await readlink(full) });
    } else if (info.isFile()) {
      yield* header({ name: entry, type: '0', size: info.size, mode, mtime, owner });
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
      const rest = info.size % BLOCK;
      if (rest !== 0) yield Buffer.alloc(BLOCK - rest);
    }
  }
}

interface HeaderFields {
  name: string;
  type: '0' | '2' | '5';
  size: number;
  mode: number;
  mtime: number;
  owner: ArchiveOwner;
  linkname?: string;
}

/** A header block, preceded by a pax header when a name does not fit ustar's fields. */
function* header(fields: HeaderFields): Generator<Buffer> {
  const pax: Array<[string, string]> = [];
  if (!fitsUstar(fields.name, 100)) pax.push(['path', fields.name]);
  if (fields.linkname !== undefined && !fitsUstar(fields.linkname, 100)) pax.push(['linkpath', fields.linkname]);
  if (fields.size > 0o77777777777) pax.push(['size', String(fields.size)]);
  if (pax.length > 0) {
    const body = Buffer.concat(pax.map(([key, value]) => paxRecord(key, value)));
    yield block({ ...fields, name: 'PaxHeader', type: 'x', size: body.length, linkname: '' });
    yield body;
    if (body.length % BLOCK !== 0) yield Buffer.alloc(BLOCK - (body.length % BLOCK));
  }
  yield block(fields);
}

function fitsUstar(value: string, bytes: number): boolean {
  return Buffer.byteLength(value) <= bytes && /^[\x20-\x7e]*$/.test(value);
}

/** "<length> <key>=<value>\n", where length counts the whole record, its own digits included. */
function paxRecord(key: string, value: string): Buffer {
  const rest = ` ${key}=${value}\n`;
  const restLength = Buffer.byteLength(rest);
  let digits = 1;
  while (String(restLength + digits).length !== digits) digits += 1;
  return Buffer.from(`${restLength + digits}${rest}`);
}

function block(fields: Omit<HeaderFields, 'type'> & { type: string }): Buffer {
  const buffer = Buffer.alloc(BLOCK);
  const ascii = (value: string): string => value.replace(/[^\x20-\x7e]/g, '_');
  buffer.write(ascii(fields.name).slice(0, 100), 0, 100, 'utf8');
  octal(buffer, fields.mode, 100, 8);
  octal(buffer, fields.owner.uid, 108, 8);
  octal(buffer, fields.owner.gid, 116, 8);
  octal(buffer, Math.min(fields.size, 0o77777777777), 124, 12);
  octal(buffer, Math.max(0, fields.mtime), 136, 12);
  buffer.write('        ', 148, 8, 'ascii'); // the checksum counts its own field as spaces
  buffer.write(fields.type, 156, 1, 'ascii');
  buffer.write(ascii(fields.linkname ?? '').slice(0, 100), 157, 100, 'utf8');
  buffer.write('ustar\u000000', 257, 8, 'ascii');
  let sum = 0;
  for (const byte of buffer) sum += byte;
  buffer.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return buffer;
}

function octal(buffer: Buffer, value: number, offset: number, width: number): void {
  buffer.write(
    `${Math.floor(value)
      .toString(8)
      .padStart(width - 1, '0')}\u0000`,
    offset,
    width,
    'ascii',
  );
}
