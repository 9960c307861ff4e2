/**
 * Checkpoints wired to Docker hands (issue 20): after each tool call that can change files, the
 * hand's container is captured (docker-capture.ts, against the hand's previous checkpoint) and
 * recorded as `hand.checkpoint` at the seq of the tool's result; a fork or rewind at event N starts
 * the hand from the checkpoint's image with the last checkpoint at or before N restored into it.
 *
 * What is captured is the container's whole difference from its image, so any one checkpoint is
 * enough to restore (the blobs of earlier ones are shared, not needed as layers). A capture that
 * fails is logged and recorded nowhere: the tool's result stands, and the next capture (it diffs
 * against the last checkpoint that was recorded) takes the change too — as after a crash between
 * a tool's result and its checkpoint. Until then a fork at that result restores the checkpoint
 * before it (the log says which: `hand.ready.restored_from`).
 *
 * Logs from before checkpoints (or imported ones) have only `hand.snapshot` images: the source a
 * container starts from is the latest of either kind on the fork path.
 */
import path from 'node:path';
import type Docker from 'dockerode';
import type { StoredEvent } from '#shared/events';
import type { DockerEngine } from '#services/hands/docker/engine';
import type { SessionStore } from '#services/session/store';
import { BlobPrefetch } from './blob-prefetch.ts';
import type { BlobHold, BlobStore } from './blob-store.ts';
import { closeCaptureHelper } from './capture-shell.ts';
import { scopeOf, type ContainerScope } from './container-io.ts';
import { captureContainer } from './docker-capture.ts';
import { restoreContainer } from './docker-restore.ts';
import type { Checkpoint } from './manifest.ts';
import { prunedIn, prunedKey } from './retention-log.ts';
import { checkpointsPaused } from './storage-disk.ts';

/** A snapshot image (the turn-end `docker commit` of older logs) a new container starts from. */
export interface SnapshotSource {
  kind?: 'snapshot';
  image: string;
  sessionId: string;
  atSeq: number;
}

/** A checkpoint a new container starts from: made from `base` (an image id), then restored. */
export interface CheckpointSource {
  kind: 'checkpoint';
  /** The image id the checkpoint is laid over. */
  image: string;
  sessionId: string;
  atSeq: number;
  checkpoint: Checkpoint;
}

export type RestoreSource = SnapshotSource | CheckpointSource;

type SnapshotEvent = Extract<StoredEvent, { type: 'hand.snapshot' }>;
type CheckpointEvent = Extract<StoredEvent, { type: 'hand.checkpoint' }>;

/**
 * Where a new container of a hand starts: the latest `hand.checkpoint` or `hand.snapshot` of the
 * session itself, else the latest its parent recorded at or before the fork point (and so on up),
 * never one older than the hand's attachment. Imported events are never a source (their images and
 * manifests are someone else's). `upTo`: none recorded at a later event (a thread's copy starts from
 * the original as it was when the copy was granted).
 */
export function findRestoreSource(
  store: SessionStore,
  sessionId: string,
  name: string,
  attachedSeq: number,
  upTo = Number.POSITIVE_INFINITY,
): RestoreSource | null {
  let session = store.getSession(sessionId);
  let limit = upTo;
  for (;;) {
    const afterSeq = Math.max(session.forkSeq ?? 0, session.importedSeq ?? 0);
    const own = store.getEvents(session.id, {
      types: ['hand.snapshot', 'hand.checkpoint', 'hand.checkpoints_pruned'],
      afterSeq,
      direction: 'backward',
      limit: 10_000,
    });
    const pruned = prunedIn(own); // thinned by storage retention: the nearest kept earlier one restores instead
    let best: SnapshotEvent | CheckpointEvent | null = null;
    for (const event of own) {
      if (event.type !== 'hand.snapshot' && event.type !== 'hand.checkpoint') continue;
      const at = event.payload.at_seq;
      if (event.payload.hand_id !== name || at > limit || at <= attachedSeq) continue;
      if (event.type === 'hand.checkpoint' && pruned.has(prunedKey(name, at))) continue;
      // The later position wins; at the same position a checkpoint (exact) over a snapshot.
      if (!best || at > best.payload.at_seq || (at === best.payload.at_seq && event.type === 'hand.checkpoint')) best = event;
    }
    if (best?.type === 'hand.checkpoint') {
      const { manifest, parent, captured_at, base } = best.payload;
      return {
        kind: 'checkpoint',
        image: base,
        sessionId: session.id,
        atSeq: best.payload.at_seq,
        checkpoint: { manifest, parent, captured_at },
      };
    }
    if (best?.type === 'hand.snapshot')
      return { kind: 'snapshot', image: best.payload.image, sessionId: session.id, atSeq: best.payload.at_seq };
    if (session.parentId === null || session.forkSeq === null) return null;
    limit = Math.min(limit, session.forkSeq);
    if (limit <= attachedSeq) return null;
    session = store.getSession(session.parentId);
  }
}

