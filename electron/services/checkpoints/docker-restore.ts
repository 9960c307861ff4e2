/**
 * Puts a checkpoint's files into a container: afterwards the container's tree (in scope) is
 * exactly the checkpoint's — files, folders (empty ones too), symbolic links, modes, owners, file
 * mtimes, and deletions of the image's files.
 *
 * The container must be made from the checkpoint's image (`base`). Given the manifest its files
 * match now (`current`: its last capture, or null for a fresh container of the image), only the
 * difference is written: paths to delete go in one `rm -rf` exec, everything to write in one tar
 * through the archive API (Docker replaces a file by a folder and back as it unpacks). A path the
 * checkpoint leaves as in the image but the container changed is copied back from the image (a
 * created, never started container of it, removed afterwards).
 *
 * Mounted host folders and the kernel's paths (see container-io.ts) are never written or deleted,
 * nor is a folder that holds one (it stays a folder, even where the checkpoint has none). The
 * folders the engine makes as it starts a container (engine-paths.ts: the working directory,
 * mount points' parents) are never deleted either: where the checkpoint leaves one out it is made
 * again as the engine (or the image) has it.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { LABELS, type DockerEngine } from '#services/hands/docker/engine';
import type { BlobSource } from './blob-prefetch.ts';
import { BlobMissingError, type BlobStore } from './blob-store.ts';
import { inScope, readPath, scopeOf, type ContainerScope } from './container-io.ts';
import { engineFolder } from './engine-paths.ts';
import { comparePaths, entryMap, loadManifest, sameContent, sameMode, type Manifest, type ManifestEntry } from './manifest.ts';
import { padding, TAR_END, tarHeader } from './tar.ts';

export interface RestoreStats {
  /** Paths written (files, folders, links). */
  written: number;
  /** Paths deleted. */
  deleted: number;
  /** Paths copied back from the image. */
  from_image: number;
  /** File bytes written. */
  bytes: number;
  duration_ms: number;
}

export interface RestoreOptions {
  engine: DockerEngine;
  blobs: BlobStore;
  container: Docker.Container;
  /** The checkpoint to restore (a manifest id, or the manifest). */
  target: string | Manifest;
  /** The manifest the container's files match now, or null for a container fresh from the image. */
  current: string | Manifest | null;
  signal?: AbortSignal;
  /** The container's scope, when known (saves an inspect). */
  scope?: ContainerScope;
  /** The target's blobs, read ahead (blob-prefetch.ts): the archive takes them from it. */
  source?: BlobSource;
}

/** An operation on one path. */
type Step = { kind: 'write'; entry: ManifestEntry } | { kind: 'delete'; path: string } | { kind: 'image'; path: string };

export async function restoreContainer(options: RestoreOptions): Promise<RestoreStats> {
  const started = performance.now();
  const { engine, blobs, container } = options;
  const target = typeof options.target === 'string' ? await loadManifest(blobs, options.target) : options.target;
  const current =
    options.current === null ? null : typeof options.current === 'string' ? await loadManifest(blobs, options.current) : options.current;
  const scope = checked(options.scope ?? (await scopeOf(engine, container)), target);
  if (current && current.base !== target.base) throw new Error('The current files and the checkpoint are of different images.');
  const wanted = entryMap(target);
  const now = current ? entryMap(current) : new Map<string, ManifestEntry>();
  const steps: Step[] = [];
  // In place, the engine's folders neither names are made again as the engine (or the image) has them: a tool may have removed one.
  const made = current ? scope.made.filter((path) => !wanted.has(path) && !now.has(path)) : [];
  for (const path of [...new Set([...wanted.keys(), ...now.keys(), ...made])].sort(comparePaths)) {
    if (!inScope(path, scope)) continue;
    const step = stepFor(path, wanted.get(path) ?? null, now.get(path) ?? null, scope.made.includes(path));
    if (step) steps.push(step);
  }
  const applied = await apply(engine, blobs, container, scope, target, steps, options.source);
  return { ...applied, duration_ms: performance.now() - started };
}

/** Restores one path (file, link, folder's mode, or its absence) as the checkpoint has it, whatever it is now. */
export async function restoreFile(options: Omit<RestoreOptions, 'current'> & { path: string }): Promise<RestoreStats> {
  const started = performance.now();
  const { engine, blobs, container } = options;
  const target = typeof options.target === 'string' ? await loadManifest(blobs, options.target) : options.target;
  const scope = checked(options.scope ?? (await scopeOf(engine, container)), target);
  const path = options.path.replace(/\/+$/, '');
  if (!inScope(path, scope)) {
    throw new Error(`${path} is not kept by checkpoints (a mounted host folder, or the system's own), so it cannot be restored.`);
  }
  const entry = entryMap(target).get(path) ?? null;
  // Docker replaces whatever is at the path as it unpacks; a folder keeps its contents (its mode and owner are restored).
  const steps: Step[] = [
    entry === null ? { kind: 'image', path } : entry.type === 'deleted' ? { kind: 'delete', path } : { kind: 'write', entry },
  ];
  return { ...(await apply(engine, blobs, container, scope, target, steps)), duration_ms: performance.now() - started };
}

