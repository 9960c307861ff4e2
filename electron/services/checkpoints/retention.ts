/**
 * Caps on checkpoint data and the retention rule (issue 20 item 5).
 *
 * Limits (storage-limits.ts: `storage-limits.json` in the data folder): a cap per session
 * (bytes its kept checkpoints reach, shared blobs included — the figure Settings → Storage shows),
 * an overall cap (every checkpoint blob on disk), and N, the turns whose every checkpoint is kept.
 *
 * The rule, for one session's own checkpoints (a fork's inherited ones are its parent's), per hand:
 * every checkpoint of the session's last N turns (a turn starts at a `user.message` of its view)
 * stays; before them, one per turn — the turn's last; and never a checkpoint a branch still needs:
 * the one a fork's hands restore from at its fork point (`checkpointAt(parent, hand, forkSeq)`),
 * or the one a `rewind` payload names. Thinning records `hand.checkpoints_pruned` (the log stays
 * append-only; a fork or rewind at a pruned checkpoint's event restores the nearest kept earlier
 * one, and `hand.ready.restored_from` names it), then reclaims the blobs nothing reaches any more.
 *
 * After each recorded checkpoint (`afterCheckpoint`, from the registry) the session is measured;
 * over its cap or the overall cap it is thinned; still over, its captures pause with a reason
 * (storage-disk.ts `setCapPause`) that Settings → Storage shows, re-checked at most every
 * RECHECK_MS when a capture is asked for, and whenever the limits change or thinning runs.
 */
import { stat } from 'node:fs/promises';
import type { StoredEvent } from '#shared/events';
import { formatBytes, type StorageLimits, type StorageThin } from '#shared/storage';
import type { SessionStore } from '#services/session/store';
import type { BlobStore } from './blob-store.ts';
import { blobsOf } from './manifest.ts';
import { checkpointAt, keptCheckpoints, ownEvents } from './retention-log.ts';
import { capPaused, setCapPause } from './storage-disk.ts';
import { readLimits } from './storage-limits.ts';
import { reclaimBlobs } from './storage.ts';

type CheckpointEvent = Extract<StoredEvent, { type: 'hand.checkpoint' }>;

export interface RetentionServices {
  store: SessionStore;
  /** The registry's blob store (its holds protect captures in progress). */
  blobs: BlobStore;
  log?: (message: string, error?: unknown) => void;
}

function exists(store: SessionStore, sessionId: string): boolean {
  try {
    store.getSession(sessionId);
    return true;
  } catch {
    return false;
  }
}

/** Keys `<session>/<hand>/<at_seq>` of the checkpoints of `sessionId` a branch still needs. */
function protectedCheckpoints(store: SessionStore, sessionId: string, hands: Set<string>): Set<string> {
  const keep = new Set<string>();
  const mark = (found: { sessionId: string; atSeq: number } | null, hand: string): void => {
    if (found?.sessionId === sessionId) keep.add(`${hand}/${found.atSeq}`);
  };
  for (const session of store.listSessions()) {
    // A fork's hands restore from its parent's view at the fork point.
    if (session.parentId !== null && session.forkSeq !== null)
      for (const hand of hands) mark(checkpointAt(store, session.parentId, hand, session.forkSeq), hand);
    // A rewind names a checkpoint (the files it kept or went back to).
    for (const event of ownEvents(store, session.id, ['hand.checkpoint'])) {
      if (event.type !== 'hand.checkpoint' || event.payload.rewind === undefined) continue;
      const { session_id: from, at_seq: at } = event.payload.rewind;
      if (hands.has(event.payload.hand_id) && exists(store, from))
        mark(checkpointAt(store, from, event.payload.hand_id, at), event.payload.hand_id);
    }
  }
  return keep;
}

/**
 * The checkpoints the rule thins in one session, by hand (oldest first): own kept checkpoints
 * older than its last `keepTurns` turns that are not their turn's last for their hand, and that no
 * branch needs.
 */
