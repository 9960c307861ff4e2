/**
 * What Drover stores, and reclaiming what nothing needs (issue 20 item 5, Settings → Storage).
 *
 * Checkpoint bytes are the blob files (blob-store.ts) a session's `hand.checkpoint` manifests reach
 * (`blobsOf`: the manifest, its pages, its files' contents): per hand and per session, with the
 * bytes other sessions reach too shown as shared (each blob counts once in the totals). Sessions
 * are read from their own events only (a fork's view of its parent is its parent's), so a blob a
 * fork inherits is its parent's. Snapshot images and containers are Docker's figures by Drover's
 * labels (`docker system df`: an image's own bytes, a container's writable layer); package images
 * (`drover-packages:*`) are listed one by one (storage-packages.ts), and reclaimed when no
 * existing session's hand config nor saved environment needs them and no container uses them.
 *
 * Reclaiming is mark-and-sweep over every existing session's log (forks' parents exist while their
 * forks do: deleting a parent takes its forks or is refused), after the hands' checkpoints in
 * progress have settled; a capture starting meanwhile holds its blobs (BlobStore.hold). Snapshot
 * images and containers of sessions that no longer exist go too.
 */
import { stat } from 'node:fs/promises';
import type { SessionStorage, StorageReclaim, StorageUsage } from '#shared/storage';
import { DERIVED_REPOSITORY } from '#services/hands/docker/derived-image';
import { LABELS, type DockerEngine } from '#services/hands/docker/engine';
import type { SessionStore } from '#services/session/store';
import type { BlobStore } from './blob-store.ts';
import { blobsOf } from './manifest.ts';
import { keptCheckpoints, ownEvents } from './retention-log.ts';
import { capPaused, diskOf, pausedReason, readThreshold } from './storage-disk.ts';
import { readLimits } from './storage-limits.ts';
import {
  listPackageImages,
  reclaimPackageImages,
  type DfImage,
  type PackageImageOptions,
  type PackageImageRow,
} from './storage-packages.ts';

export interface StorageServices {
  store: SessionStore;
  /** The registry's blob store (its holds protect captures in progress). */
  blobs: BlobStore;
  engine: DockerEngine;
  /** Engines of other machines live Docker hands run on (issue 22): their containers and snapshots are measured too. */
  remotes?: () => DockerEngine[];
  /** Waits for the hands' checkpoints and snapshots in progress (HandRegistry.settled). */
  settled?: () => Promise<void>;
  /** How package images are reclaimed (grace period; tests: only their own). */
  packageImages?: PackageImageOptions;
  log?: (message: string, error?: unknown) => void;
}

/** Manifest ids per session, per hand: from each existing session's own `hand.checkpoint` events that still count (not thinned). */
export function checkpointManifests(store: SessionStore): Map<string, Map<string, Set<string>>> {
  const result = new Map<string, Map<string, Set<string>>>();
  for (const session of store.listSessions()) {
    const hands = new Map<string, Set<string>>();
    for (const event of keptCheckpoints(store, session.id)) {
      const set = hands.get(event.payload.hand_id) ?? new Set<string>();
      set.add(event.payload.manifest);
      hands.set(event.payload.hand_id, set);
    }
    result.set(session.id, hands);
  }
  return result;
}

/** What each manifest reaches, once per manifest; a manifest whose blobs are gone reaches what is left of it (nothing when its root is gone). */
function reacher(blobs: BlobStore, log?: StorageServices['log']): (manifest: string) => Promise<string[]> {
  const cache = new Map<string, string[]>();
  return async (manifest) => {
    const known = cache.get(manifest);
    if (known) return known;
    let reached: string[];
    try {
      reached = await blobsOf(blobs, manifest);
    } catch (error) {
      log?.(`Checkpoint manifest ${manifest.slice(0, 12)}… cannot be read; its blobs are not counted`, error);
      reached = [];
    }
    cache.set(manifest, reached);
    return reached;
  };
}

