// The blob store on a real data folder: content-addressed and deduplicated, private files and
// folders, compression only where it pays, damage detected on read, reclaiming that keeps what a
// live manifest or a capture in progress needs; the tar writer and reader agree; manifest diffs.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { tempDir } from '#test/support/system';
import { BlobMissingError, BlobStore, sha256 } from './blob-store.ts';
import { blobsOf, clearManifestCache, diffManifests, loadManifest, storeManifest, type Manifest, type ManifestEntry } from './manifest.ts';
import { readTar, TAR_END, tarHeader, padding, type TarHeader } from './tar.ts';

function file(p: string, content: string, extra: Partial<ManifestEntry> = {}): ManifestEntry {
  return {
    path: p,
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: Buffer.byteLength(content),
    hash: sha256(Buffer.from(content)),
    mtime: 1,
    ...extra,
  };
}

describe('the blob store', () => {
  it('stores content once, by its sha256, in private files and folders', async () => {
    const dir = tempDir('drover-blobs-');
    const blobs = new BlobStore(dir);
    const data = Buffer.from('the same content\n'.repeat(100));
    const first = await blobs.put(data);
    const second = await blobs.put(Buffer.from(data));
    expect(first.hash).toBe(sha256(data));
    expect(first.stored).toBeGreaterThan(0);
    expect(second).toEqual({ hash: first.hash, stored: 0 });
    expect((await blobs.get(first.hash)).equals(data)).toBe(true);
    const file = blobs.pathOf(first.hash);
    expect(file).toBe(path.join(dir, 'checkpoints', 'blobs', first.hash.slice(0, 2), first.hash.slice(2)));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, 'checkpoints')).mode & 0o777).toBe(0o700);
    expect(readdirSync(path.dirname(file)).filter((name) => name.startsWith('.tmp-'))).toEqual([]);
    expect(await blobs.stats()).toEqual({ blobs: 1, bytes: statSync(file).size });
  });

  it('compresses text, keeps random bytes raw', async () => {
    const blobs = new BlobStore(tempDir('drover-blobs-'));
    const text = Buffer.from('line of a source file, repeated\n'.repeat(4096));
    const random = randomBytes(256 * 1024);
    const packed = await blobs.put(text);
    const raw = await blobs.put(random);
    expect(packed.stored).toBeLessThan(text.length / 10);
    expect(raw.stored).toBe(random.length + 1);
    expect((await blobs.get(packed.hash)).equals(text)).toBe(true);
    expect((await blobs.get(raw.hash)).equals(random)).toBe(true);
  });

  it('refuses a damaged blob and names a missing one', async () => {
    const blobs = new BlobStore(tempDir('drover-blobs-'));
    const { hash } = await blobs.put(Buffer.from('short'));
    writeFileSync(blobs.pathOf(hash), Buffer.concat([Buffer.from([0]), Buffer.from('shorT')]));
    await expect(blobs.get(hash)).rejects.toThrow(/damaged/);
    await expect(blobs.get('a'.repeat(64))).rejects.toBeInstanceOf(BlobMissingError);
    expect(() => blobs.pathOf('../../etc/passwd')).toThrow(/not a blob id/);
  });

  it('reclaims only what no live manifest reaches and no capture in progress holds', async () => {
    const blobs = new BlobStore(tempDir('drover-blobs-'));
    const shared = Buffer.from('in both');
    const onlyOld = Buffer.from('only in the old one');
    const onlyNew = Buffer.from('only in the new one');
    for (const data of [shared, onlyOld, onlyNew]) await blobs.put(data);
    const old: Manifest = { version: 1, base: null, entries: [file('/a', 'in both'), file('/b', 'only in the old one')] };
    const next: Manifest = { version: 1, base: null, entries: [file('/a', 'in both'), file('/c', 'only in the new one')] };
    const oldId = (await storeManifest(blobs, old)).id;
    const nextId = (await storeManifest(blobs, next)).id;
    const hold = blobs.hold();
    const inProgress = await blobs.put(Buffer.from('written by a capture not finished yet'), hold);
    const before = await blobs.stats();
    const live = new Set(await blobsOf(blobs, nextId));
    const onlyOldBlobs = (await blobsOf(blobs, oldId)).filter((hash) => !live.has(hash));
    expect(onlyOldBlobs).toContain(sha256(onlyOld));
    const freed = await blobs.reclaim([nextId], (id) => blobsOf(blobs, id));
    expect(freed.blobs).toBe(onlyOldBlobs.length); // the old manifest's root and page, and the content only it named
    expect(freed.bytes).toBe(before.bytes - (await blobs.stats()).bytes);
    expect(await blobs.has(sha256(onlyOld))).toBe(false);
    expect(await blobs.has(oldId)).toBe(false);
    for (const hash of [...live, inProgress.hash]) expect(await blobs.has(hash)).toBe(true);
    expect(await loadManifest(blobs, nextId)).toEqual(next);
    hold.release();
    expect((await blobs.reclaim([nextId], (id) => blobsOf(blobs, id))).blobs).toBe(1);
    expect(await blobs.has(inProgress.hash)).toBe(false);
    expect((await blobs.reclaim([], (id) => blobsOf(blobs, id))).blobs).toBe(live.size);
    expect(await blobs.stats()).toEqual({ blobs: 0, bytes: 0 });
    expect(existsSync(blobs.root)).toBe(true);
  });
});

