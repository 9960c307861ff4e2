/**
 * A manifest: a file tree as entries (path, type, mode, owner, size, content hash or link target,
 * mtime), stored content-addressed like the files (as pages of entries, each a blob, under a root
 * blob whose hash is the manifest's id — see "storage" below), so two identical trees are one
 * manifest and a checkpoint that changes one path stores about one page.
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

// ------------------------------------------------------------------------------------ storage
//
// A manifest is stored as pages, so a capture that changes one path stores about one page, not
// the whole list (a container with 10,000 changed files would otherwise store its whole listing
// at every checkpoint). The sorted entries are cut into leaf pages after every entry whose path
// hashes to 0 mod LEAF_SPREAD (about 64 entries a page): a cut depends on that path alone, so an
// insert or an edit changes the one page it falls in. Above LEAF_ROOT_MAX pages, the page ids are
// cut the same way (by their own hash) into index pages, level by level; the root names the top
// level, the base image and the depth. Every page is a blob: identical pages — and so identical
// trees — are stored once, and the root's id is the manifest's.

const LEAF_SPREAD = 64;
const LEAF_MAX = 1024;
const INDEX_SPREAD = 32;
const INDEX_MAX = 512;
/** At most this many page ids in the root (else another index level). */
const ROOT_MAX = 64;

interface StoredRoot {
  version: 2;
  base: string | null;
  /** Index levels between the root and the leaves (0: the root names leaves). */
  levels: number;
  pages: string[];
}

/** FNV-1a: a fast, stable hash of a path for page cuts. */
function cutHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

function cut<T>(items: readonly T[], boundary: (item: T) => boolean, max: number): T[][] {
  const pages: T[][] = [];
  let page: T[] = [];
  for (const item of items) {
    page.push(item);
    if (boundary(item) || page.length >= max) {
      pages.push(page);
      page = [];
    }
  }
  if (page.length > 0 || pages.length === 0) pages.push(page);
  return pages;
}

/** Manifests are immutable: loaded ones are kept (bounded) so consecutive captures do not re-read them. */
const cache = new Map<string, Manifest>();
const CACHE_SIZE = 64;
/** Leaf pages by id, shared between manifests (consecutive checkpoints share most of their pages). */
const leafCache = new Map<string, ManifestEntry[]>();
const LEAF_CACHE_SIZE = 4096;

/** Stores `manifest` (the pages it does not share with a stored one); its id and the bytes added. */
export async function storeManifest(blobs: BlobStore, manifest: Manifest, hold?: BlobHold): Promise<{ id: string; stored: number }> {
  const entries = [...manifest.entries].sort((a, b) => comparePaths(a.path, b.path)).map(canonicalEntry);
  let stored = 0;
  const put = async (value: unknown): Promise<string> => {
    const result = await blobs.put(Buffer.from(JSON.stringify(value)), hold);
    stored += result.stored;
    return result.hash;
  };
  let pages: string[] = [];
  for (const leaf of cut(entries, (entry) => cutHash(entry.path) % LEAF_SPREAD === 0, LEAF_MAX)) {
    const id = await put({ entries: leaf });
    remember(leafCache, id, leaf, LEAF_CACHE_SIZE);
    pages.push(id);
  }
  let levels = 0;
  while (pages.length > ROOT_MAX) {
    const next: string[] = [];
    for (const group of cut(pages, (id) => Number.parseInt(id.slice(0, 8), 16) % INDEX_SPREAD === 0, INDEX_MAX))
      next.push(await put({ pages: group }));
    pages = next;
    levels += 1;
  }
  const root: StoredRoot = { version: 2, base: manifest.base, levels, pages };
  const id = await put(root);
  remember(cache, id, { version: 1, base: manifest.base, entries }, CACHE_SIZE);
  return { id, stored };
}

export async function loadManifest(blobs: BlobStore, id: string): Promise<Manifest> {
  const known = cache.get(id);
  if (known) return known;
  const root = await readRoot(blobs, id);
  const entries: ManifestEntry[] = [];
  for (const leaf of await leavesOf(blobs, root)) {
    let page = leafCache.get(leaf);
    if (!page) {
      const parsed = JSON.parse((await blobs.get(leaf)).toString('utf8')) as { entries?: unknown };
      if (!Array.isArray(parsed.entries)) throw new Error(`The checkpoint ${id.slice(0, 12)}… has a damaged page.`);
      page = parsed.entries as ManifestEntry[];
      remember(leafCache, leaf, page, LEAF_CACHE_SIZE);
    }
    entries.push(...page);
  }
  const manifest: Manifest = { version: 1, base: root.base, entries };
  remember(cache, id, manifest, CACHE_SIZE);
  return manifest;
}

async function readRoot(blobs: BlobStore, id: string): Promise<StoredRoot> {
  const parsed: unknown = JSON.parse((await blobs.get(id)).toString('utf8'));
  const record = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  if (record['version'] !== 2 || !Array.isArray(record['pages']) || typeof record['levels'] !== 'number') {
    throw new Error(`The checkpoint ${id.slice(0, 12)}… is not a manifest Drover can read.`);
  }
  return parsed as StoredRoot;
}

/** The leaf page ids of a root, in order; `indexPages` collects the index pages on the way. */
async function leavesOf(blobs: BlobStore, root: StoredRoot, indexPages: string[] = []): Promise<string[]> {
  let pages = root.pages;
  for (let level = 0; level < root.levels; level++) {
    const below: string[] = [];
    for (const page of pages) {
      indexPages.push(page);
      const parsed = JSON.parse((await blobs.get(page)).toString('utf8')) as { pages?: unknown };
      if (!Array.isArray(parsed.pages)) throw new Error('A checkpoint has a damaged index page.');
      below.push(...(parsed.pages as string[]));
    }
    pages = below;
  }
  return pages;
}

/** Forgets the manifests and pages kept in memory (a test reads them back from the blobs). */
export function clearManifestCache(): void {
  cache.clear();
  leafCache.clear();
}

function remember<T>(map: Map<string, T>, id: string, value: T, size: number): void {
  map.delete(id);
  map.set(id, value);
  if (map.size > size) map.delete(map.keys().next().value ?? '');
}

/** The blobs a manifest reaches: its root, its pages and its files' (for reclaiming). */
export async function blobsOf(blobs: BlobStore, id: string): Promise<string[]> {
  const root = await readRoot(blobs, id);
  const indexPages: string[] = [];
  const leaves = await leavesOf(blobs, root, indexPages);
  const manifest = await loadManifest(blobs, id);
  const reached = [id, ...indexPages, ...leaves];
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