/** Every blob any existing session's checkpoints reach. */
export async function liveBlobs(store: SessionStore, blobs: BlobStore, log?: StorageServices['log']): Promise<Set<string>> {
  const reach = reacher(blobs, log);
  const live = new Set<string>();
  for (const hands of checkpointManifests(store).values())
    for (const manifests of hands.values()) for (const manifest of manifests) for (const hash of await reach(manifest)) live.add(hash);
  return live;
}

/** Removes the blobs no checkpoint of any existing session reaches (captures in progress keep theirs). */
export async function reclaimBlobs(
  store: SessionStore,
  blobs: BlobStore,
  log?: StorageServices['log'],
): Promise<{ bytes: number; blobs: number }> {
  const manifests = [...checkpointManifests(store).values()].flatMap((hands) => [...hands.values()].flatMap((set) => [...set]));
  const reach = reacher(blobs, log);
  return blobs.reclaim(manifests, reach);
}

interface DockerFigures {
  /** By session, by hand: snapshot image bytes and container bytes. */
  bySession: Map<string, Map<string, { images: number; containers: number }>>;
  images: number;
  containers: number;
  packageImages: number;
  packageImageBytes: number;
  /** A snapshot image's own bytes (what removing it frees), by image id. */
  imageBytes: Map<string, number>;
  /** Every image the engine reported. */
  all: DfImage[];
}

interface DfContainer {
  Id: string;
  Labels?: Record<string, string> | null;
  SizeRw?: number;
}

async function dockerFigures(engine: DockerEngine): Promise<DockerFigures> {
  const figures: DockerFigures = {
    bySession: new Map(),
    images: 0,
    containers: 0,
    packageImages: 0,
    packageImageBytes: 0,
    imageBytes: new Map(),
    all: [],
  };
  const df = (await engine.docker.df()) as { Images?: DfImage[] | null; Containers?: DfContainer[] | null };
  figures.all = df.Images ?? [];
  const slot = (labels: Record<string, string>): { images: number; containers: number } => {
    const session = labels[LABELS.session] ?? '';
    const hand = labels[LABELS.hand] ?? '';
    const hands = figures.bySession.get(session) ?? new Map<string, { images: number; containers: number }>();
    figures.bySession.set(session, hands);
    const entry = hands.get(hand) ?? { images: 0, containers: 0 };
    hands.set(hand, entry);
    return entry;
  };
  for (const image of df.Images ?? []) {
    const own = Math.max(0, image.Size - Math.max(0, image.SharedSize));
    const labels = image.Labels ?? {};
    if ((image.RepoTags ?? []).some((tag) => tag.startsWith(`${DERIVED_REPOSITORY}:`))) {
      figures.packageImages += 1;
      figures.packageImageBytes += image.Size;
      continue;
    }
    if (labels[LABELS.instance] !== engine.instance) continue;
    if (!(image.RepoTags ?? []).some((tag) => tag.startsWith(`${engine.snapshotRepository}:`))) continue;
    slot(labels).images += own;
    figures.imageBytes.set(image.Id, own);
    figures.images += own;
  }
  for (const container of df.Containers ?? []) {
    const labels = container.Labels ?? {};
    if (labels[LABELS.instance] !== engine.instance) continue;
    const size = container.SizeRw ?? 0;
    slot(labels).containers += size;
    figures.containers += size;
  }
  return figures;
}

/** Adds another engine's containers and snapshot images to `to`, per session and hand (its package images are not listed). */
function addFigures(to: DockerFigures, from: DockerFigures): void {
  for (const [session, hands] of from.bySession) {
    const mine = to.bySession.get(session) ?? new Map<string, { images: number; containers: number }>();
    to.bySession.set(session, mine);
    for (const [hand, figures] of hands) {
      const entry = mine.get(hand) ?? { images: 0, containers: 0 };
      mine.set(hand, { images: entry.images + figures.images, containers: entry.containers + figures.containers });
    }
  }
  to.images += from.images;
  to.containers += from.containers;
  for (const [id, bytes] of from.imageBytes) to.imageBytes.set(id, bytes);
}

/** How many of a session's own checkpoints retention thinned (0 for a session that is gone). */
function thinnedCount(store: SessionStore, sessionId: string, exists: boolean): number {
  if (!exists) return 0;
  return ownEvents(store, sessionId, ['hand.checkpoints_pruned']).reduce(
    (sum, event) => sum + (event.type === 'hand.checkpoints_pruned' ? event.payload.at_seqs.length : 0),
    0,
  );
}

