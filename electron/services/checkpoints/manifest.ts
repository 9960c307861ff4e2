/**
 * A manifest: a file tree as entries (path, type, mode, owner, size, content hash or link target,
 * mtime), stored content-addressed like the files (a manifest is a blob; its id is its hash), so
 * two identical trees are one manifest.
 *
 * A Docker hand's manifest is relative to an image (`base`, the image id): it holds every path of
 * the container that differs from the image — added or changed files, folders and links as they
 * are now, and `deleted` entries for the image's paths that are gone — the same set `docker diff`
 * names, but exact and deduplicated. The tree is the image with the manifest laid over it. A
 * manifest with `base: null` is a whole tree (a full walk, see full-walk.ts).
 *
 * A checkpoint is a manifest id, the manifest id before it (its parent) and the container clock
 * when taken; the log records them.
 */
import { type BlobHold, type BlobStore } from './blob-store.ts';

/** Files above this size are stored as chunks of this size: a one-byte change costs one chunk, not the file. */
export const CHUNK_BYTES = 1024 * 1024;

export type EntryType = 'file' | 'dir' | 'symlink' | 'deleted';

export interface ManifestEntry {
  /** Absolute, without a trailing slash (`/work/src/a.ts`). */
  path: string;
  type: EntryType;
  /** Permission bits (0o7777); 0 for `deleted`. */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of a file; 0 otherwise. */
  size: number;
  /** A file's sha256 (of the whole content). */
  hash?: string;
  /** A file over CHUNK_BYTES: the hashes of its chunks, in order (each a blob). Otherwise its blob is `hash`. */
  chunks?: string[];
  /** A symbolic link's target. */
  target?: string;
  /** Seconds; files and links (a folder's mtime moves whenever its entries do, so it is not kept). */
  mtime?: number;
  /** Not in the base image (docker diff: added): where a manifest does not name it, the path does not exist. */
  added?: true;
}

export interface Manifest {
  version: 1;
  /** The image id the entries are laid over, or null for a whole tree. */
  base: string | null;
  /** Sorted by path. */
  entries: ManifestEntry[];
}

/** What a checkpoint is, for the log. */
export interface Checkpoint {
  manifest: string;
  /** The manifest of the checkpoint before (null: the first, or after a start from the image). */
  parent: string | null;
  /**
   * The container's clock (seconds) when captured: the next capture reads every path changed at
   * or after it (so a write within that second is not missed). Not part of the manifest, so an
   * unchanged tree is the same manifest.
   */
  captured_at: number;
}

export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The manifest's canonical bytes: entries sorted, keys in one order (same tree → same id). */
export function serializeManifest(manifest: Manifest): Buffer {
  const entries = [...manifest.entries].sort((a, b) => comparePaths(a.path, b.path)).map(canonicalEntry);
  return Buffer.from(JSON.stringify({ version: 1, base: manifest.base, entries }));
}

function canonicalEntry(entry: ManifestEntry): ManifestEntry {
  return {
    path: entry.path,
    type: entry.type,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    size: entry.size,
    ...(entry.hash === undefined ? {} : { hash: entry.hash }),
    ...(entry.chunks === undefined ? {} : { chunks: entry.chunks }),
    ...(entry.target === undefined ? {} : { target: entry.target }),
    ...(entry.mtime === undefined ? {} : { mtime: entry.mtime }),
    ...(entry.added ? { added: true as const } : {}),
  };
}

/** Manifests are immutable: loaded ones are kept (bounded) so consecutive captures do not re-read them. */
const cache = new Map<string, Manifest>();
const CACHE_SIZE = 64;

export async function storeManifest(blobs: BlobStore, manifest: Manifest, hold?: BlobHold): Promise<{ id: string; stored: number }> {
  const { hash, stored } = await blobs.put(serializeManifest(manifest), hold);
  remember(hash, manifest);
  return { id: hash, stored };
}

export async function loadManifest(blobs: BlobStore, id: string): Promise<Manifest> {
  const known = cache.get(id);
  if (known) return known;
  const parsed: unknown = JSON.parse((await blobs.get(id)).toString('utf8'));
  if (!isManifest(parsed)) throw new Error(`The checkpoint ${id.slice(0, 12)}… is not a manifest Drover can read.`);
  remember(id, parsed);
  return parsed;
}

function remember(id: string, manifest: Manifest): void {
  cache.delete(id);
  cache.set(id, manifest);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value ?? '');
}

function isManifest(value: unknown): value is Manifest {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return record['version'] === 1 && Array.isArray(record['entries']) && (record['base'] === null || typeof record['base'] === 'string');
}

/** The blobs a manifest reaches: its own and its files' (for reclaiming). */
export async function blobsOf(blobs: BlobStore, id: string): Promise<string[]> {
  const manifest = await loadManifest(blobs, id);
  const reached = [id];
  for (const entry of manifest.entries) {
    if (entry.type !== 'file') continue;
    if (entry.chunks) reached.push(...entry.chunks);
    else if (entry.hash) reached.push(entry.hash);
  }
  return reached;
}

