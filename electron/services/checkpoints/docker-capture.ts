/**
 * A checkpoint of a Docker container's files, costing what changed since the last one.
 *
 * 1. `docker diff` (the engine's list of paths that differ from the image: it reads the
 *    container's writable layer, not the image) names the candidates — added, changed, deleted.
 * 2. One request to a shell kept open in the container (capture-shell.ts; busybox-level `sh`,
 *    `stat`, `awk`, `tar`; the paths are data, never in a command's text) stats every candidate and streams back, as a tar, only the files and links
 *    whose ctime is at or after the previous capture's second — ctime moves on every write,
 *    chmod, chown and rename and cannot be set back (unlike mtime), so nothing changed is missed,
 *    a write within the capture's own second included — plus those the previous manifest did not
 *    have. The others keep their previous entries without being read.
 * 3. What comes back is hashed and stored as blobs (deduplicated; files over 1 MiB in 1 MiB
 *    chunks, so a one-byte change to a 50 MB file stores one chunk; the file is still read whole,
 *    as docker diff names paths, not bytes).
 * 4. The new manifest (the image plus these entries) is stored; its id is the checkpoint.
 *
 * A name with a newline, or a path whose metadata moved without its ctime (a clock set back), is
 * read alone through the archive API instead. Paths outside the scope (container-io.ts: /proc,
 * /sys, /dev, Docker's own files, mounted host folders) are never read. The container is not
 * paused: a process still writing while the capture runs may be caught mid-write — the next
 * capture takes the rest. Hard links are stored as separate files (restored unlinked).
 */
import { performance } from 'node:perf_hooks';
import type Docker from 'dockerode';
import type { DockerEngine } from '#services/hands/docker/engine';
import { BlobQueue, type BlobHold, type BlobStore } from './blob-store.ts';
import { FileWriter, inParallel, inScope, readPath, scopeOf, type ContainerScope } from './container-io.ts';
import { runCapture } from './capture-shell.ts';
import { imageEntries } from './docker-restore.ts';
import { asTheEngineMadeIt } from './engine-paths.ts';
import { readTar } from './tar.ts';
import {
  comparePaths,
  entryMap,
  loadManifest,
  sameContent,
  sameMode,
  storeManifest,
  type Checkpoint,
  type Manifest,
  type ManifestEntry,
} from './manifest.ts';

/** Archive reads in flight at once. */
const READ_WIDTH = 4;

export interface CaptureStats {
  /** Paths `docker diff` named in scope. */
  examined: number;
  /** Files and links whose content was read (the rest kept their previous entry). */
  read: number;
  /** Content bytes read from the container. */
  bytes_read: number;
  /** Bytes added to the blob store (new file data and the manifest). */
  bytes_stored: number;
  /** Added, changed or deleted paths against the previous manifest. */
  changed_paths: number;
  duration_ms: number;
  /** Time in `docker diff`, the stat exec and the reads. */
  diff_ms: number;
  stat_ms: number;
  read_ms: number;
}

export interface Capture {
  checkpoint: Checkpoint;
  manifest: Manifest;
  stats: CaptureStats;
}

export interface CaptureOptions {
  engine: DockerEngine;
  blobs: BlobStore;
  container: Docker.Container;
  /**
   * The previous checkpoint of this container, or null. After a restore: the restored checkpoint
   * (its files are then read once more — their ctime is the restore's — and stored as nothing new).
   */
  previous: Checkpoint | null;
  /** The container's scope, when known (saves an inspect per capture). */
  scope?: ContainerScope;
  /**
   * A hold the blobs this capture names go to as well, kept after it returns (the caller releases
   * it): a manifest nothing records yet, such as a fresh container's files before its first tool.
   */
  hold?: BlobHold;
  signal?: AbortSignal;
}

interface DiffItem {
  Path: string;
  Kind: number;
}

export interface Stat {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
}

const MARKER = Buffer.from('\n::tar::\n');

