/**
 * What capture and restore share about a container: which of its paths checkpoints cover — its
 * whole filesystem but the kernel's (/proc, /sys, /dev), the files Docker manages (/etc/hosts,
 * /etc/hostname, /etc/resolv.conf, /etc/mtab, /.dockerenv), every volume and tmpfs (not the
 * container's layer) and every mounted host folder (the user's own: never read or written by
 * checkpoints) — reading one path through Docker's archive API into the blob store, and a file's
 * content back out of it.
 */
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { isNotFound, type DockerEngine } from '#services/hands/docker/engine';
import { BlobQueue, type BlobHold, type BlobStore } from './blob-store.ts';
import { engineMadeFolders } from './engine-paths.ts';
import { CHUNK_BYTES, type ManifestEntry } from './manifest.ts';
import { readTar, type TarHeader } from './tar.ts';

/**
 * Where the engine puts its init program in a container started with `Init: true`: /sbin/docker-init,
 * which in an image with a merged /usr (/sbin a link to usr/sbin: Debian 12, Ubuntu 24.04…) is
 * /usr/sbin/docker-init — the engine follows the link (see `initPath`).
 */
export const DOCKER_INIT = '/sbin/docker-init';
export const ALWAYS_EXCLUDED = ['/proc', '/sys', '/dev', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/etc/mtab', '/.dockerenv'];

export interface ContainerScope {
  /** The image id the container was made from (what its changes are relative to). */
  image: string;
  /** Paths not covered, with everything below them. */
  excluded: string[];
  /**
   * Folders the engine itself makes when it starts the container, before any tool runs: the
   * working directory and its parents, and the parents of every mount point (host folders,
   * volumes, tmpfs, the init program's /sbin/docker-init) — sorted. Where the engine left them as
   * it makes them (see engine-paths.ts), they are not the hand's changes: captures leave them out
   * and restores make them again.
   */
  made: string[];
}

export async function scopeOf(engine: DockerEngine, container: Docker.Container): Promise<ContainerScope> {
  let info: Docker.ContainerInspectInfo;
  try {
    info = await container.inspect();
  } catch (error) {
    throw engine.explain(error, 'inspect the container for a checkpoint');
  }
  const mounts = [...(info.Mounts ?? []).map((mount) => mount.Destination), ...Object.keys(info.HostConfig?.Tmpfs ?? {})].map(normalise);
  // With `Init: true` the engine binds its init program at /sbin/docker-init: the engine's, not the hand's files.
  const init = (info.HostConfig as { Init?: boolean | null } | undefined)?.Init === true ? [await initPath(container)] : [];
  const excluded = [...ALWAYS_EXCLUDED, ...init, ...mounts];
  const workingDir = info.Config?.WorkingDir ? normalise(info.Config.WorkingDir) : '';
  return { image: info.Image, excluded, made: engineMadeFolders(workingDir, [...init, ...mounts], excluded) };
}

/** Where the init program is bound in the container: /sbin/docker-init, or below where /sbin links to. */
async function initPath(container: Docker.Container): Promise<string> {
  try {
    // The archive API's stat of /sbin (a HEAD request): its link target, resolved in the container, when it is a link.
    const reply = (await container.infoArchive({ path: '/sbin' })) as {
      headers?: Record<string, string | string[] | undefined>;
      destroy?: () => void;
    };
    reply.destroy?.();
    const header = reply.headers?.['x-docker-container-path-stat'];
    if (typeof header === 'string') {
      const stat = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as { linkTarget?: unknown };
      if (typeof stat.linkTarget === 'string' && stat.linkTarget !== '') return `${normalise(stat.linkTarget)}/docker-init`;
    }
  } catch {
    // No /sbin in the image (the engine makes it), or a stat the engine would not give: the usual place.
  }
  return DOCKER_INIT;
}

export function normalise(path: string): string {
  const trimmed = path.replace(/\/+/g, '/').replace(/\/$/, '');
  return trimmed === '' ? '/' : trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

export function inScope(path: string, scope: ContainerScope): boolean {
  if (path === '/') return false;
  return !scope.excluded.some((root) => path === root || path.startsWith(`${root}/`));
}

/** Hashes a file's content as it streams, storing it (through a BlobQueue) as one blob (≤ CHUNK_BYTES) or as chunks. */
export class FileWriter {
  private readonly whole = createHash('sha256');
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly chunks: string[] = [];
  size = 0;

  constructor(private readonly queue: BlobQueue) {}

  async push(piece: Buffer): Promise<void> {
    this.whole.update(piece);
    this.size += piece.length;
    this.pending.push(piece);
    this.pendingBytes += piece.length;
    // Cut only past a whole chunk, so a file of exactly CHUNK_BYTES stays one blob.
    while (this.pendingBytes > CHUNK_BYTES) {
      const all = Buffer.concat(this.pending);
      this.chunks.push(await this.queue.add(all.subarray(0, CHUNK_BYTES)));
      this.pending = [all.subarray(CHUNK_BYTES)];
      this.pendingBytes = all.length - CHUNK_BYTES;
    }
  }

  /** The content's hash, and its chunks when it has more than one. */
  async end(): Promise<{ hash: string; chunks?: string[] }> {
    const rest = Buffer.concat(this.pending);
    const hash = this.whole.digest('hex');
    if (this.chunks.length === 0) {
      await this.queue.add(rest);
      return { hash };
    }
    this.chunks.push(await this.queue.add(rest));
    return { hash, chunks: this.chunks };
  }
}

export interface ReadEntry {
  entry: ManifestEntry;
  /** Content bytes read from the container. */
  read: number;
  /** Bytes added to the blob store. */
  stored: number;
}

/**
 * One path of a container as an entry, read through the archive API (no tools needed in the
 * image): a file's content goes to the blob store, a link's target and a folder's mode come from
 * the header (a folder's children are not read: the stream is closed after its first header).
 * Null when the path is gone; sockets, devices and fifos are left out (null).
 */
export async function readPath(
  engine: DockerEngine,
  container: Docker.Container,
  path: string,
  blobs: BlobStore,
  hold: BlobHold,
): Promise<ReadEntry | null> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = await container.getArchive({ path });
  } catch (error) {
    if (isNotFound(error)) return null;
    throw engine.explain(error, `read ${path} from the container`);
  }
  const queue = new BlobQueue(blobs, hold);
  const seen: { header: TarHeader | null; writer: FileWriter | null } = { header: null, writer: null };
  try {
    await readTar(stream as AsyncIterable<Buffer>, (found) => {
      if (seen.header) throw new StopReading(); // a folder's children: not wanted
      seen.header = found;
      if (found.type !== 'file') return null;
      const writer = new FileWriter(queue);
      seen.writer = writer;
      return { push: (piece) => writer.push(piece) };
    });
  } catch (error) {
    if (!(error instanceof StopReading)) throw error;
  } finally {
    (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
  const { header, writer } = seen;
  if (!header) return null;
  const base = { path, mode: header.mode, uid: header.uid, gid: header.gid };
  if (header.type === 'dir') return { entry: { ...base, type: 'dir', size: 0 }, read: 0, stored: 0 };
  if (header.type === 'symlink') {
    return { entry: { ...base, type: 'symlink', size: 0, target: header.linkname, mtime: header.mtime }, read: 0, stored: 0 };
  }
  if (header.type !== 'file' || !writer) return null;
  const content = await writer.end();
  const stored = await queue.drain();
  return { entry: { ...base, type: 'file', size: writer.size, ...content, mtime: header.mtime }, read: writer.size, stored };
}

class StopReading extends Error {}

/** A file entry's bytes, piece by piece (one chunk in memory at a time). */
export async function* fileContent(blobs: BlobStore, entry: ManifestEntry): AsyncGenerator<Buffer> {
  if (entry.type !== 'file' || entry.hash === undefined) return;
  for (const hash of entry.chunks ?? [entry.hash]) yield await blobs.get(hash);
}

/** Runs `items` through `work`, `width` at a time, results in order. */
export async function inParallel<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(width, items.length) }, async () => {
    for (let index = next++; index < items.length; index = next++) results[index] = await work(items[index] as T);
  });
  await Promise.all(lanes);
  return results;
}
