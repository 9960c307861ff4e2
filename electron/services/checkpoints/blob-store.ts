/**
 * Content-addressed blobs in the data folder: every file content (or 1 MiB chunk of a large file)
 * and every manifest a checkpoint stores, named by the sha256 of its bytes, so the same content is
 * stored once across turns, branches, sessions and hands.
 *
 * Layout: `<dataDir>/checkpoints/blobs/ab/cdef…` (the hash's first two hex digits as a folder),
 * folders 0700 and files 0600 (private to the user, like the session database). A blob file is one
 * format byte and the body: 0 = the bytes as they are, 1 = gzip (node:zlib; used only when it saves
 * at least a tenth — random or already-compressed data is stored raw). Written atomically (a
 * temporary file in the same folder, fsync, rename), so a crash leaves either the whole blob or
 * none; a blob is never rewritten once there. Reads check the hash (a damaged blob is an error, not
 * wrong files).
 *
 * Reclaiming is mark-and-sweep: every blob no live manifest reaches goes, except the blobs of
 * captures still in progress in this process (see `hold`: the ones they write, find there already,
 * or keep from their previous manifest), so reclaiming while a capture runs cannot take the blobs
 * its manifest is about to name; a put of a blob a reclaim is removing at that moment waits for the
 * removal and writes it again (it is never "found" and then gone).
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

const RAW = 0;
const GZIP = 1;
/** Compression is tried on a sample first: data that does not shrink by a tenth is stored raw. */
const SAMPLE_BYTES = 64 * 1024;
const HASH = /^[0-9a-f]{64}$/;

export class BlobMissingError extends Error {
  override readonly name = 'BlobMissingError';
  constructor(
    readonly hash: string,
    path?: string,
  ) {
    super(
      `The checkpoint data ${hash.slice(0, 12)}…${path ? ` (of ${path})` : ''} is missing from the data folder (reclaimed or deleted), so these files cannot be restored. Pick a later checkpoint, or start from the image.`,
    );
  }
}

export interface PutResult {
  hash: string;
  /** Bytes this put added on disk: 0 when the blob was already there. */
  stored: number;
}

export interface BlobStats {
  blobs: number;
  /** Bytes of the blob files on disk (after compression). */
  bytes: number;
}

/**
 * A set of blobs kept live while a capture that wrote or reused them has not yet named them in a
 * stored manifest: every blob it puts (written, or found there already) and every blob of the
 * previous manifest's entries it keeps without reading them again (docker-capture.ts).
 */