export function planThinning(store: SessionStore, sessionId: string, keepTurns: number): Map<string, CheckpointEvent[]> {
  const checkpoints = keptCheckpoints(store, sessionId);
  const plan = new Map<string, CheckpointEvent[]>();
  if (checkpoints.length === 0) return plan;
  const turns = store
    .getEvents(sessionId, { types: ['user.message'], limit: 1_000_000 })
    .map((event) => event.seq)
    .sort((a, b) => a - b);
  if (turns.length <= keepTurns) return plan;
  const recent = turns[turns.length - keepTurns] ?? 0;
  /** The turn an event belongs to: the seq of the last user message at or before it (0: before any). */
  const turnOf = (seq: number): number => {
    let low = 0;
    let high = turns.length - 1;
    let found = 0;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const start = turns[middle] ?? 0;
      if (start <= seq) {
        found = start;
        low = middle + 1;
      } else high = middle - 1;
    }
    return found;
  };
  // The last checkpoint of each (hand, turn).
  const last = new Map<string, number>();
  for (const event of checkpoints) {
    const key = `${event.payload.hand_id}/${turnOf(event.payload.at_seq)}`;
    last.set(key, Math.max(last.get(key) ?? 0, event.payload.at_seq));
  }
  const hands = new Set(checkpoints.map((event) => event.payload.hand_id));
  let needed: Set<string> | null = null;
  for (const event of checkpoints) {
    const { hand_id: hand, at_seq: at } = event.payload;
    if (at >= recent || last.get(`${hand}/${turnOf(at)}`) === at) continue;
    needed ??= protectedCheckpoints(store, sessionId, hands);
    if (needed.has(`${hand}/${at}`)) continue;
    const list = plan.get(hand) ?? [];
    list.push(event);
    plan.set(hand, list);
  }
  return plan;
}

/** Serialises thinning per data folder: two at once would record the same checkpoints twice. */
const queues = new Map<string, Promise<unknown>>();
function serial<T>(dataDir: string, work: () => Promise<T>): Promise<T> {
  const next = (queues.get(dataDir) ?? Promise.resolve()).then(work, work);
  const tail = next.catch(() => undefined);
  queues.set(dataDir, tail);
  void tail.then(() => {
    if (queues.get(dataDir) === tail) queues.delete(dataDir);
  });
  return next;
}

async function thinUnlocked(services: RetentionServices, sessionIds: string[], keepTurns: number, reason: string): Promise<StorageThin> {
  const { store, blobs, log } = services;
  let checkpoints = 0;
  let sessions = 0;
  for (const sessionId of sessionIds) {
    if (!exists(store, sessionId)) continue;
    const plan = planThinning(store, sessionId, keepTurns);
    if (plan.size === 0) continue;
    sessions += 1;
    for (const [hand, events] of plan) {
      store.emitEvent(sessionId, {
        type: 'hand.checkpoints_pruned',
        payload: {
          hand_id: hand,
          at_seqs: events.map((event) => event.payload.at_seq),
          manifests: events.map((event) => event.payload.manifest),
          reason,
        },
      });
      checkpoints += events.length;
    }
  }
  const freed = checkpoints > 0 ? await reclaimBlobs(store, blobs, log) : { bytes: 0, blobs: 0 };
  return { checkpoints, sessions, freedBytes: freed.bytes };
}

/** Thins these sessions (default: every session) by the rule with the limits' N; what was thinned and freed. */
export function thinCheckpoints(services: RetentionServices, sessionIds?: string[]): Promise<StorageThin> {
  const { store } = services;
  return serial(store.dataDir, async () => {
    const ids = sessionIds ?? store.listSessions().map((session) => session.id);
    const { keepTurns } = readLimits(store.dataDir);
    const result = await thinUnlocked(
      services,
      ids,
      keepTurns,
      `Thin old checkpoints (keep every checkpoint of the last ${keepTurns} turns, then one per turn)`,
    );
    for (const id of ids) if (capPaused(store.dataDir, id) !== null) await recheck(services, id);
    return result;
  });
}

/**
 * What a session's kept checkpoints reach, kept between checks (by blob folder and session): a check
 * after one more checkpoint reads only that checkpoint's manifest; after thinning (a manifest
 * gone) it is read again whole. Blobs never change once written, so a size once read stands.
 */
const reachCache = new Map<string, { manifests: Set<string>; sizes: Map<string, number> }>();

