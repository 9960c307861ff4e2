/**
 * Checkpoints of an SSH hand's working folder (issue 20), the machine side of what
 * checkpoints/hand-checkpoints.ts is for Docker: after each tool call that can change files the
 * folder is captured (checkpoints/ssh-capture.ts, against the hand's previous checkpoint) and
 * recorded as `hand.checkpoint` at the seq of the tool's result, in the same local blob store and
 * manifest format as Docker's, so the changes view, diffs, one-file restore, storage and reclaim read
 * them alike. `base` is `ssh:user@host:port:/folder`.
 *
 * When the hand first connects: a fork's or rewind's hand whose restore source is another session's
 * checkpoint of this folder makes the folder exactly that tree (checkpoints/ssh-restore.ts; the
 * folder is on the user's machine and shared, so the session it was forked from then sees those
 * files too); a hand whose own session has a checkpoint continues from it (the next capture reads
 * whatever changed since, by ctime — a change made while Drover was down, or a tool answered but never
 * captured, included); a hand with neither takes a baseline: the whole folder, read once, recorded at
 * its own seq, so the first tool call's checkpoint shows only what that call changed.
 *
 * A capture that fails is logged and recorded nowhere; the next one (it diffs against the last one
 * recorded) takes the change too.
 */
import path from 'node:path';
import { AppError } from '#shared/errors';
import type { NewEvent, StoredEvent } from '#shared/events';
import type { BlobStore } from '#services/checkpoints/blob-store';
import type { RestoreSource } from '#services/checkpoints/hand-checkpoints';
import { loadManifest, type Checkpoint, type Manifest } from '#services/checkpoints/manifest';
import {
  captureFolder,
  sshBase,
  sshCheckpointsUnavailable,
  walkFolder,
  type RemoteExec,
  type SshCapture,
} from '#services/checkpoints/ssh-capture';
import { checkedPath, restoreFolder, restorePath, type SshFilesRestore } from '#services/checkpoints/ssh-restore';
import { checkpointsPaused } from '#services/checkpoints/storage-disk';
import { SerialQueue } from '#services/hands/shell-hand';

type CheckpointPayload = Extract<StoredEvent, { type: 'hand.checkpoint' }>['payload'];
export type { SshFilesRestore };

export interface SshCheckpointHooks {
  record(event: NewEvent): void;
  log(message: string, error?: unknown): void;
  /** The session's last seq now (a checkpoint recorded at once gets the next). */
  lastSeq(): number;
  /** Where this hand's files start from (the registry's restore source), or null. */
  restoreSource(): Promise<RestoreSource | null>;
}

/**
 * The largest working folder checkpointed: a first capture reads it whole (about a millisecond a file
 * here, mostly the blob store's writes). Larger ones (a home folder, say) keep turn-end shadow-git
 * snapshots, which skip what .gitignore excludes.
 */
export const SSH_CHECKPOINT_LIMITS = { maxPaths: 20_000, maxBytes: 2 ** 30 };

export class SshCheckpoints {
  private folder: string | null = null;
  /** The current connection's exec (each connection has its own). */
  private exec: RemoteExec | null = null;
  private previous: Checkpoint | null = null;
  private uncaptured = false;
  private readonly queue = new SerialQueue();

  constructor(
    private readonly blobs: BlobStore,
    private readonly hand: { sessionId: string; name: string; machine: string },
    private readonly hooks: SshCheckpointHooks,
    /** The largest folder a first capture reads whole (tests lower it). */
    private readonly limits: { maxPaths: number; maxBytes: number } = SSH_CHECKPOINT_LIMITS,
  ) {}

  /** What the `hand.checkpoint` events of this folder are laid over. */
  get base(): string | null {
    return this.folder === null ? null : sshBase(this.hand.machine, this.folder);
  }

  get active(): boolean {
    return this.folder !== null;
  }

  /** Why the machine cannot take checkpoints (a tool missing), or null. */
  unavailable(exec: RemoteExec, signal?: AbortSignal): Promise<string | null> {
    return sshCheckpointsUnavailable(exec, signal);
  }

