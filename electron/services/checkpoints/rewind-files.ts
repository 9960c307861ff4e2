/**
 * Rewinding one side only (issue 20, "Rewind to here" with a choice), recorded in the log as a
 * `hand.checkpoint` with `rewind` so forks inherit it and a wake derives the hand's files from it:
 *
 * - keep 'conversation' (the conversation goes back, the files stay as they are now): after the
 *   rewind's new branch exists, each Docker hand it shares with the branch it left gets that
 *   branch's latest checkpoint recorded in the new branch — the registry's restore source (the
 *   branch's own latest checkpoint) is then those files.
 * - keep 'files' (the conversation stays, the files go back to event N): each Docker hand whose
 *   files at N differ from now is restored in place (its running container), captured, and the
 *   capture recorded. Nothing is written until every such hand has been checked (a running
 *   container, the same image as at N); a refusal changes nothing.
 *
 * SSH hands with checkpoints are treated alike: their working folder is kept ('conversation') or
 * restored in place ('files', ssh-rewind.ts); SSH hands with turn-end snapshots only and MCP
 * servers keep their files whatever the choice.
 */
import type Docker from 'dockerode';
import { AppError } from '#shared/errors';
import type { NewEvent, StoredEvent } from '#shared/events';
import type { HandStatus } from '#shared/hands';
import type { DockerEngine } from '#services/hands/docker/engine';
import type { SessionStore } from '#services/session/store';
import type { BlobStore } from './blob-store.ts';
import { checkpointAt, type FoundCheckpoint } from './changes.ts';
import { scopeOf, type ContainerScope } from './container-io.ts';
import { captureContainer } from './docker-capture.ts';
import { restoreContainer } from './docker-restore.ts';
import type { Checkpoint, Manifest } from './manifest.ts';
import type { SshFolderAccess } from './ssh-restore.ts';
import { planSshRewind, type SshRewindPlan } from './ssh-rewind.ts';

export type RewindKeep = 'both' | 'conversation' | 'files';

export interface RewindFilesServices {
  store: SessionStore;
  blobs: BlobStore;
  engine: DockerEngine;
  /** A Docker hand's own engine when it may be another machine's (HandRegistry.handEngine, issue 22); default `engine`. */
  engineOf?(sessionId: string, hand: string): DockerEngine;
  /** The session's hands and their running containers (HandRegistry.statuses). */
  statuses(sessionId: string): HandStatus[];
  /** Waits for checkpoints in progress (HandRegistry.settled). */
  settled(): Promise<void>;
  /** A live SSH hand's folder (HandRegistry.sshHand); absent: SSH hands' files are not rewound in place. */
  sshHand?(sessionId: string, name: string): SshFolderAccess | null;
}

type CheckpointEvent = Extract<StoredEvent, { type: 'hand.checkpoint' }>;
type CheckpointPayload = CheckpointEvent['payload'];

const LATEST = Number.MAX_SAFE_INTEGER;

/** The recorded event behind a found checkpoint (its clock and parent are in the payload only). */
function payloadOf(store: SessionStore, found: FoundCheckpoint): CheckpointPayload {
  const [event] = store.getEvents(found.sessionId, {
    types: ['hand.checkpoint'],
    afterSeq: found.seq - 1,
    beforeSeq: found.seq + 1,
    limit: 1,
  });
  if (event?.type !== 'hand.checkpoint') throw new Error(`checkpoint event ${found.seq} of ${found.sessionId} is missing`);
  return event.payload;
}

/**
 * keep 'conversation': records in `branchId` (a rewind of `fromId`) the latest checkpoint of every
 * Docker hand the two share (same attachment), where it differs from the files at the rewind point.
 * Returns the hands whose files were kept.
 */
export async function keepFilesInBranch(services: RewindFilesServices, fromId: string, branchId: string): Promise<string[]> {
  const { store } = services;
  await services.settled(); // the left branch's last checkpoint may still be in progress
  const left = new Map(services.statuses(fromId).map((status) => [status.name, status]));
  const events: NewEvent[] = [];
  const kept: string[] = [];
  let next = store.getSession(branchId).lastSeq + 1;
  for (const hand of services.statuses(branchId)) {
    const before = left.get(hand.name);
    if ((hand.kind !== 'docker' && hand.kind !== 'ssh') || before?.attachedSeq !== hand.attachedSeq) continue;
    const latest = checkpointAt(store, fromId, hand.name, LATEST);
    if (latest === null || latest.atSeq <= (hand.attachedSeq ?? 0)) continue;
    const atPoint = checkpointAt(store, branchId, hand.name, LATEST);
    if (atPoint?.manifest === latest.manifest) continue;
    const payload = payloadOf(store, latest);
    events.push({
      type: 'hand.checkpoint',
      payload: {
        hand_id: hand.name,
        at_seq: next++,
        manifest: payload.manifest,
        parent: atPoint?.manifest ?? null,
        base: payload.base,
        captured_at: payload.captured_at,
        changed_paths: 0,
        bytes_stored: 0,
        duration_ms: 0,
        rewind: { keep: 'conversation', session_id: latest.sessionId, at_seq: latest.atSeq },
      },
    });
    kept.push(hand.name);
  }
  // One event per hand, each at its own seq (assigned in this same call, in order).
  if (events.length > 0) store.emitEvents(branchId, events);
  return kept;
}