async function sizeOf(blobs: BlobStore, hash: string): Promise<number | null> {
  const info = await stat(blobs.pathOf(hash)).catch(() => null);
  return info?.size ?? null;
}

/** Per session and per hand, totals, free disk and whether checkpoints are paused. */
export async function storageUsage({ store, blobs, engine, remotes, log }: StorageServices): Promise<StorageUsage> {
  const manifests = checkpointManifests(store);
  const reach = reacher(blobs, log);
  const sizes = new Map<string, number | null>();
  const size = async (hash: string): Promise<number> => {
    if (!sizes.has(hash)) sizes.set(hash, await sizeOf(blobs, hash));
    return sizes.get(hash) ?? 0;
  };
  // Which sessions reach each blob.
  const reachers = new Map<string, Set<string>>();
  const perSession = new Map<string, { all: Set<string>; hands: Map<string, { blobs: Set<string>; checkpoints: number }> }>();
  for (const [sessionId, hands] of manifests) {
    const all = new Set<string>();
    const handBlobs = new Map<string, { blobs: Set<string>; checkpoints: number }>();
    for (const [hand, ids] of hands) {
      const set = new Set<string>();
      for (const id of ids) for (const hash of await reach(id)) set.add(hash);
      handBlobs.set(hand, { blobs: set, checkpoints: ids.size });
      for (const hash of set) all.add(hash);
    }
    for (const hash of all) {
      const sessions = reachers.get(hash) ?? new Set<string>();
      sessions.add(sessionId);
      reachers.set(hash, sessions);
    }
    perSession.set(sessionId, { all, hands: handBlobs });
  }
  let dockerUnavailable = await engine.unavailableReason();
  let docker: DockerFigures = {
    bySession: new Map(),
    images: 0,
    containers: 0,
    packageImages: 0,
    packageImageBytes: 0,
    imageBytes: new Map(),
    all: [],
  };
  let packageImages: PackageImageRow[] = [];
  if (dockerUnavailable === null) {
    try {
      docker = await dockerFigures(engine);
      packageImages = await listPackageImages(engine, store, docker.all, log);
    } catch (error) {
      dockerUnavailable = `Docker did not answer how much it stores (${error instanceof Error ? error.message : String(error)}); try again.`;
    }
  }
  for (const remote of remotes?.() ?? []) {
    await dockerFigures(remote).then(
      (far) => addFigures(docker, far),
      (error: unknown) => log?.('A Docker engine of another machine did not answer how much it stores', error),
    );
  }
  const titles = new Map(store.listSessions().map((session) => [session.id, session.title]));
  const sessions: SessionStorage[] = [];
  for (const sessionId of new Set([...perSession.keys(), ...docker.bySession.keys()])) {
    const own = perSession.get(sessionId);
    const dockerHands = docker.bySession.get(sessionId) ?? new Map<string, { images: number; containers: number }>();
    let checkpointBytes = 0;
    let sharedBytes = 0;
    for (const hash of own?.all ?? []) {
      const bytes = await size(hash);
      checkpointBytes += bytes;
      if ((reachers.get(hash)?.size ?? 0) > 1) sharedBytes += bytes;
    }
    const hands = [];
    for (const hand of new Set([...(own?.hands.keys() ?? []), ...dockerHands.keys()])) {
      let handBytes = 0;
      for (const hash of own?.hands.get(hand)?.blobs ?? []) handBytes += await size(hash);
      const figures = dockerHands.get(hand) ?? { images: 0, containers: 0 };
      hands.push({
        hand,
        checkpointBytes: handBytes,
        checkpoints: own?.hands.get(hand)?.checkpoints ?? 0,
        imageBytes: figures.images,
        containerBytes: figures.containers,
      });
    }
    const imageBytes = hands.reduce((sum, hand) => sum + hand.imageBytes, 0);
    const containerBytes = hands.reduce((sum, hand) => sum + hand.containerBytes, 0);
    const totalBytes = checkpointBytes + imageBytes + containerBytes;
    if (totalBytes === 0 && own === undefined) continue;
    sessions.push({
      sessionId,
      title: titles.get(sessionId) ?? null,
      checkpointBytes,
      sharedBytes,
      imageBytes,
      containerBytes,
      totalBytes,
      capPaused: capPaused(store.dataDir, sessionId),
      thinned: { checkpoints: thinnedCount(store, sessionId, titles.has(sessionId)) },
      hands: hands.sort(
        (a, b) => b.checkpointBytes + b.imageBytes + b.containerBytes - (a.checkpointBytes + a.imageBytes + a.containerBytes),
      ),
    });
  }
  sessions.sort((a, b) => b.totalBytes - a.totalBytes || a.sessionId.localeCompare(b.sessionId));
  const stats = await blobs.stats();
  let reachable = 0;
  for (const hash of reachers.keys()) reachable += await size(hash);
  const disk = await diskOf(store.dataDir);
  const threshold = readThreshold(store.dataDir);
  return {
    sessions,
    totals: {
      checkpointBytes: stats.bytes,
      checkpointBlobs: stats.blobs,
      unreachableBytes: Math.max(0, stats.bytes - reachable),
      imageBytes: docker.images,
      containerBytes: docker.containers,
      packageImageBytes: docker.packageImageBytes,
      packageImages: docker.packageImages,
    },
    packageImages: packageImages.map(({ tag, bytes, inUse, needed }) => ({ tag, bytes, inUse, needed })),
    limits: readLimits(store.dataDir),
    disk,
    threshold,
    checkpointsPaused: pausedReason(disk, threshold),
    dockerUnavailable,
  };
}