export async function captureContainer(options: CaptureOptions): Promise<Capture> {
  // Held from the start: what this capture writes, finds there already, or keeps from the previous manifest (BlobStore.reclaim).
  const own = options.blobs.hold();
  const outer = options.hold;
  const hold: BlobHold = outer
    ? {
        add: (hash) => {
          own.add(hash);
          outer.add(hash);
        },
        release: () => own.release(),
      }
    : own;
  try {
    return await capture(options, hold);
  } finally {
    own.release();
  }
}

async function capture(options: CaptureOptions, hold: BlobHold): Promise<Capture> {
  const { engine, blobs, container } = options;
  const started = performance.now();
  const scope = options.scope ?? (await scopeOf(engine, container));
  const previous = options.previous === null ? null : await loadManifest(blobs, options.previous.manifest);
  const comparable = previous !== null && previous.base === scope.image;
  const known = comparable ? entryMap(previous) : new Map<string, ManifestEntry>();
  const since = comparable ? (options.previous?.captured_at ?? 0) : 0;
  // Entries kept unread name the previous manifest's blobs: held like the ones written (the previous checkpoint may be reclaimable).
  for (const entry of known.values()) for (const hash of entry.chunks ?? (entry.hash === undefined ? [] : [entry.hash])) hold.add(hash);

  let changes: DiffItem[];
  try {
    changes = ((await container.changes()) as DiffItem[] | null) ?? [];
  } catch (error) {
    throw engine.explain(error, 'list the changed files of the container (docker diff)');
  }
  const diffDone = performance.now();
  const items = changes.filter((item) => inScope(item.Path, scope)).sort((a, b) => comparePaths(a.Path, b.Path));
  const kinds = new Map(items.map((item) => [item.Path, item.Kind]));
  const present = items.filter((item) => item.Kind !== 2).map((item) => item.Path);
  const byName = present.filter((path) => !path.includes('\n'));
  const list = byName.map((path) => `${known.has(path) ? '' : '/.'}${path}`);

  const queue = new BlobQueue(blobs, hold);
  const run = await runCapture(engine, container, since, list, options.signal);
  let now = Number.NaN;
  const stats = new Map<string, Stat>();
  let statDone = 0;
  const read = new Map<string, ManifestEntry>();
  let bytesRead = 0;
  let bytesStored = 0;
  let ending: 'end' | 'sentinel' = 'end';
  try {
    ending = await readTar(
      afterMarker(run.stdout, (text) => {
        statDone = performance.now();
        const lines = text.split('\n');
        now = Number.parseInt(lines[0] ?? '', 10);
        for (const line of lines.slice(1)) {
          const parsed = parseStat(line);
          if (parsed) stats.set(parsed.path, parsed.stat);
        }
      }),
      (header) => {
        const path = `/${header.name.replace(/^(\.\/)+/, '').replace(/^\/+/, '')}`;
        const base = {
          path,
          mode: header.mode,
          uid: header.uid,
          gid: header.gid,
          ...(kinds.get(path) === 1 ? { added: true as const } : {}),
        };
        if (header.type === 'symlink') read.set(path, { ...base, type: 'symlink', size: 0, target: header.linkname, mtime: header.mtime });
        if (header.type === 'hardlink') {
          const linked = read.get(`/${header.linkname.replace(/^(\.\/)+/, '').replace(/^\/+/, '')}`);
          if (linked?.type === 'file') {
            const { added: _added, ...content } = linked;
            read.set(path, { ...content, ...base, mtime: header.mtime });
          }
        }
        if (header.type !== 'file') return null;
        const writer = new FileWriter(queue);
        return {
          push: (piece: Buffer) => writer.push(piece),
          end: async () => {
            const content = await writer.end();
            read.set(path, { ...base, type: 'file', size: writer.size, ...content, mtime: header.mtime });
            bytesRead += writer.size;
          },
        };
      },
    );
  } finally {
    run.finish(ending === 'sentinel');
  }
  const failure = await run.failure();
  if (!Number.isFinite(now) || ending !== 'sentinel' || failure !== null) {
    throw new Error(
      `Could not read the container's files for a checkpoint: the image needs busybox-level \`sh\`, \`stat\`, \`awk\`, \`tar\` and \`head\` (${failure ?? 'the reply ended early'}).`,
    );
  }
  bytesStored += await queue.drain();
  const readDone = performance.now();

  const entries: ManifestEntry[] = [];
  const alone: string[] = [];
  for (const item of items) {
    const added = item.Kind === 1 ? { added: true as const } : {};
    if (item.Kind === 2) {
      entries.push({ path: item.Path, type: 'deleted', mode: 0, uid: 0, gid: 0, size: 0 });
      continue;
    }
    const stat = stats.get(item.Path);
    const before = known.get(item.Path);
    const fresh = read.get(item.Path);
    if (fresh) entries.push(fresh);
    else if (stat?.type === 'other')
      continue; // sockets, fifos, devices: not files to keep
    else if (stat?.type === 'dir')
      entries.push({ path: item.Path, type: 'dir', mode: stat.mode, uid: stat.uid, gid: stat.gid, size: 0, ...added });
    else if (stat && before && sameStat(stat, before)) entries.push(before);
    else alone.push(item.Path); // a name with a newline, gone since, or metadata moved without its ctime
  }
  const single = await inParallel(alone, READ_WIDTH, (path) => readPath(engine, container, path, blobs, hold));
  for (const [index, result] of single.entries()) {
    const path = alone[index] ?? '';
    if (result) {
      entries.push({ ...result.entry, ...(kinds.get(path) === 1 ? { added: true as const } : {}) });
      bytesRead += result.read;
      bytesStored += result.stored;
    } else if (kinds.get(path) === 0) {
      entries.push({ path, type: 'deleted', mode: 0, uid: 0, gid: 0, size: 0 }); // a path of the image, gone since docker diff
    }
  }
  // The folders the engine made as it started the container (engine-paths.ts) are not the hand's changes.
  const engineMade = await engineMadeFilter(engine, blobs, scope, [...entries, ...(comparable ? previous.entries : [])]);
  const kept = entries.filter((entry) => !engineMade(entry));
  kept.sort((a, b) => comparePaths(a.path, b.path));
  const manifest: Manifest = { version: 1, base: scope.image, entries: kept };
  const stored = await storeManifest(blobs, manifest, hold);
  bytesStored += stored.stored;
  return {
    checkpoint: { manifest: stored.id, parent: options.previous?.manifest ?? null, captured_at: now },
    manifest,
    stats: {
      examined: items.length,
      read: read.size + alone.length,
      bytes_read: bytesRead,
      bytes_stored: bytesStored,
      // Against the previous manifest as this capture would have taken it (one from before engine-made folders were left out has them).
      changed_paths: countChanged(
        comparable ? { ...previous, entries: previous.entries.filter((entry) => !engineMade(entry)) } : null,
        manifest,
      ),
      duration_ms: performance.now() - started,
      diff_ms: diffDone - started,
      stat_ms: (statDone || readDone) - diffDone,
      read_ms: readDone - (statDone || readDone),
    },
  };
}

