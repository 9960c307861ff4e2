/**
 * One-file restore (issue 20): puts one path of a hand's live container back as it was at event N
 * of the session's view (its checkpoint then, or the image when there was none), then captures the
 * container and records a `hand.checkpoint`, so the log says what the files are now: the changes
 * view, forks and rewinds after it see the restored file. The restore is recorded as that
 * checkpoint only (no event of its own: what the user did is visible as a change of that one path
 * at that point of the log).
 */
import type Docker from 'dockerode';
import { AppError } from '#shared/errors';
import type { RestoredFile } from '#shared/changes';
import type { StoredEvent } from '#shared/events';
import type { DockerEngine } from '#services/hands/docker/engine';
import type { SessionStore } from '#services/session/store';
import type { BlobStore } from './blob-store.ts';
import { checkpointAt } from './changes.ts';
import { scopeOf } from './container-io.ts';
import { captureContainer } from './docker-capture.ts';
import { restoreFile } from './docker-restore.ts';
import type { Checkpoint, Manifest } from './manifest.ts';

export interface RestoreFileRequest {
  store: SessionStore;
  blobs: BlobStore;
  engine: DockerEngine;
  /** The hand's running container. */
  container: Docker.Container;
  sessionId: string;
  hand: string;
  path: string;
  atSeq: number;
}

/** The latest checkpoint of `hand` in the session's view taken over `image` (the one a capture continues from). */
function latestCheckpoint(store: SessionStore, sessionId: string, hand: string, image: string): Checkpoint | null {
  const found = checkpointAt(store, sessionId, hand, Number.MAX_SAFE_INTEGER);
  if (found === null || found.base !== image) return null;
  const events = store.getEvents(found.sessionId, {
    types: ['hand.checkpoint'],
    afterSeq: found.seq - 1,
    beforeSeq: found.seq + 1,
    limit: 1,
  });
  const event = events[0] as Extract<StoredEvent, { type: 'hand.checkpoint' }> | undefined;
  if (!event) return null;
  return { manifest: event.payload.manifest, parent: event.payload.parent, captured_at: event.payload.captured_at };
}

export async function restoreFileAt(request: RestoreFileRequest): Promise<RestoredFile> {
  const { store, blobs, engine, container, sessionId, hand, atSeq } = request;
  const path = request.path.replace(/\/+$/, '');
  const session = store.getSession(sessionId);
  if (atSeq > session.lastSeq) {
    throw new AppError(
      'invalid-argument',
      `This session's last event is ${session.lastSeq}, so there is no event ${atSeq} to restore from.`,
    );
  }
  const scope = await scopeOf(engine, container);
  const from = checkpointAt(store, sessionId, hand, atSeq);
  if (from && from.base !== scope.image) {
    throw new AppError(
      'conflict',
      `At event ${atSeq} the hand ${hand} ran another image (${from.base.slice(7, 19)}) than its container now (${scope.image.slice(7, 19)}), so one file cannot be put back; fork or rewind at event ${atSeq} instead.`,
    );
  }
  const target: string | Manifest = from ? from.manifest : { version: 1, base: scope.image, entries: [] };
  try {
    await restoreFile({ engine, blobs, container, target, path });
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('conflict', `Could not restore ${path}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const previous = latestCheckpoint(store, sessionId, hand, scope.image);
  const capture = await captureContainer({ engine, blobs, container, previous, scope });
  const where = from ? `event ${from.atSeq}'s checkpoint` : "the hand's image (no checkpoint at or before it)";
  if (previous !== null && capture.checkpoint.manifest === previous.manifest) {
    return {
      path,
      from: strip(from),
      checkpointSeq: null,
      summary: `${path} already was as at event ${atSeq} (from ${where}); nothing changed.`,
    };
  }
  const [recorded] = store.emitEvents(sessionId, [
    {
      type: 'hand.checkpoint',
      payload: {
        hand_id: hand,
        // Its own seq (assigned in this same tick): a fork or rewind before the restore does not get the restored file.
        at_seq: store.getSession(sessionId).lastSeq + 1,
        manifest: capture.checkpoint.manifest,
        parent: previous?.manifest ?? null,
        base: scope.image,
        captured_at: capture.checkpoint.captured_at,
        changed_paths: capture.stats.changed_paths,
        bytes_stored: capture.stats.bytes_stored,
        duration_ms: capture.stats.duration_ms,
      },
    },
  ]);
  return {
    path,
    from: strip(from),
    checkpointSeq: recorded?.seq ?? null,
    summary: `${path} is back as it was at event ${atSeq} (from ${where}).`,
  };
}

function strip(found: ReturnType<typeof checkpointAt>): RestoredFile['from'] {
  return found === null ? null : { sessionId: found.sessionId, seq: found.seq, atSeq: found.atSeq, manifest: found.manifest };
}