/** Removes unreachable blobs, and snapshot images and containers of sessions that no longer exist; what was freed. */
export async function reclaimStorage({ store, blobs, engine, settled, packageImages, log }: StorageServices): Promise<StorageReclaim> {
  await settled?.();
  const swept = await reclaimBlobs(store, blobs, log);
  let freedBytes = swept.bytes;
  let images = 0;
  let containers = 0;
  let packaged = 0;
  if ((await engine.unavailableReason()) === null) {
    const sessions = new Set(store.listSessions().map((session) => session.id));
    const docker = await dockerFigures(engine);
    const gone = (labels: Record<string, string> | undefined): boolean => !sessions.has(labels?.[LABELS.session] ?? '');
    const filters = { label: [`${LABELS.instance}=${engine.instance}`] };
    for (const info of await engine.docker.listContainers({ all: true, filters })) {
      if (!gone(info.Labels)) continue;
      const size = docker.bySession.get(info.Labels[LABELS.session] ?? '')?.get(info.Labels[LABELS.hand] ?? '')?.containers ?? 0;
      await removed(engine.docker.getContainer(info.Id).remove({ force: true, v: true }), log, `container ${info.Id.slice(0, 12)}`).then(
        (ok) => {
          if (!ok) return;
          containers += 1;
          freedBytes += size;
        },
      );
    }
    for (const info of await engine.docker.listImages({ filters: { ...filters, reference: [engine.snapshotRepository] } })) {
      if (!gone(info.Labels ?? undefined)) continue;
      const own = docker.imageBytes.get(info.Id) ?? 0;
      let all = true;
      for (const tag of info.RepoTags ?? []) all = (await removed(engine.docker.getImage(tag).remove(), log, `snapshot ${tag}`)) && all;
      if (all) {
        images += 1;
        freedBytes += own;
      }
    }
    // After the containers of deleted sessions: a package image only they used is free now.
    const unused = await reclaimPackageImages(engine, store, { ...packageImages, ...(log ? { log } : {}) });
    packaged = unused.images;
    images += unused.images;
    freedBytes += unused.bytes;
  }
  return { freedBytes, blobs: swept.blobs, images, containers, packageImages: packaged };
}

async function removed(work: Promise<unknown>, log: StorageServices['log'], what: string): Promise<boolean> {
  try {
    await work;
    return true;
  } catch (error) {
    log?.(`Could not remove ${what}`, error);
    return false;
  }
}