describe('manifest pages', () => {
  it('stores a one-path change to a 20,000-entry manifest as a few small pages, and reads it back whole', async () => {
    const blobs = new BlobStore(tempDir('drover-blobs-'));
    const entries = Array.from({ length: 20_000 }, (_, index) =>
      file(`/work/node_modules/pkg${index % 400}/file${index}.js`, `module ${index}`),
    );
    const first: Manifest = { version: 1, base: 'sha256:image', entries };
    const stored = await storeManifest(blobs, first);
    const edited: Manifest = { ...first, entries: entries.map((entry, index) => (index === 12_345 ? file(entry.path, 'edited') : entry)) };
    const second = await storeManifest(blobs, edited);
    const inserted: Manifest = { ...first, entries: [...edited.entries, file('/work/node_modules/pkg7/new.js', 'new')] };
    const third = await storeManifest(blobs, inserted);
    const same = await storeManifest(blobs, { ...inserted, entries: [...inserted.entries].reverse() });
    console.log(`  manifest of 20,000 entries: ${stored.stored} B; one path edited: ${second.stored} B; one inserted: ${third.stored} B`);
    expect(second.stored).toBeLessThan(stored.stored / 50);
    expect(third.stored).toBeLessThan(stored.stored / 50);
    expect(same).toEqual({ id: third.id, stored: 0 });
    const sorted = (manifest: Manifest): ManifestEntry[] =>
      [...manifest.entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    clearManifestCache(); // read back from the blobs, not from memory
    expect((await loadManifest(blobs, second.id)).entries).toEqual(sorted(edited));
    expect((await loadManifest(blobs, third.id)).entries).toEqual(sorted(inserted));
    expect(await blobsOf(blobs, third.id)).toContain(third.id);
  });
});

describe('tar', () => {
  it('reads back what it writes: long and non-ASCII names, links, folders, empty and multi-block files, two archives in a row', async () => {
    const long = `${'folder/'.repeat(20)}naïve name.txt`;
    const big = randomBytes(3000);
    const parts: Buffer[] = [];
    const add = (entry: Parameters<typeof tarHeader>[0], body?: Buffer): void => {
      parts.push(tarHeader(entry));
      if (body) parts.push(body, Buffer.alloc(padding(body.length)));
    };
    add({ name: 'dir', type: 'dir', mode: 0o750, uid: 1000, gid: 1000, size: 0, mtime: 100 });
    add({ name: long, type: 'file', mode: 0o644, uid: 0, gid: 0, size: big.length, mtime: 200 }, big);
    add({ name: 'empty', type: 'file', mode: 0o600, uid: 0, gid: 0, size: 0, mtime: 300 });
    parts.push(TAR_END);
    add({ name: 'link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: 400, linkname: `/${long}` });
    parts.push(TAR_END);
    const seen: Array<{ header: TarHeader; body: Buffer }> = [];
    await readTar(Readable.from([Buffer.concat(parts)]), (header) => {
      const pieces: Buffer[] = [];
      seen.push({ header, body: Buffer.alloc(0) });
      return {
        push: (piece) => void pieces.push(piece),
        end: () => {
          const last = seen.at(-1);
          if (last) last.body = Buffer.concat(pieces);
        },
      };
    });
    expect(
      seen.map(({ header }) => [header.name, header.type, header.mode, header.uid, header.size, header.mtime, header.linkname]),
    ).toEqual([
      ['dir/', 'dir', 0o750, 1000, 0, 100, ''],
      [long, 'file', 0o644, 0, 3000, 200, ''],
      ['empty', 'file', 0o600, 0, 0, 300, ''],
      ['link', 'symlink', 0o777, 0, 0, 400, `/${long}`],
    ]);
    expect(seen[1]?.body.equals(big)).toBe(true);
  });
});

describe('manifest diffs', () => {
  it('names added, changed, deleted, mode-changed and renamed paths', () => {
    const a: Manifest = {
      version: 1,
      base: null,
      entries: [
        file('/keep', 'same'),
        file('/edit', 'one'),
        file('/gone', 'bye'),
        file('/old-name', 'moved'),
        file('/perm', 'x'),
        { path: '/d', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 },
      ],
    };
    const b: Manifest = {
      version: 1,
      base: null,
      entries: [
        file('/keep', 'same'),
        file('/edit', 'two'),
        file('/new-name', 'moved'),
        file('/perm', 'x', { mode: 0o755 }),
        file('/fresh', 'hi'),
        { path: '/d', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, target: '/keep', mtime: 1 },
      ],
    };
    const diff = diffManifests(a, b);
    expect(diff.added.map((change) => change.path)).toEqual(['/fresh']);
    expect(diff.changed.map((change) => change.path)).toEqual(['/d', '/edit']);
    expect(diff.deleted.map((change) => change.path)).toEqual(['/gone']);
    expect(diff.modeChanged.map((change) => change.path)).toEqual(['/perm']);
    expect(diff.renamed).toEqual([{ from: '/old-name', to: '/new-name', entry: file('/new-name', 'moved') }]);
    expect(diffManifests(b, b)).toEqual({ added: [], changed: [], deleted: [], modeChanged: [], renamed: [] });
  });
});