/**
 * The last checkpoint a kept container (reused after Drover restarted) took: recorded in this
 * session after the `hand.ready` that announced that container, of its image. Null: none (the next
 * capture reads every changed file once).
 */
export function keptCheckpoint(store: SessionStore, sessionId: string, name: string, container: string, image: string): Checkpoint | null {
  // Never an imported event: its manifest and clock are someone else's.
  const afterSeq = store.getSession(sessionId).importedSeq ?? 0;
  const events = store.getEvents(sessionId, { types: ['hand.ready', 'hand.checkpoint'], afterSeq, direction: 'backward', limit: 10_000 });
  for (const event of events) {
    if (event.type === 'hand.ready' && event.payload.hand_id === name) {
      if (event.payload.container !== container) return null;
    }
    if (event.type === 'hand.checkpoint' && event.payload.hand_id === name && event.payload.base === image) {
      const { manifest, parent, captured_at } = event.payload;
      return { manifest, parent, captured_at };
    }
  }
  return null;
}

export interface HandCheckpointHooks {
  record(event: { type: 'hand.checkpoint'; payload: Extract<StoredEvent, { type: 'hand.checkpoint' }>['payload'] }): void;
  log(message: string, error?: unknown): void;
}

/** One Docker hand's checkpoints: what its current container's last checkpoint is, and whether a tool changed files since. */
export class HandCheckpoints {
  /** The last checkpoint of the current container (null: none yet, its files are the image's plus what happened since it started). */
  private previous: Checkpoint | null = null;
  /** A tool that can change files ran since the last capture. */
  private uncaptured = false;
  private containerId: string | null = null;
  /** The current container's image and excluded paths (they never change while it runs). */
  private scope: ContainerScope | null = null;
  /**
   * A fresh container's files before its first tool, when Drover put some there (the repositories
   * it cloned in): the hand's `previous`, unrecorded — so the first tool's checkpoint counts only
   * what the tool changed — its blobs held until a recorded checkpoint names them.
   */
  private startFiles: BlobHold | null = null;
  /** The scope a restore read of the container it restored into (kept for that container's captures). */
  private restoredScope: { container: string; scope: ContainerScope } | null = null;

  constructor(
    private readonly engine: DockerEngine,
    private readonly blobs: BlobStore,
    private readonly hand: { sessionId: string; name: string },
    private readonly hooks: HandCheckpointHooks,
  ) {}

  /** A container started: fresh from its image (null), restored from a checkpoint, or kept with its last one. */
  started(container: Docker.Container, previous: Checkpoint | null, changed: boolean): void {
    if (this.containerId !== null && this.containerId !== container.id) closeCaptureHelper(this.containerId);
    this.containerId = container.id;
    this.scope = this.restoredScope?.container === container.id ? this.restoredScope.scope : null;
    this.restoredScope = null;
    this.previous = previous;
    this.uncaptured = changed;
    this.dropStartFiles();
  }

  /**
   * Takes a fresh container's files before its first tool as the hand's previous checkpoint (not
   * recorded): for one Drover put files in (cloned repositories), so they are not counted as the
   * first tool's changes. A failure is logged: the first capture then counts from the image.
   */
  async baseline(container: Docker.Container): Promise<void> {
    if (this.containerId !== container.id || this.previous !== null) return;
    const hold = this.blobs.hold();
    try {
      const scope = (this.scope ??= await scopeOf(this.engine, container));
      const taken = await captureContainer({ engine: this.engine, blobs: this.blobs, container, previous: null, scope, hold });
      if (taken.manifest.entries.length === 0 || this.containerId !== container.id) {
        hold.release();
        return;
      }
      this.previous = taken.checkpoint;
      this.startFiles = hold;
    } catch (error) {
      hold.release();
      this.hooks.log(`Hand ${this.hand.name} of session ${this.hand.sessionId}: reading the new container's files failed`, error);
    }
  }

