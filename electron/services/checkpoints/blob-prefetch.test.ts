// Reading a checkpoint's blobs ahead (blob-prefetch.ts) on a real data folder: within its byte
// budget, in the manifest's order, refilled as the restore takes blobs; a damaged or missing blob
// fails when it is taken (never as an unhandled rejection); close reads no more.
import { rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '#test/support/system';
import { BlobPrefetch } from './blob-prefetch.ts';
import { BlobMissingError, BlobStore, sha256 } from './blob-store.ts';
import { storeManifest, type Manifest, type ManifestEntry } from './manifest.ts';

/** A real store that counts the blobs read from disk. */
class CountingStore extends BlobStore {
  readonly reads: string[] = [];
  override async get(hash: string): Promise<Buffer> {
    this.reads.push(hash);
    return super.get(hash);
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function setup(sizes: number[]): Promise<{ blobs: CountingStore; manifest: Manifest; contents: Buffer[] }> {
  const dir = tempDir('drover-prefetch-');
  dirs.push(dir);
  const blobs = new CountingStore(dir);
  const contents = sizes.map((size, index) => Buffer.alloc(size, index + 1));
  const entries: ManifestEntry[] = [];
  for (const [index, content] of contents.entries()) {
    await blobs.put(content);
    entries.push({ path: `/f${index}`, type: 'file', mode: 0o644, uid: 0, gid: 0, size: content.length, hash: sha256(content), mtime: 1 });
  }
  const manifest: Manifest = { version: 1, base: null, entries };
  return { blobs, manifest, contents };
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

describe('reading blobs ahead', () => {
  it('reads in order within its budget, and reads more as blobs are taken', async () => {
    const { blobs, manifest, contents } = await setup([1000, 1000, 1000, 1000, 1000]);
    const prefetch = new BlobPrefetch(blobs, manifest, 2500);
    await settle();
    const hashes = manifest.entries.map((entry) => entry.hash ?? '');
    expect(blobs.reads).toEqual(hashes.slice(0, 2));
    expect((await prefetch.read(hashes[0] ?? '')).equals(contents[0] ?? Buffer.alloc(0))).toBe(true);
    await settle();
    expect(blobs.reads).toEqual(hashes.slice(0, 3));
    // A blob not read ahead comes from the store.
    expect((await prefetch.read(hashes[4] ?? '')).equals(contents[4] ?? Buffer.alloc(0))).toBe(true);
    for (const index of [1, 2, 3]) expect((await prefetch.read(hashes[index] ?? '')).equals(contents[index] ?? Buffer.alloc(0))).toBe(true);
    prefetch.close();
  });

  it('loads a stored manifest by id, and a damaged blob fails when taken', async () => {
    const { blobs, manifest } = await setup([2000, 3000]);
    const { id } = await storeManifest(blobs, manifest);
    const hash = manifest.entries[1]?.hash ?? '';
    writeFileSync(blobs.pathOf(hash), Buffer.concat([Buffer.from([0]), Buffer.alloc(3000, 9)]));
    const prefetch = new BlobPrefetch(blobs, id);
    expect((await prefetch.manifest).entries).toHaveLength(2);
    await settle();
    expect(blobs.reads).toContain(hash);
    await expect(prefetch.read(hash)).rejects.toThrow(/damaged/);
    prefetch.close();
  });

  it('a missing blob fails as missing when taken; after close nothing more is read', async () => {
    const { blobs, manifest } = await setup([1000, 1000, 1000]);
    const gone = manifest.entries[0]?.hash ?? '';
    rmSync(blobs.pathOf(gone));
    const prefetch = new BlobPrefetch(blobs, manifest, 1000);
    await settle();
    await expect(prefetch.read(gone)).rejects.toBeInstanceOf(BlobMissingError);
    const next = manifest.entries[1]?.hash ?? '';
    expect(blobs.reads).toEqual([gone, next]); // its budget is free again: the next one is read
    prefetch.close();
    // What was read ahead is dropped: taken after close, it is read again, and nothing further is read ahead.
    await prefetch.read(next);
    await settle();
    expect(blobs.reads).toEqual([gone, next, next]);
  });
});
