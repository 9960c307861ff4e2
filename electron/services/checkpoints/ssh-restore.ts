/**
 * Puts an SSH hand's working folder back as a checkpoint has it (issue 20): afterwards the folder
 * holds exactly the manifest's tree — files (content, mode, mtime), folders (empty ones too, and
 * their modes), symbolic links — and nothing else: paths the manifest lacks are removed. Nothing
 * outside the folder is read or written. Owners are restored only when the login can (root);
 * otherwise new files belong to the login user, as they did when the tools wrote them.
 *
 * The folder is walked first (no file read: stat only, ssh-capture.ts); a path is left alone when
 * it provably holds the wanted content already — its ctime is older than the clock of a capture
 * (`known`) that recorded it with the wanted content, and its stat agrees — so a restore writes what
 * differs, not the tree. Then one exec removes (a NUL list on stdin: `rm -rf`) and one unpacks a tar
 * streamed from the blob store into `tar -x` on the machine.
 */
import { posix } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BlobMissingError, type BlobStore } from './blob-store.ts';
import { sameStat } from './docker-capture.ts';
import { archiveOf } from './docker-restore.ts';
import { comparePaths, entryMap, sameContent, sameMode, type Manifest, type ManifestEntry } from './manifest.ts';
import { scriptCommand, walkFolder, withFolder, type RemoteExec, type Walk } from './ssh-capture.ts';

/** A restore of a live SSH hand's folder asked from outside (one-file restore, "Rewind files only"). */
export interface SshFilesRestore {
  /** The manifest to restore; null: an empty folder (the hand had no checkpoint at that event). */
  target: string | null;
  /** One path (absolute) only. */
  path?: string;
  /** Marks the recorded checkpoint as a files-only rewind. */
  rewind?: { keep: 'conversation' | 'files'; session_id: string; at_seq: number };
}

/** A live SSH hand's folder, as restores reach it (SshHand). */
export interface SshFolderAccess {
  /** `ssh:user@host:port:/folder` while checkpoints are taken, else null. */
  readonly checkpointBase: string | null;
  restoreFiles(request: SshFilesRestore): Promise<{ changed: boolean }>;
}

const REMOVE = `d=$(dd bs=1 count="$1" 2>/dev/null); cd -- "$d" || { echo "cannot enter the folder $d" >&2; exit 3; }
xargs -0 -r rm -rf --`;
const EXTRACT = `d=$(dd bs=1 count="$1" 2>/dev/null); mkdir -p -- "$d" && cd -- "$d" || { echo "cannot enter the folder $d" >&2; exit 3; }
tar -xpf -`;

export interface SshRestoreOptions {
  exec: RemoteExec;
  blobs: BlobStore;
  folder: string;
  /** The tree to restore (a whole-tree manifest of the folder). */
  target: Manifest;
  /** A capture whose entries hold for every path whose ctime is before its clock (the hand's last, or the target's own). */
  known: { manifest: Manifest; captured_at: number } | null;
  signal?: AbortSignal;
}

export interface SshRestoreStats {
  written: number;
  deleted: number;
  bytes: number;
  /** The machine's clock when the folder was walked (a capture after the restore reads what changed since). */
  clock: number;
  duration_ms: number;
}

/** Makes the folder exactly `target`'s tree. */
export async function restoreFolder(options: SshRestoreOptions): Promise<SshRestoreStats> {
  const started = performance.now();
  const { folder, target } = options;
  const walk = await walkFolder(options.exec, folder, options.signal);
  const wanted = entryMap(target);
  const known = options.known ? entryMap(options.known.manifest) : new Map<string, ManifestEntry>();
  const clock = options.known?.captured_at ?? Number.NEGATIVE_INFINITY;
  const removals: string[] = [];
  const writes: ManifestEntry[] = [];
  for (const [path, now] of walk.paths) {
    const entry = wanted.get(path);
    if (!entry || entry.type === 'deleted') removals.push(path);
    else if (entry.type !== now.stat.type || (entry.type !== 'dir' && !provablySame(path, entry, walk, known, clock))) {
      // A file or link is replaced whole (tar -x writes over a link, never through it); a folder keeps its contents.
      if (entry.type !== 'dir' || now.stat.type !== 'dir') removals.push(path);
      writes.push(entry);
    } else if (entry.type === 'dir' && now.stat.mode !== entry.mode) writes.push(entry);
  }
  for (const [path, entry] of wanted) if (entry.type !== 'deleted' && !walk.paths.has(path)) writes.push(entry);
  return { ...(await apply(options, removals, writes)), clock: walk.clock, duration_ms: performance.now() - started };
}

/** `path` without a trailing slash, refused unless it is a plain absolute path below `folder`. */
export function checkedPath(folder: string, path: string): string {
  const plain = path.replace(/\/+$/, '');
  if (!plain.startsWith(`${folder === '/' ? '' : folder}/`) || posix.normalize(plain) !== plain) {
    throw new Error(
      `${plain} is outside the hand's working folder ${folder} (or not a plain absolute path in it): checkpoints keep only that folder, so it cannot be restored.`,
    );
  }
  return plain;
}