  private dropStartFiles(): void {
    this.startFiles?.release();
    this.startFiles = null;
  }

  /** A tool that can change files is running or ran. */
  changed(): void {
    this.uncaptured = true;
  }

  /** The container is gone or let go: its helper shell is closed. */
  stopped(): void {
    this.dropStartFiles();
    if (this.containerId !== null) closeCaptureHelper(this.containerId);
    this.containerId = null;
    this.scope = null;
    this.previous = null;
    this.uncaptured = false;
  }

  /** Begins reading a checkpoint's blobs before its container exists (blob-prefetch.ts); `restore` takes them. */
  prefetch(source: CheckpointSource): BlobPrefetch {
    return new BlobPrefetch(this.blobs, source.checkpoint.manifest);
  }

  /** The container's scope, read while it is created but not yet started (its mounts and image are set at creation). */
  scopeOf(container: Docker.Container): Promise<ContainerScope> {
    return scopeOf(this.engine, container);
  }

  /**
   * Restores a checkpoint into a container fresh from its image; `prefetch`: its blobs read ahead
   * (closed here), `scope`: the container's, read already (kept for its captures).
   */
  async restore(
    container: Docker.Container,
    source: CheckpointSource,
    signal?: AbortSignal,
    ahead: { prefetch?: BlobPrefetch; scope?: Promise<ContainerScope> } = {},
  ): Promise<void> {
    try {
      const scope = await (ahead.scope ?? scopeOf(this.engine, container));
      this.restoredScope = { container: container.id, scope };
      await restoreContainer({
        engine: this.engine,
        blobs: this.blobs,
        container,
        target: source.checkpoint.manifest,
        current: null,
        scope,
        ...(ahead.prefetch ? { source: ahead.prefetch } : {}),
        ...(signal ? { signal } : {}),
      });
    } finally {
      ahead.prefetch?.close();
    }
  }

  /**
   * Captures the container after the tool call answered by event `atSeq`, when a tool changed
   * files since the last capture; records `hand.checkpoint` unless nothing changed. True when the
   * files are now checkpointed (recorded, or the same as the last checkpoint); false when the
   * capture failed (logged; the next one takes the change).
   */
  async capture(container: Docker.Container, atSeq: number): Promise<boolean> {
    if (!this.uncaptured) return true;
    // Low disk, or the session at its storage cap (storage-disk.ts): nothing is captured or recorded, no snapshot either; the change stays for the next capture.
    if ((await checkpointsPaused(path.dirname(path.dirname(this.blobs.root)), this.hand.sessionId)) !== null) return true;
    const { sessionId, name } = this.hand;
    try {
      const scope = (this.scope ??= await scopeOf(this.engine, container));
      const { checkpoint, manifest, stats } = await captureContainer({
        engine: this.engine,
        blobs: this.blobs,
        container,
        previous: this.previous,
        scope,
      });
      this.uncaptured = false;
      const parent = this.previous;
      this.previous = checkpoint;
      // Nothing changed since the last checkpoint (or, in a fresh container, since the image): nothing to record.
      if (parent === null ? manifest.entries.length === 0 : parent.manifest === checkpoint.manifest) return true;
      // Recorded below: it names every blob the start's files had (the hold ends once the event is in).
      const startFiles = this.startFiles;
      this.startFiles = null;
      this.hooks.record({
        type: 'hand.checkpoint',
        payload: {
          hand_id: name,
          at_seq: atSeq,
          manifest: checkpoint.manifest,
          parent: parent?.manifest ?? null,
          base: scope.image,
          captured_at: checkpoint.captured_at,
          changed_paths: stats.changed_paths,
          bytes_stored: stats.bytes_stored,
          duration_ms: stats.duration_ms,
        },
      });
      startFiles?.release();
      return true;
    } catch (error) {
      // The tool's result stands; the next capture diffs against the last recorded checkpoint and takes this change too.
      this.hooks.log(`Hand ${name} of session ${sessionId}: checkpoint after event ${atSeq} failed`, error);
      return false;
    }
  }
}