interface FilesPlan {
  name: string;
  engine: DockerEngine;
  container: Docker.Container;
  scope: ContainerScope;
  target: FoundCheckpoint | null;
  latest: FoundCheckpoint | null;
}

/**
 * keep 'files': puts every Docker hand's files back as they were at event `atSeq` of the session's
 * view, in its running container, and records the result. The caller refuses while a turn runs.
 * Returns a sentence on what happened to each hand.
 */
export async function rewindFilesInPlace(services: RewindFilesServices, sessionId: string, atSeq: number): Promise<string[]> {
  const { store } = services;
  const session = store.getSession(sessionId);
  if (atSeq > session.lastSeq) {
    throw new AppError(
      'invalid-argument',
      `This session's last event is ${session.lastSeq}, so there is no event ${atSeq} to rewind the files to.`,
    );
  }
  await services.settled();
  const notes: string[] = [];
  const plans: FilesPlan[] = [];
  const sshPlans: SshRewindPlan[] = [];
  // Check every hand first: a refusal leaves every container and the log as they were.
  for (const hand of services.statuses(sessionId)) {
    if (hand.kind === 'ssh' && services.sshHand) {
      const plan = planSshRewind(store, sessionId, hand.name, atSeq, services.sshHand(sessionId, hand.name));
      if (typeof plan === 'string') notes.push(plan);
      else sshPlans.push(plan);
      continue;
    }
    if (hand.kind !== 'docker') {
      notes.push(`${hand.name} is ${hand.kind === 'ssh' ? 'an SSH machine' : 'an MCP server'}: its files are not rewound.`);
      continue;
    }
    const target = checkpointAt(store, sessionId, hand.name, atSeq);
    const latest = checkpointAt(store, sessionId, hand.name, LATEST);
    if (target?.manifest === latest?.manifest) {
      notes.push(`${hand.name}'s files already are as at event ${atSeq}.`);
      continue;
    }
    if (hand.container === null) {
      throw new AppError(
        'conflict',
        `${hand.name} has no running container now, so its files cannot be put back in place; send a message so it starts, then rewind the files again — or rewind "Conversation and files" to event ${atSeq}.`,
      );
    }
    const engine = services.engineOf?.(sessionId, hand.name) ?? services.engine;
    const container = engine.docker.getContainer(hand.container);
    const scope = await scopeOf(engine, container);
    if (target && target.base !== scope.image) {
      throw new AppError(
        'conflict',
        `At event ${atSeq} ${hand.name} ran another image (${target.base.slice(7, 19)}) than its container now (${scope.image.slice(7, 19)}), so its files cannot be put back in place; rewind "Conversation and files" to event ${atSeq} instead.`,
      );
    }
    plans.push({ name: hand.name, engine, container, scope, target, latest });
  }
  for (const plan of plans) notes.push(await restoreHand(services, sessionId, atSeq, plan));
  for (const plan of sshPlans) notes.push(await plan.run());
  return notes;
}

async function restoreHand(services: RewindFilesServices, sessionId: string, atSeq: number, plan: FilesPlan): Promise<string> {
  const { store, blobs } = services;
  const { engine, container, scope, target, latest } = plan;
  const recorded = latest !== null && latest.base === scope.image ? payloadOf(store, latest) : null;
  const previous: Checkpoint | null = recorded
    ? { manifest: recorded.manifest, parent: recorded.parent, captured_at: recorded.captured_at }
    : null;
  try {
    // What the container holds now, exactly (a change no capture took yet included), then the way back from it.
    const now = await captureContainer({ engine, blobs, container, previous, scope });
    const goal: string | Manifest = target ? target.manifest : { version: 1, base: scope.image, entries: [] };
    await restoreContainer({ engine, blobs, container, target: goal, current: now.manifest });
    const after = await captureContainer({ engine, blobs, container, previous: now.checkpoint, scope });
    store.emitEvent(sessionId, {
      type: 'hand.checkpoint',
      payload: {
        hand_id: plan.name,
        // Its own seq (the next one): a fork or rewind before it does not get the rewound files.
        at_seq: store.getSession(sessionId).lastSeq + 1,
        manifest: after.checkpoint.manifest,
        parent: latest?.manifest ?? null,
        base: scope.image,
        captured_at: after.checkpoint.captured_at,
        changed_paths: after.stats.changed_paths,
        bytes_stored: after.stats.bytes_stored,
        duration_ms: after.stats.duration_ms,
        rewind: { keep: 'files', session_id: target?.sessionId ?? sessionId, at_seq: atSeq },
      },
    });
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError(
      'conflict',
      `Could not put ${plan.name}'s files back as at event ${atSeq}: ${error instanceof Error ? error.message : String(error)}. Its container may be partly restored; rewind "Conversation and files" to event ${atSeq} to start it afresh from that point.`,
      { cause: error },
    );
  }
  const where = target ? `event ${target.atSeq}'s checkpoint` : "the hand's image (no checkpoint at or before it)";
  return `${plan.name}'s files are back as at event ${atSeq} (from ${where}).`;
}