function checked(scope: ContainerScope, target: Manifest): ContainerScope {
  if (target.base !== null && target.base !== scope.image) {
    throw new Error(
      `This checkpoint was taken in a container of image ${target.base.slice(7, 19)}, but this container runs image ${scope.image.slice(7, 19)}; start a container of the checkpoint's image to restore it.`,
    );
  }
  return scope;
}

/**
 * What makes `path` go from `now` (null: as in the image) to `wanted` (null: as in the image). A
 * folder the engine makes (`made`) left out of `wanted` is as the engine made it: never deleted.
 */
function stepFor(path: string, wanted: ManifestEntry | null, now: ManifestEntry | null, made: boolean): Step | null {
  if (wanted === null) {
    if (made) return { kind: 'image', path };
    return now === null ? null : now.added ? { kind: 'delete', path } : { kind: 'image', path };
  }
  if (wanted.type === 'deleted') return now?.type === 'deleted' ? null : { kind: 'delete', path };
  if (now && now.type === wanted.type && sameContent(now, wanted) && sameMode(now, wanted) && now.mtime === wanted.mtime) return null;
  return { kind: 'write', entry: wanted };
}

async function apply(
  engine: DockerEngine,
  blobs: BlobStore,
  container: Docker.Container,
  scope: ContainerScope,
  target: Manifest,
  steps: Step[],
  source: BlobSource = { read: (hash) => blobs.get(hash) },
): Promise<Omit<RestoreStats, 'duration_ms'>> {
  // Every blob first: a checkpoint whose data was reclaimed fails before anything in the container changes.
  const needed = new Map<string, string>();
  for (const step of steps) {
    if (step.kind !== 'write' || step.entry.type !== 'file') continue;
    for (const hash of step.entry.chunks ?? [step.entry.hash ?? '']) if (!needed.has(hash)) needed.set(hash, step.entry.path);
  }
  const checks = [...needed];
  for (let at = 0; at < checks.length; at += HAS_WIDTH) {
    const batch = checks.slice(at, at + HAS_WIDTH);
    const present = await Promise.all(batch.map(([hash]) => blobs.has(hash)));
    const missing = batch.find((_, index) => !present[index]);
    if (missing) throw new BlobMissingError(missing[0], missing[1]);
  }
  // A folder holding a mounted host folder (or /proc…) is never deleted nor replaced by a file or a
  // link: `rm -rf`, or Docker unpacking over it, would go into the mount and delete the user's files.
  const holdsExcluded = (path: string): boolean => scope.excluded.some((root) => root.startsWith(`${path}/`));
  const deletes = steps.flatMap((step) => (step.kind === 'delete' && !holdsExcluded(step.path) ? [step.path] : []));
  const fromImage = steps.flatMap((step) => (step.kind === 'image' ? [step.path] : []));
  const writes = steps.flatMap((step) =>
    step.kind === 'write' && (step.entry.type === 'dir' || !holdsExcluded(step.entry.path)) ? [step.entry] : [],
  );
  if (deletes.length > 0) await removePaths(engine, container, deletes);
  if (fromImage.length > 0) {
    if (target.base === null) throw new Error('A whole-tree checkpoint names every path: nothing can come from an image.');
    const imageEntries = await readFromImage(engine, blobs, target.base, fromImage);
    // Not in the image: gone, but for the folders the engine makes (engine-paths.ts), made as it makes them.
    const gone = fromImage.filter((path) => !imageEntries.has(path) && !holdsExcluded(path) && !scope.made.includes(path));
    if (gone.length > 0) await removePaths(engine, container, gone);
    writes.push(...[...imageEntries.values()].filter((entry) => entry.type === 'dir' || !holdsExcluded(entry.path)));
    writes.push(...fromImage.filter((path) => !imageEntries.has(path) && scope.made.includes(path)).map((path) => engineFolder(path)));
  }
  writes.sort((a, b) => comparePaths(a.path, b.path));
  let bytes = 0;
  if (writes.length > 0) {
    try {
      await container.putArchive(Readable.from(archiveOf(source, writes)), { path: '/' });
    } catch (error) {
      throw engine.explain(error, 'write the checkpoint files into the container');
    }
    for (const entry of writes) bytes += entry.type === 'file' ? entry.size : 0;
  }
  return { written: writes.length, deleted: deletes.length, from_image: fromImage.length, bytes };
}