/** The image's entries of engine-made folders it has, by image id and path (they never change: an image id is its content). */
const imageFolders = new Map<string, Map<string, Promise<ManifestEntry | null | undefined>>>();
/** Images whose folders are remembered at most (the oldest is forgotten first). */
const IMAGE_FOLDERS_KEPT = 64;

/**
 * Which of `entries` are engine-made folders as the engine left them (engine-paths.ts). The
 * image's version of the ones it has is read once per image (a created, never started container
 * of it) and remembered; when it cannot be read they count as changes, as before.
 */
async function engineMadeFilter(
  engine: DockerEngine,
  blobs: BlobStore,
  scope: ContainerScope,
  entries: readonly ManifestEntry[],
): Promise<(entry: ManifestEntry) => boolean> {
  const ofImage = [
    ...new Set(
      entries.filter((entry) => entry.type === 'dir' && !entry.added && scope.made.includes(entry.path)).map((entry) => entry.path),
    ),
  ];
  let known = imageFolders.get(scope.image);
  if (!known) {
    known = new Map();
    imageFolders.set(scope.image, known);
    for (const old of imageFolders.keys()) if (imageFolders.size > IMAGE_FOLDERS_KEPT) imageFolders.delete(old);
  }
  const missing = ofImage.filter((path) => !known.has(path));
  if (missing.length > 0) {
    const read = imageEntries(engine, blobs, scope.image, missing).catch(() => null);
    for (const path of missing) {
      known.set(
        path,
        read.then((found) => (found === null ? undefined : (found.get(path) ?? null))),
      );
    }
    // Unknown (the engine failed): asked again next time.
    void read.then((found) => found === null && missing.forEach((path) => known.delete(path)));
  }
  const image = new Map<string, ManifestEntry | null | undefined>();
  for (const path of ofImage) image.set(path, await known.get(path));
  return (entry) => asTheEngineMadeIt(entry, scope, image.get(entry.path));
}

