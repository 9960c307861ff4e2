/**
 * Tar streams as Docker's archive API speaks them: a reader for what `GET …/archive` returns
 * (ustar, pax extended headers, GNU long names; one entry's body streamed to its sink piece by
 * piece, so a 50 MB file never sits in memory whole) and a writer for what `PUT …/archive` takes
 * (ustar with pax headers for long or non-ASCII names, ids and big sizes) — the one tar writer:
 * checkpoint restores and hands/docker/folder-archive.ts (a host folder into a container) use it.
 */

export const BLOCK = 512;

export type TarType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface TarHeader {
  name: string;
  type: TarType;
  /** Permission bits (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname: string;
}

/** Receives an entry's body, piece by piece (awaited: back-pressure), then its end. */
export interface TarSink {
  push(piece: Buffer): Promise<void> | void;
  end?(): Promise<void> | void;
}

/** Pulls exact byte counts out of a stream of chunks. */
class ByteQueue {
  private chunks: Buffer[] = [];
  private length = 0;
  private ended = false;
  constructor(private readonly source: AsyncIterator<Buffer | string | Uint8Array>) {}

  /** Waits until at least `n` bytes are buffered or the stream ended; how many are. */
  async fill(n: number): Promise<number> {
    while (this.length < n && !this.ended) {
      const next = await this.source.next();
      if (next.done) this.ended = true;
      else {
        const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
        this.chunks.push(chunk);
        this.length += chunk.length;
      }
    }
    return this.length;
  }

  /** Up to `n` buffered bytes (call fill first). */
  take(n: number): Buffer {
    const want = Math.min(n, this.length);
    const parts: Buffer[] = [];
    let got = 0;
    while (got < want) {
      const head = this.chunks[0];
      if (!head) break;
      const part = head.length <= want - got ? head : head.subarray(0, want - got);
      parts.push(part);
      got += part.length;
      if (part.length === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(part.length);
    }
    this.length -= got;
    return parts.length === 1 ? (parts[0] ?? Buffer.alloc(0)) : Buffer.concat(parts);
  }

  async exact(n: number, what: string): Promise<Buffer> {
    if ((await this.fill(n)) < n) throw new Error(`The archive from Docker ended early (in ${what}).`);
    return this.take(n);
  }
}

/**
 * Reads a tar stream; `onEntry` gets each entry's header and returns a sink for its body (or null
 * to skip it). Stops at the stream's end ('end') or at a block of 0xFF bytes where a header would
 * be ('sentinel': the end of a reply on a stream that stays open, see capture-shell.ts).
 */
export async function readTar(
  stream: AsyncIterable<Buffer | string | Uint8Array>,
  onEntry: (header: TarHeader) => Promise<TarSink | null> | TarSink | null,
): Promise<'end' | 'sentinel'> {
  const queue = new ByteQueue(stream[Symbol.asyncIterator]());
  let pax: Record<string, string> = {};
  let longName: string | null = null;
  let longLink: string | null = null;
  for (;;) {
    if ((await queue.fill(BLOCK)) < BLOCK) return 'end';
    const block = queue.take(BLOCK);
    if (block.every((byte) => byte === 0xff)) return 'sentinel';
    // End blocks: skipped, not the end, so archives one after the other read as one (xargs may run tar twice).
    if (block.every((byte) => byte === 0)) continue;
    const flag = String.fromCharCode(block[156] ?? 0);
    const size = pax['size'] !== undefined ? Number(pax['size']) : numeric(block, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      const body = (await queue.exact(padded, 'an extended header')).subarray(0, size);
      if (flag === 'x') pax = { ...pax, ...parsePax(body) };
      else if (flag === 'L') longName = cString(body);
      else if (flag === 'K') longLink = cString(body);
      continue; // a global header ('g') changes nothing Docker sends
    }
    const prefix = cString(block.subarray(345, 500));
    const shortName = cString(block.subarray(0, 100));
    const ustar = block.subarray(257, 262).toString('latin1') === 'ustar';
    const header: TarHeader = {
      name: pax['path'] ?? longName ?? (ustar && prefix !== '' ? `${prefix}/${shortName}` : shortName),
      type: typeOf(flag),
      mode: numeric(block, 100, 8) & 0o7777,
      uid: pax['uid'] !== undefined ? Number(pax['uid']) : numeric(block, 108, 8),
      gid: pax['gid'] !== undefined ? Number(pax['gid']) : numeric(block, 116, 8),
      size,
      mtime: pax['mtime'] !== undefined ? Math.floor(Number(pax['mtime'])) : numeric(block, 136, 12),
      linkname: pax['linkpath'] ?? longLink ?? cString(block.subarray(157, 257)),
    };
    pax = {};
    longName = null;
    longLink = null;
    const sink = await onEntry(header);
    let remaining = size;
    while (remaining > 0) {
      const available = await queue.fill(1);
      if (available === 0) throw new Error(`The archive from Docker ended early (in ${header.name}).`);
      const piece = queue.take(Math.min(remaining, available));
      remaining -= piece.length;
      if (sink) await sink.push(piece);
    }
    if (sink?.end) await sink.end();
    await queue.exact(padded - size, 'padding');
  }
}

function typeOf(flag: string): TarType {
  if (flag === '0' || flag === '\0' || flag === '7') return 'file';
  if (flag === '5') return 'dir';
  if (flag === '2') return 'symlink';
  if (flag === '1') return 'hardlink';
  return 'other';
}

function cString(buffer: Buffer): string {
  const end = buffer.indexOf(0);
  return buffer.subarray(0, end === -1 ? buffer.length : end).toString('utf8');
}

/** An octal field, or GNU base-256 when its first byte has the high bit set. */
function numeric(block: Buffer, offset: number, width: number): number {
  const field = block.subarray(offset, offset + width);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let value = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const text = cString(field).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function parsePax(body: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number.parseInt(body.subarray(at, space).toString('ascii'), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = body.subarray(space + 1, at + length - 1).toString('utf8'); // without the trailing \n
    const equals = record.indexOf('=');
    if (equals !== -1) records[record.slice(0, equals)] = record.slice(equals + 1);
    at += length;
  }
  return records;
}

// ---------------------------------------------------------------------------------------- writing

export interface TarWriteEntry {
  /** Relative to the folder the archive is put into (no leading slash). */
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
}

/** The header block(s) of an entry: a pax header first when a field does not fit ustar. */
export function tarHeader(entry: TarWriteEntry): Buffer {
  const name = entry.type === 'dir' ? `${entry.name.replace(/\/$/, '')}/` : entry.name;
  const pax: Array<[string, string]> = [];
  if (!fitsUstar(name, 100)) pax.push(['path', name]);
  if (entry.linkname !== undefined && !fitsUstar(entry.linkname, 100)) pax.push(['linkpath', entry.linkname]);
  if (entry.size > 0o77777777777) pax.push(['size', String(entry.size)]);
  if (entry.uid > 0o7777777) pax.push(['uid', String(entry.uid)]);
  if (entry.gid > 0o7777777) pax.push(['gid', String(entry.gid)]);
  const main = block({ ...entry, name, flag: entry.type === 'dir' ? '5' : entry.type === 'symlink' ? '2' : '0' });
  if (pax.length === 0) return main;
  const body = Buffer.concat(pax.map(([key, value]) => paxRecord(key, value)));
  const paxHeader = block({ name: 'PaxHeader', flag: 'x', mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: entry.mtime });
  return Buffer.concat([paxHeader, body, Buffer.alloc(padding(body.length)), main]);
}

/** Zero bytes that pad a body of `size` to whole blocks. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The two zero blocks that end an archive. */
export const TAR_END = Buffer.alloc(BLOCK * 2);

function fitsUstar(value: string, bytes: number): boolean {
  return Buffer.byteLength(value) <= bytes && /^[\x20-\x7e]*$/.test(value);
}

function paxRecord(key: string, value: string): Buffer {
  const rest = ` ${key}=${value}\n`;
  const restLength = Buffer.byteLength(rest);
  let digits = 1;
  while (String(restLength + digits).length !== digits) digits += 1;
  return Buffer.from(`${restLength + digits}${rest}`);
}

function block(fields: Omit<TarWriteEntry, 'type'> & { flag: string }): Buffer {
  const buffer = Buffer.alloc(BLOCK);
  const ascii = (value: string): string => value.replace(/[^\x20-\x7e]/g, '_');
  buffer.write(ascii(fields.name).slice(0, 100), 0, 100, 'utf8');
  octal(buffer, fields.mode & 0o7777, 100, 8);
  octal(buffer, Math.min(fields.uid, 0o7777777), 108, 8);
  octal(buffer, Math.min(fields.gid, 0o7777777), 116, 8);
  octal(buffer, Math.min(fields.size, 0o77777777777), 124, 12);
  octal(buffer, Math.max(0, fields.mtime), 136, 12);
  buffer.write('        ', 148, 8, 'ascii');
  buffer.write(fields.flag, 156, 1, 'ascii');
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