export interface BlobHold {
  add(hash: string): void;
  release(): void;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export class BlobStore {
  readonly root: string;
  private readonly holds = new Set<Set<string>>();
  /** Reclaims running, and the blobs of holds released meanwhile (kept by them: their manifests may not be recorded yet). */
  private sweeps = 0;
  private readonly released = new Set<string>();
  /** Blobs a reclaim decided to remove and is removing: a put of one waits for it, then writes it anew. */
  private readonly removing = new Map<string, Promise<void>>();

  /** `dataDir`: Drover's data folder; blobs go to `checkpoints/blobs` in it. */
  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'checkpoints', 'blobs');
  }

  pathOf(hash: string): string {
    if (!HASH.test(hash)) throw new Error(`"${hash}" is not a blob id (64 lowercase hex digits).`);
    return path.join(this.root, hash.slice(0, 2), hash.slice(2));
  }

  async has(hash: string): Promise<boolean> {
    try {
      await stat(this.pathOf(hash));
      return true;
    } catch {
      return false;
    }
  }

  /** Stores `data` unless a blob of the same content is there; its hash and the bytes added. `hash`: sha256(data), when known. */
  async put(data: Buffer, hold?: BlobHold, hash: string = sha256(data)): Promise<PutResult> {
    hold?.add(hash);
    const file = this.pathOf(hash);
    // Held from here on, so no reclaim decides to remove it now. One that decided before may be
    // removing it this moment: found there or not, it is waited for and written again (never found, then gone).
    const removing = this.removing.get(hash);
    const present = await this.has(hash);
    if (removing) await removing.catch(() => undefined);
    else if (present) return { hash, stored: 0 };
    const body = await encode(data);
    const folder = path.dirname(file);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const temp = path.join(folder, `.tmp-${randomBytes(6).toString('hex')}`);
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { hash, stored: body.length };
  }

  /** The blob's bytes; BlobMissingError when it is not there, an error when it is damaged. */
  async get(hash: string): Promise<Buffer> {
    let body: Buffer;
    try {
      body = await readFile(this.pathOf(hash));
    } catch (error) {
      if (isMissing(error)) throw new BlobMissingError(hash);
      throw error;
    }
    const data = await decode(body, hash);
    if (sha256(data) !== hash) {
      throw new Error(`The checkpoint data ${hash.slice(0, 12)}… in the data folder is damaged (its content does not match its hash).`);
    }
    return data;
  }

  /** Marks blobs a capture writes as live until `release` (after its manifest is stored and named). */
  hold(): BlobHold {
    const hashes = new Set<string>();
    this.holds.add(hashes);
    return {
      add: (hash) => void hashes.add(hash),
      release: () => {
        if (this.sweeps > 0) for (const hash of hashes) this.released.add(hash);
        this.holds.delete(hashes);
      },
    };
  }

  /**
   * Removes every blob that no manifest of `live` (manifest ids) reaches and no capture in
   * progress holds; the bytes freed. `reachable(manifestId)` lists what a manifest reaches (its own
   * blob included), see manifest.ts `blobsOf`.
   */
  async reclaim(
    live: Iterable<string>,
    reachable: (manifestId: string) => Promise<Iterable<string>>,
  ): Promise<{ bytes: number; blobs: number }> {
    this.sweeps += 1;
    try {
      const keep = new Set<string>();
      for (const id of live) for (const hash of await reachable(id)) keep.add(hash);
      for (const held of this.holds) for (const hash of held) keep.add(hash);
      let bytes = 0;
      let blobs = 0;
      for (const { hash, file, size } of await this.list()) {
        if (keep.has(hash)) continue;
        // Held since the listing began (a capture that started meanwhile, finished or not)?
        if (this.released.has(hash) || [...this.holds].some((held) => held.has(hash))) continue;
        const removal = this.removeBlob(file);
        this.removing.set(hash, removal);
        try {
          await removal;
        } finally {
          this.removing.delete(hash);
        }
        bytes += size;
        blobs += 1;
      }
      return { bytes, blobs };
    } finally {
      this.sweeps -= 1;
      if (this.sweeps === 0) this.released.clear();
    }
  }

  /** Removes one blob file (a method of its own, so a test can hold a removal in flight). */
  protected async removeBlob(file: string): Promise<void> {
    await rm(file, { force: true });
  }

  async stats(): Promise<BlobStats> {
    const all = await this.list();
    return { blobs: all.length, bytes: all.reduce((sum, blob) => sum + blob.size, 0) };
  }

  /** Every blob file, with leftover temporary files of crashed writes removed on the way. */
  private async list(): Promise<Array<{ hash: string; file: string; size: number }>> {
    const found: Array<{ hash: string; file: string; size: number }> = [];
    let folders: string[];
    try {
      folders = await readdir(this.root);
    } catch (error) {
      if (isMissing(error)) return found;
      throw error;
    }
    for (const folder of folders) {
      if (!/^[0-9a-f]{2}$/.test(folder)) continue;
      const dir = path.join(this.root, folder);
      for (const name of await readdir(dir)) {
        const file = path.join(dir, name);
        if (name.startsWith('.tmp-')) {
          const info = await stat(file).catch(() => null);
          // Older than a minute: its writer is gone (a live write renames within milliseconds).
          if (info && Date.now() - info.mtimeMs > 60_000) await rm(file, { force: true });
          continue;
        }
        const hash = folder + name;
        if (!HASH.test(hash)) continue;
        const info = await stat(file).catch(() => null);
        if (info) found.push({ hash, file, size: info.size });
      }
    }
    return found;
  }

  /** Makes the store's folders private (0700), for a data folder made by an older Drover. */
  async restrict(): Promise<void> {
    if (process.platform === 'win32') return;
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await chmod(path.dirname(this.root), 0o700);
    await chmod(this.root, 0o700);
  }
}

async function encode(data: Buffer): Promise<Buffer> {
  if (data.length >= 64) {
    const sample = data.length > SAMPLE_BYTES ? await gzipAsync(data.subarray(0, SAMPLE_BYTES)) : null;
    if (sample === null || sample.length < SAMPLE_BYTES * 0.9) {
      const packed = await gzipAsync(data);
      if (packed.length < data.length * 0.9) return Buffer.concat([Buffer.from([GZIP]), packed]);
    }
  }
  return Buffer.concat([Buffer.from([RAW]), data]);
}

async function decode(body: Buffer, hash: string): Promise<Buffer> {
  const format = body[0];
  if (format === RAW) return body.subarray(1);
  if (format === GZIP) return gunzipAsync(body.subarray(1));
  throw new Error(`The checkpoint data ${hash.slice(0, 12)}… in the data folder has an unknown format (${String(format)}).`);
}

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT';
}

/**
 * Puts with several writes in flight (each is a write, an fsync and a rename: one at a time, a
 * capture of 10,000 small files waits on 10,000 fsyncs in a row). `add` answers the hash at once;
 * `drain` waits for every write and reports the bytes added, or the first failure.
 */
export class BlobQueue {
  private readonly inFlight = new Set<Promise<void>>();
  private stored = 0;
  private failure: unknown = null;

  constructor(
    private readonly blobs: BlobStore,
    private readonly hold: BlobHold,
    private readonly width = 16,
  ) {}

  async add(data: Buffer): Promise<string> {
    const hash = sha256(data);
    this.hold.add(hash);
    while (this.inFlight.size >= this.width) await Promise.race(this.inFlight);
    if (this.failure !== null) throw this.failure;
    const write: Promise<void> = this.blobs
      .put(data, this.hold, hash)
      .then((result) => void (this.stored += result.stored))
      .catch((error: unknown) => void (this.failure ??= error))
      .finally(() => this.inFlight.delete(write));
    this.inFlight.add(write);
    return hash;
  }

  /** Waits for every write; the bytes they added. */
  async drain(): Promise<number> {
    await Promise.all(this.inFlight);
    if (this.failure !== null) throw this.failure;
    return this.stored;
  }
}