/** Restores one path as `target` has it (absent there: removed), whatever it is now. */
export async function restorePath(options: Omit<SshRestoreOptions, 'known'> & { path: string }): Promise<SshRestoreStats> {
  const started = performance.now();
  const path = checkedPath(options.folder, options.path);
  const root = options.folder === '/' ? '' : options.folder;
  const wanted = entryMap(options.target);
  const entry = wanted.get(path) ?? null;
  const present = entry !== null && entry.type !== 'deleted';
  const walk = await walkFolder(options.exec, options.folder, options.signal);
  // Never through a link: every folder above the path must be a folder now (or missing: made as the checkpoint has it).
  const writes: ManifestEntry[] = [];
  for (let above = posix.dirname(path); above.length > root.length; above = posix.dirname(above)) {
    const now = walk.paths.get(above);
    if (now && now.stat.type !== 'dir') {
      throw new Error(
        `${above} is now a ${now.stat.type === 'symlink' ? 'link' : 'file'}, not a folder, so ${path} cannot be restored inside it alone; rewind the files to put the folder back whole.`,
      );
    }
    const folder = wanted.get(above);
    if (!now && present && folder?.type === 'dir') writes.push(folder);
  }
  // A folder keeps its contents (its mode is restored); anything else is replaced.
  const now = walk.paths.get(path);
  const removals = now && !(present && entry.type === 'dir' && now.stat.type === 'dir') ? [path] : [];
  if (present) writes.push(entry);
  return {
    ...(await apply(options, removals, writes)),
    clock: walk.clock,
    duration_ms: performance.now() - started,
  };
}

function provablySame(path: string, entry: ManifestEntry, walk: Walk, known: Map<string, ManifestEntry>, clock: number): boolean {
  const now = walk.paths.get(path);
  const recorded = known.get(path);
  if (!now || !recorded || now.ctime >= clock) return false;
  return sameContent(recorded, entry) && sameMode(recorded, entry) && recorded.mtime === entry.mtime && sameStat(now.stat, recorded);
}

async function apply(
  options: Pick<SshRestoreOptions, 'exec' | 'blobs' | 'folder' | 'signal'>,
  removals: string[],
  writes: ManifestEntry[],
): Promise<Omit<SshRestoreStats, 'clock' | 'duration_ms'>> {
  const { exec, blobs, folder } = options;
  // Every blob first: a checkpoint whose data was reclaimed fails before anything on the machine changes.
  for (const entry of writes) {
    if (entry.type !== 'file') continue;
    for (const hash of entry.chunks ?? [entry.hash ?? '']) if (!(await blobs.has(hash))) throw new BlobMissingError(hash, entry.path);
  }
  const relative = (path: string): string => `./${path.slice(folder === '/' ? 1 : folder.length + 1)}`;
  // Only the topmost of nested removals (rm -rf takes what is below).
  const sorted = [...removals].sort(comparePaths);
  const tops = sorted.filter((path, index) => !sorted.slice(0, index).some((above) => path.startsWith(`${above}/`)));
  if (tops.length > 0) {
    const list = Buffer.from(tops.map((path) => `${relative(path)}\0`).join(''));
    const run = await exec(scriptCommand(REMOVE, Buffer.byteLength(folder)), withFolder(folder, list), options.signal);
    const output = await drain(run.stdout);
    const { exitCode, stderr } = await run.done;
    if (exitCode !== 0)
      throw new Error(
        `Could not remove files in ${folder} to restore the checkpoint: ${stderr || output || `exit code ${exitCode ?? 'unknown'}`}.`,
      );
  }
  let bytes = 0;
  if (writes.length > 0) {
    const entries = writes.map((entry) => ({ ...entry, path: relative(entry.path) })).sort((a, b) => comparePaths(a.path, b.path));
    async function* stdin(): AsyncGenerator<Buffer> {
      yield Buffer.from(folder);
      yield* archiveOf(blobs, entries);
    }
    const run = await exec(scriptCommand(EXTRACT, Buffer.byteLength(folder)), stdin(), options.signal);
    const output = await drain(run.stdout);
    const { exitCode, stderr } = await run.done;
    if (exitCode !== 0)
      throw new Error(
        `Could not write the checkpoint's files into ${folder}: ${stderr || output || `exit code ${exitCode ?? 'unknown'}`}.`,
      );
    for (const entry of writes) bytes += entry.type === 'file' ? entry.size : 0;
  }
  return { written: writes.length, deleted: tops.length, bytes };
}

async function drain(source: AsyncIterable<Buffer>): Promise<string> {
  const pieces: Buffer[] = [];
  for await (const piece of source) pieces.push(piece);
  return Buffer.concat(pieces).toString('utf8').trim();
}
