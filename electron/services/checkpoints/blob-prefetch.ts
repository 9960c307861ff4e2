/**
 * Reading a checkpoint's blobs ahead, before the container they go into exists: a fork's hand
 * starts reading (and checking the hashes of) the files it restores while the engine creates and
 * starts the container, so the archive that follows has its first blobs in memory instead of
 * reading them while Docker waits. Bounded by bytes (`budget`); a blob the restore asks for that
 * was not read ahead is read then. `close` drops whatever was not taken (a failed start).
 */
import type { BlobStore } from './blob-store.ts';
import { CHUNK_BYTES, loadManifest, type Manifest } from './manifest.ts';

/** Bytes of blobs read ahead at most (they sit in memory until the archive takes them). */
export const PREFETCH_BYTES = 48 * 1024 * 1024;

export interface BlobSource {
  /** The blob's bytes (checked against its hash), from what was read ahead or from the store. */
  read(hash: string): Promise<Buffer>;
}

export class BlobPrefetch implements BlobSource {
  /** Blobs read (or being read) ahead, by hash, with the bytes they count against the budget. */
  private readonly ahead = new Map<string, { read: Promise<Buffer>; bytes: number }>();
  private queue: Array<{ hash: string; bytes: number }> = [];
  private held = 0;
  private closed = false;
  /** The checkpoint's manifest, loaded as the reading begins. */
  readonly manifest: Promise<Manifest>;

  constructor(
    private readonly blobs: BlobStore,
    target: string | Manifest,
    private readonly budget = PREFETCH_BYTES,
  ) {
    this.manifest = typeof target === 'string' ? loadManifest(this.blobs, target) : Promise.resolve(target);
    this.manifest.then(
      (manifest) => {
        const seen = new Set<string>();
        for (const entry of manifest.entries) {
          if (entry.type !== 'file') continue;
          const chunks = entry.chunks ?? [entry.hash ?? ''];
          chunks.forEach((hash, index) => {
            if (seen.has(hash)) return;
            seen.add(hash);
            // A chunk's size: whole chunks, the last one the rest.
            const bytes = index < chunks.length - 1 ? CHUNK_BYTES : entry.size - CHUNK_BYTES * (chunks.length - 1);
            this.queue.push({ hash, bytes: Math.max(0, bytes) });
          });
        }
        this.fill();
      },
      () => undefined, // the restore loads the manifest again and reports the failure
    );
  }

  async read(hash: string): Promise<Buffer> {
    const found = this.ahead.get(hash);
    if (!found) return this.blobs.get(hash);
    this.ahead.delete(hash);
    try {
      return await found.read;
    } finally {
      this.held -= found.bytes;
      this.fill();
    }
  }

  /** Drops what was read ahead and reads no more. */
  close(): void {
    this.closed = true;
    this.queue = [];
    this.ahead.clear();
    this.held = 0;
  }

  private fill(): void {
    while (!this.closed && this.queue.length > 0 && this.held + (this.queue[0]?.bytes ?? 0) <= this.budget) {
      const next = this.queue.shift();
      if (!next) break;
      const read = this.blobs.get(next.hash);
      read.catch(() => undefined); // a missing or damaged blob is reported when the restore takes it
      this.ahead.set(next.hash, { read, bytes: next.bytes });
      this.held += next.bytes;
    }
  }
}