/** Bytes of the blob files a session's kept own checkpoints reach (shared blobs included). */
export async function sessionCheckpointBytes(store: SessionStore, blobs: BlobStore, sessionId: string): Promise<number> {
  const manifests = new Set(keptCheckpoints(store, sessionId).map((event) => event.payload.manifest));
  const key = `${blobs.root}\n${sessionId}`;
  let cached = reachCache.get(key);
  if (cached === undefined || [...cached.manifests].some((manifest) => !manifests.has(manifest))) {
    cached = { manifests: new Set(), sizes: new Map() };
    reachCache.set(key, cached);
  }
  for (const manifest of manifests) {
    if (cached.manifests.has(manifest)) continue;
    let reached: string[] = [];
    try {
      reached = await blobsOf(blobs, manifest);
    } catch {
      // A manifest whose blobs are gone counts for nothing.
    }
    for (const hash of reached) {
      if (cached.sizes.has(hash)) continue;
      const size = (await stat(blobs.pathOf(hash)).catch(() => null))?.size;
      if (size !== undefined) cached.sizes.set(hash, size);
    }
    cached.manifests.add(manifest);
  }
  let bytes = 0;
  for (const size of cached.sizes.values()) bytes += size;
  return bytes;
}

/** Forgets a session's cached reach (deleted, or measured from scratch next time). */
export function forgetSession(blobs: BlobStore, sessionId: string): void {
  reachCache.delete(`${blobs.root}\n${sessionId}`);
}

/** Why this session is over a cap now (null: under both, or no caps). */
async function overCap(services: RetentionServices, sessionId: string, limits: StorageLimits): Promise<string | null> {
  const { store, blobs } = services;
  if (limits.sessionCapBytes !== null) {
    const bytes = await sessionCheckpointBytes(store, blobs, sessionId);
    if (bytes > limits.sessionCapBytes)
      return `its checkpoint data is ${formatBytes(bytes)}, over the cap per session of ${formatBytes(limits.sessionCapBytes)}`;
  }
  if (limits.totalCapBytes !== null) {
    const { bytes } = await blobs.stats();
    if (bytes > limits.totalCapBytes)
      return `all sessions' checkpoint data is ${formatBytes(bytes)}, over the overall cap of ${formatBytes(limits.totalCapBytes)}`;
  }
  return null;
}

function pauseReason(over: string, keepTurns: number): string {
  return `Checkpoints of this session are paused: ${over}, even after thinning its old checkpoints (every checkpoint of its last ${keepTurns} turns is kept, then one per turn, and every one a fork or rewind needs). Its hands keep working but their files are not checkpointed, so a fork or rewind restores the last checkpoint before the pause. Raise the cap or keep fewer turns (Settings → Storage), or delete forks and sessions you no longer need; checkpoints resume by themselves and the next one takes every change since.`;
}

/** Measures one session against the caps, thins it when over, and pauses or resumes its captures; the pause reason or null. */
async function enforceUnlocked(services: RetentionServices, sessionId: string): Promise<string | null> {
  const { store } = services;
  const limits = readLimits(store.dataDir);
  if (!exists(store, sessionId) || (limits.sessionCapBytes === null && limits.totalCapBytes === null)) {
    forgetSession(services.blobs, sessionId);
    setCapPause(store.dataDir, sessionId, null);
    return null;
  }
  let over = await overCap(services, sessionId, limits);
  if (over !== null) {
    await thinUnlocked(services, [sessionId], limits.keepTurns, `Storage cap: ${over}`);
    over = await overCap(services, sessionId, limits);
  }
  const reason = over === null ? null : pauseReason(over, limits.keepTurns);
  if (reason !== null && capPaused(store.dataDir, sessionId) === null)
    services.log?.(`Session ${sessionId}: checkpoints paused at the storage cap (${over ?? ''})`);
  setCapPause(store.dataDir, sessionId, reason, reason === null ? undefined : () => recheckLater(services, sessionId));
  return reason;
}

function recheck(services: RetentionServices, sessionId: string): Promise<string | null> {
  return enforceUnlocked(services, sessionId);
}

function recheckLater(services: RetentionServices, sessionId: string): Promise<string | null> {
  return serial(services.store.dataDir, () => enforceUnlocked(services, sessionId));
}

/** After a checkpoint was recorded in a session (the registry calls this): enforce the caps. */
export function afterCheckpoint(services: RetentionServices, sessionId: string): Promise<string | null> {
  const limits = readLimits(services.store.dataDir);
  if (limits.sessionCapBytes === null && limits.totalCapBytes === null && capPaused(services.store.dataDir, sessionId) === null)
    return Promise.resolve(null);
  return serial(services.store.dataDir, () => enforceUnlocked(services, sessionId));
}

/** After the limits changed: every session measured again (thinned where over, paused or resumed). */
export function enforceAll(services: RetentionServices): Promise<void> {
  return serial(services.store.dataDir, async () => {
    for (const session of services.store.listSessions()) await enforceUnlocked(services, session.id);
  });
}