async function removePaths(engine: DockerEngine, container: Docker.Container, paths: string[]): Promise<void> {
  const stdin = Buffer.from(paths.map((path) => `${path}\0`).join(''));
  const result = await engine.exec(container, ['/bin/sh', '-c', 'xargs -0 -r rm -rf --'], { stdin });
  if (result.exitCode !== 0) {
    throw new Error(
      `Could not delete files in the container to restore the checkpoint: ${result.stderr.toString('utf8').trim() || `exit code ${result.exitCode ?? 'unknown'}`}.`,
    );
  }
}

/** Blob reads kept in flight ahead of the tar (reading and checking a blob overlaps Docker unpacking the one before). */
const READ_AHEAD = 8;
/** Blob presence checks in flight at once, before anything is written. */
const HAS_WIDTH = 64;

/** The tar of `entries` (names relative to /), file contents streamed from the blob store (or what was read ahead of it). */
export async function* archiveOf(blobs: BlobStore | BlobSource, entries: ManifestEntry[]): AsyncGenerator<Buffer> {
  const source: BlobSource = 'read' in blobs ? blobs : { read: (hash) => blobs.get(hash) };
  const hashes = entries.flatMap((entry) => (entry.type === 'file' ? (entry.chunks ?? [entry.hash ?? '']) : []));
  const ahead: Array<Promise<Buffer>> = [];
  let queued = 0;
  const nextBlob = (): Promise<Buffer> => {
    while (ahead.length < READ_AHEAD && queued < hashes.length) {
      const read = source.read(hashes[queued++] ?? '');
      read.catch(() => undefined); // awaited below, in order
      ahead.push(read);
    }
    return ahead.shift() ?? Promise.reject(new Error('The checkpoint data ran out before its files did.'));
  };
  for (const entry of entries) {
    if (entry.type === 'deleted') continue;
    const name = entry.path.replace(/^\/+/, '');
    const type = entry.type;
    yield tarHeader({
      name,
      type,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      size: type === 'file' ? entry.size : 0,
      mtime: entry.mtime ?? Math.floor(Date.now() / 1000),
      ...(type === 'symlink' ? { linkname: entry.target ?? '' } : {}),
    });
    if (type !== 'file') continue;
    let written = 0;
    for (let chunk = 0; chunk < (entry.chunks?.length ?? 1); chunk++) {
      const piece = await nextBlob();
      written += piece.length;
      yield piece;
    }
    if (written !== entry.size) throw new Error(`The checkpoint data of ${entry.path} has ${written} bytes, not ${entry.size}.`);
    const pad = padding(entry.size);
    if (pad > 0) yield Buffer.alloc(pad);
  }
  yield TAR_END;
}

/** The image's own entries for `paths` (null: the image lacks it), e.g. for an exact diff (manifest.ts imagePathsFor). */
export async function imageEntries(
  engine: DockerEngine,
  blobs: BlobStore,
  image: string,
  paths: string[],
): Promise<Map<string, ManifestEntry | null>> {
  const found = paths.length === 0 ? new Map<string, ManifestEntry>() : await readFromImage(engine, blobs, image, paths);
  return new Map(paths.map((path) => [path, found.get(path) ?? null]));
}

/**
 * The image's own entries for `paths` (absent ones left out), read from a created — never started —
 * container of the image, removed afterwards. File contents go to the blob store (deduplicated: an
 * image file put back is usually there already, or small).
 */
async function readFromImage(engine: DockerEngine, blobs: BlobStore, image: string, paths: string[]): Promise<Map<string, ManifestEntry>> {
  let reader: Docker.Container;
  try {
    reader = await engine.docker.createContainer({
      name: `drover-checkpoint-reader-${randomBytes(4).toString('hex')}`,
      Image: image,
      Entrypoint: ['/bin/sh'],
      Cmd: ['-c', 'exit 0'],
      Labels: { [LABELS.instance]: engine.instance },
      NetworkDisabled: true,
    });
  } catch (error) {
    throw engine.explain(error, `open the image ${image.slice(7, 19)} to copy files back from it`);
  }
  const hold = blobs.hold();
  try {
    const found = new Map<string, ManifestEntry>();
    for (const path of paths) {
      const read = await readPath(engine, reader, path, blobs, hold);
      if (read) found.set(path, { ...read.entry, path });
    }
    return found;
  } finally {
    hold.release();
    await reader.remove({ force: true }).catch(() => undefined);
  }
}