  /**
   * Once per hand, at its first connection: restores a fork's files, continues from the session's
   * own last checkpoint, or takes a baseline. Returns a note for the user and the source restored.
   */
  prepare(
    exec: RemoteExec,
    folder: string,
    signal: AbortSignal,
  ): Promise<{ note: string | null; restored: { sessionId: string; atSeq: number } | null; declined?: string }> {
    return this.queue.run(async () => {
      this.exec = exec;
      if (this.folder !== null) return { note: null, restored: null };
      this.folder = folder;
      const base = sshBase(this.hand.machine, folder);
      const source = await this.hooks.restoreSource();
      let note: string | null = null;
      if (source?.kind === 'checkpoint' && source.image === base) {
        if (source.sessionId === this.hand.sessionId) {
          this.previous = source.checkpoint;
          this.uncaptured = true; // whatever changed while this hand was not connected is taken by the next capture
          return { note: null, restored: null };
        }
        try {
          const target = await loadManifest(this.blobs, source.checkpoint.manifest);
          const known = { manifest: target, captured_at: source.checkpoint.captured_at };
          const stats = await restoreFolder({ exec, blobs: this.blobs, folder, target, known, signal });
          this.previous = { ...source.checkpoint, captured_at: stats.clock };
          return {
            note: `Its working folder ${folder} was put back as it was at event ${source.atSeq} (${stats.written} path(s) written, ${stats.deleted} removed; nothing outside the folder is touched, and the session it was forked from now sees these files too).`,
            restored: { sessionId: source.sessionId, atSeq: source.atSeq },
          };
        } catch (error) {
          this.hooks.log(
            `Hand ${this.hand.name} of session ${this.hand.sessionId}: restoring event ${source.atSeq}'s checkpoint failed`,
            error,
          );
          note = `Its working folder could not be put back as it was at event ${source.atSeq} (${error instanceof Error ? error.message : String(error)}); it has the files it has now.`;
        }
      } else if (source?.kind === 'checkpoint') {
        note = `The files of event ${source.atSeq} were checkpointed in another folder or machine (${source.image.slice(4)}), so ${folder} keeps the files it has now.`;
      }
      // A first capture reads the whole folder: a folder too large for that (a home folder, say) is not checkpointed.
      const walk = await walkFolder(exec, folder, signal);
      let bytes = 0;
      for (const { stat } of walk.paths.values()) bytes += stat.type === 'file' ? stat.size : 0;
      if (walk.paths.size > this.limits.maxPaths || bytes > this.limits.maxBytes) {
        this.folder = null;
        const declined = `The working folder ${folder} holds ${walk.paths.size} paths and ${(bytes / 2 ** 30).toFixed(1)} GiB, more than Drover checkpoints after every tool call (${this.limits.maxPaths} paths, ${(this.limits.maxBytes / 2 ** 30).toFixed(1)} GiB); set a smaller working folder for this machine to have its files checkpointed.`;
        return { note, restored: null, declined };
      }
      await this.captureNow(this.hooks.lastSeq() + 1, true);
      return { note, restored: null };
    });
  }

  changed(): void {
    this.uncaptured = true;
  }

  /** After the tool call answered by `atSeq`: captures and records when a tool could have changed files. False: the capture failed. */
  capture(exec: RemoteExec, atSeq: number): Promise<boolean> {
    return this.queue.run(async () => {
      if (!this.uncaptured || this.folder === null) return true;
      this.exec = exec;
      return this.captureNow(atSeq, false);
    });
  }

  private async captureNow(atSeq: number, baseline: boolean, rewind?: CheckpointPayload['rewind']): Promise<boolean> {
    const { sessionId, name } = this.hand;
    const folder = this.folder;
    const exec = this.exec;
    if (folder === null || exec === null) return false;
    // Low disk, or the session at its storage cap (storage-disk.ts): nothing is captured or recorded; the change stays for the next capture.
    if ((await checkpointsPaused(path.dirname(path.dirname(this.blobs.root)), sessionId)) !== null) return true;
    let capture: SshCapture;
    try {
      capture = await captureFolder({ exec, blobs: this.blobs, folder, previous: this.previous });
    } catch (error) {
      this.hooks.log(
        `Hand ${name} of session ${sessionId}: ${baseline ? 'the baseline checkpoint' : `checkpoint after event ${atSeq}`} failed`,
        error,
      );
      return false;
    }
    this.uncaptured = false;
    const parent = this.previous;
    this.previous = capture.checkpoint;
    if (parent !== null && parent.manifest === capture.checkpoint.manifest && rewind === undefined) return true;
    this.hooks.record({
      type: 'hand.checkpoint',
      payload: {
        hand_id: name,
        at_seq: atSeq,
        manifest: capture.checkpoint.manifest,
        parent: parent?.manifest ?? null,
        base: sshBase(this.hand.machine, folder),
        captured_at: capture.checkpoint.captured_at,
        changed_paths: capture.stats.changed_paths,
        bytes_stored: capture.stats.bytes_stored,
        duration_ms: capture.stats.duration_ms,
        ...(rewind ? { rewind } : {}),
      },
    });
    return true;
  }

  /**
   * Puts the folder (or one path) back as `request.target` has it, then captures and records the
   * result at its own seq (so a fork or rewind before it does not get it). Returns whether the
   * files changed.
   */
  restore(request: SshFilesRestore): Promise<{ changed: boolean }> {
    return this.queue.run(async () => {
      const folder = this.folder;
      const exec = this.exec;
      if (folder === null || exec === null) {
        throw new AppError(
          'conflict',
          `${this.hand.name} is not connected with checkpoints on now; send a message so it connects, then restore again.`,
        );
      }
      if (request.path !== undefined) checkedPath(folder, request.path); // refused before anything is captured or written
      const target: Manifest =
        request.target === null ? { version: 1, base: null, entries: [] } : await loadManifest(this.blobs, request.target);
      // What the folder holds now, exactly (a change no capture took yet included): the restore writes only what differs from it.
      await this.captureNow(this.hooks.lastSeq() + 1, false);
      const before = this.previous;
      const current = before ? { manifest: await loadManifest(this.blobs, before.manifest), captured_at: before.captured_at } : null;
      if (request.path !== undefined) await restorePath({ exec, blobs: this.blobs, folder, target, path: request.path });
      else await restoreFolder({ exec, blobs: this.blobs, folder, target, known: current });
      this.uncaptured = true;
      await this.captureNow(this.hooks.lastSeq() + 1, false, request.rewind);
      return { changed: before?.manifest !== this.previous?.manifest };
    });
  }
}