/** What a stat line says (`%f %u %g %s %Y %Z %n`), or null. */
export function parseStat(line: string): { path: string; stat: Stat } | null {
  const match = /^([0-9a-f]+) (\d+) (\d+) (\d+) (\d+) (\d+) (.*)$/.exec(line);
  if (!match) return null;
  const raw = Number.parseInt(match[1] ?? '0', 16);
  const format = raw & 0o170000;
  const path = (match[7] ?? '').replace(/^\/\.\//, '/');
  return {
    path,
    stat: {
      type: format === 0o100000 ? 'file' : format === 0o040000 ? 'dir' : format === 0o120000 ? 'symlink' : 'other',
      mode: raw & 0o7777,
      uid: Number(match[2]),
      gid: Number(match[3]),
      size: Number(match[4]),
      mtime: Number(match[5]),
    },
  };
}

/** The stat agrees with the previous entry (its ctime said unchanged; this guards against a clock set back). */
export function sameStat(stat: Stat, before: ManifestEntry): boolean {
  return (
    stat.type === before.type &&
    stat.mode === before.mode &&
    stat.uid === before.uid &&
    stat.gid === before.gid &&
    (stat.type !== 'file' || stat.size === before.size) &&
    stat.mtime === before.mtime
  );
}

export function countChanged(previous: Manifest | null, next: Manifest): number {
  const before = previous ? entryMap(previous) : new Map<string, ManifestEntry>();
  let count = 0;
  for (const entry of next.entries) {
    const old = before.get(entry.path);
    before.delete(entry.path);
    if (!old || !sameEntry(old, entry)) count += 1;
  }
  return count + before.size;
}

/** The same entry, field by field (an entry read again has its fields in another order than one loaded from a manifest). */
function sameEntry(a: ManifestEntry, b: ManifestEntry): boolean {
  return (
    sameContent(a, b) &&
    sameMode(a, b) &&
    a.size === b.size &&
    a.mtime === b.mtime &&
    a.added === b.added &&
    (a.chunks ?? []).join() === (b.chunks ?? []).join()
  );
}

/** The bytes after the first MARKER of `source`; the text before it goes to `onText` first. */
export async function* afterMarker(source: AsyncIterable<Buffer>, onText: (text: string) => void): AsyncGenerator<Buffer> {
  let head: Buffer = Buffer.alloc(0);
  let found = false;
  for await (const chunk of source) {
    if (found) {
      yield chunk;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    const at = head.indexOf(MARKER);
    if (at === -1) continue;
    found = true;
    onText(head.subarray(0, at).toString('utf8'));
    const rest = head.subarray(at + MARKER.length);
    if (rest.length > 0) yield rest;
  }
  if (!found) onText(head.toString('utf8'));
}