export function entryMap(manifest: Manifest): Map<string, ManifestEntry> {
  return new Map(manifest.entries.map((entry) => [entry.path, entry]));
}

/** Same content (type, bytes, link target), whatever the mode, owner or time. */
export function sameContent(a: ManifestEntry, b: ManifestEntry): boolean {
  return a.type === b.type && a.hash === b.hash && a.target === b.target;
}

/** Same mode and owner. */
export function sameMode(a: ManifestEntry, b: ManifestEntry): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
}

// ------------------------------------------------------------------------------------------ diffs

/**
 * One path's change. `before`/`after` null: as in the base image (for manifests relative to one),
 * which the manifests do not describe (the diff view reads it from the image).
 */
export interface PathChange {
  path: string;
  before: ManifestEntry | null;
  after: ManifestEntry | null;
}

export interface ManifestDiff {
  added: PathChange[];
  changed: PathChange[];
  deleted: PathChange[];
  /** Same content, another mode or owner. */
  modeChanged: PathChange[];
  /** A file deleted at one path and added at another with the same content (taken out of added/deleted). */
  renamed: Array<{ from: string; to: string; entry: ManifestEntry }>;
}

/**
 * The paths a diff of `a` and `b` needs the image's version of: one side names the path, the other
 * leaves it as in the image (and the named entry does not say the image lacks it). Read them with
 * docker-restore.ts `imageEntries` and pass them to diffManifests for an exact diff.
 */
export function imagePathsFor(a: Manifest, b: Manifest): string[] {
  if (a.base === null) return [];
  const before = entryMap(a);
  const after = entryMap(b);
  const paths: string[] = [];
  for (const [path, entry] of before) if (!after.has(path) && !entry.added) paths.push(path);
  for (const [path, entry] of after) if (!before.has(path) && !entry.added) paths.push(path);
  return paths.sort(comparePaths);
}

/**
 * What changed from `a` to `b` (two manifests of one tree: the same base). A path only one of them
 * names is as in the image in the other: absent when the entry says the image lacks it (`added`);
 * else the image's entry from `image` (null there: the image lacks it too), or — not given —
 * reported as changed with `before`/`after` null (the image's version, unknown here).
 */
export function diffManifests(a: Manifest, b: Manifest, image?: ReadonlyMap<string, ManifestEntry | null>): ManifestDiff {
  if (a.base !== b.base) throw new Error('These checkpoints are of different images, so their files cannot be compared path by path.');
  const before = entryMap(a);
  const after = entryMap(b);
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort(comparePaths);
  const diff: ManifestDiff = { added: [], changed: [], deleted: [], modeChanged: [], renamed: [] };
  const whole = a.base === null;
  for (const path of paths) {
    const fromImage = !before.has(path) && !whole && image?.has(path);
    const toImage = !after.has(path) && !whole && image?.has(path);
    const from = fromImage ? (image?.get(path) ?? null) : (before.get(path) ?? null);
    const to = toImage ? (image?.get(path) ?? null) : (after.get(path) ?? null);
    // Absent: not in a whole tree, a deleted entry, not in the image, or the other side says the image lacks it.
    const fromAbsent = from === null ? whole || fromImage === true || to?.added === true : from.type === 'deleted';
    const toAbsent = to === null ? whole || toImage === true || from?.added === true : to.type === 'deleted';
    const change: PathChange = { path, before: from?.type === 'deleted' ? null : from, after: to?.type === 'deleted' ? null : to };
    if (fromAbsent && toAbsent) continue;
    if (fromAbsent) diff.added.push(change);
    else if (toAbsent) diff.deleted.push(change);
    else if (from === null || to === null) diff.changed.push(change);
    else if (!sameContent(from, to)) diff.changed.push(change);
    else if (!sameMode(from, to)) diff.modeChanged.push(change);
  }
  // Renames: a deleted file whose content one added file has (each used once).
  const addedByHash = new Map<string, PathChange[]>();
  for (const change of diff.added) {
    const hash = change.after?.type === 'file' ? change.after.hash : undefined;
    if (hash) addedByHash.set(hash, [...(addedByHash.get(hash) ?? []), change]);
  }
  const renamedFrom = new Set<string>();
  const renamedTo = new Set<string>();
  for (const change of diff.deleted) {
    const hash = change.before?.type === 'file' ? change.before.hash : undefined;
    const candidates = hash ? addedByHash.get(hash) : undefined;
    const match = candidates?.shift();
    if (!match?.after) continue;
    diff.renamed.push({ from: change.path, to: match.path, entry: match.after });
    renamedFrom.add(change.path);
    renamedTo.add(match.path);
  }
  diff.added = diff.added.filter((change) => !renamedTo.has(change.path));
  diff.deleted = diff.deleted.filter((change) => !renamedFrom.has(change.path));
  return diff;
}
