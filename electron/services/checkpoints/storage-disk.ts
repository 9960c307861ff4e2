/**
 * Free disk under the data folder, and the low-disk rule (issue 20 item 5): when the free space of
 * the data folder's filesystem falls below a threshold — `minFreeBytes` (default 2 GiB) or
 * `minFreePercent` of the disk (default 5%), whichever is larger — checkpoints pause: a hand
 * records nothing (hand-checkpoints.ts asks `checkpointsPaused` before each capture) and Settings
 * → Storage says so, instead of filling the disk. The threshold lives in `storage.json` in the data
 * folder (0600), set from Settings → Storage (`storage-set-threshold`). A session at its storage cap
 * pauses the same way, for that session only (`setCapPause`, from retention.ts).
 */
import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { formatBytes, StorageThresholdSchema, type StorageThreshold } from '#shared/storage';
import { writePrivateFileAtomic } from '#services/vault/private-file';

export const DEFAULT_THRESHOLD: StorageThreshold = { minFreeBytes: 2 * 1024 ** 3, minFreePercent: 5 };

export interface DiskSpace {
  freeBytes: number;
  totalBytes: number;
}

function thresholdFile(dataDir: string): string {
  return path.join(dataDir, 'storage.json');
}

/** The threshold in force: the data folder's `storage.json`, else the default (an unreadable file counts as absent). */
export function readThreshold(dataDir: string): StorageThreshold {
  try {
    const parsed = StorageThresholdSchema.safeParse(JSON.parse(readFileSync(thresholdFile(dataDir), 'utf8')));
    return parsed.success ? parsed.data : DEFAULT_THRESHOLD;
  } catch {
    return DEFAULT_THRESHOLD;
  }
}

export function writeThreshold(dataDir: string, threshold: StorageThreshold): StorageThreshold {
  const checked = StorageThresholdSchema.parse(threshold);
  writePrivateFileAtomic(thresholdFile(dataDir), JSON.stringify(checked, null, 2));
  return checked;
}

/** Free (for this user) and total bytes of the filesystem the data folder is on. */
export async function diskOf(dataDir: string): Promise<DiskSpace> {
  const info = await statfs(dataDir);
  return { freeBytes: info.bavail * info.bsize, totalBytes: info.blocks * info.bsize };
}

/** Why checkpoints are paused now (free space under the threshold), or null when they run. */
export function pausedReason(disk: DiskSpace, threshold: StorageThreshold): string | null {
  const floor = Math.max(threshold.minFreeBytes, (disk.totalBytes * threshold.minFreePercent) / 100);
  if (disk.freeBytes >= floor) return null;
  return `Checkpoints are paused: the data folder's disk has ${formatBytes(disk.freeBytes)} free, under the ${formatBytes(Math.ceil(floor))} Drover keeps free. Hands keep working but their files are not checkpointed, so a fork or rewind restores the last checkpoint before the pause. Free disk space (Settings → Storage → Reclaim unused storage, or delete sessions you no longer need) or lower the threshold; checkpoints resume by themselves and the next one takes every change since.`;
}

/**
 * Sessions whose captures are paused at their storage cap (retention.ts sets and clears these after
 * each checkpoint, when the caps change, and when it thins): by data folder, by session, the reason.
 * Kept in memory: after a restart the first capture runs, and the check after it pauses again.
 */
const capPauses = new Map<string, Map<string, CapPause>>();
/** A paused session is measured again (and thinned) at most this often when a capture asks. */
export const RECHECK_MS = 30_000;

interface CapPause {
  reason: string;
  /** Measures again: the reason still in force, or null. */
  recheck?: () => Promise<string | null>;
  checkedAt: number;
}

/** Pauses (a reason) or resumes (null) one session's captures for its storage cap. */
export function setCapPause(dataDir: string, sessionId: string, reason: string | null, recheck?: () => Promise<string | null>): void {
  const sessions = capPauses.get(dataDir) ?? new Map<string, CapPause>();
  if (reason === null) sessions.delete(sessionId);
  else sessions.set(sessionId, { reason, checkedAt: Date.now(), ...(recheck ? { recheck } : {}) });
  if (sessions.size === 0) capPauses.delete(dataDir);
  else capPauses.set(dataDir, sessions);
}

/** Why this session's captures are paused at its cap, or null. */
export function capPaused(dataDir: string, sessionId: string): string | null {
  return capPauses.get(dataDir)?.get(sessionId)?.reason ?? null;
}

/** The cap pause in force for a capture about to run: measured again when the last check is older than RECHECK_MS. */
async function capPauseNow(dataDir: string, sessionId: string): Promise<string | null> {
  const pause = capPauses.get(dataDir)?.get(sessionId);
  if (pause === undefined) return null;
  if (pause.recheck === undefined || Date.now() - pause.checkedAt < RECHECK_MS) return pause.reason;
  pause.checkedAt = Date.now();
  try {
    return await pause.recheck();
  } catch {
    return pause.reason;
  }
}

/**
 * The pause reason for the data folder now (a real statfs) or, given a session, for that session's
 * cap; null when checkpoints run or the disk cannot be read.
 */
export async function checkpointsPaused(dataDir: string, sessionId?: string): Promise<string | null> {
  const capped = sessionId === undefined ? null : await capPauseNow(dataDir, sessionId);
  if (capped !== null) return capped;
  try {
    return pausedReason(await diskOf(dataDir), readThreshold(dataDir));
  } catch {
    return null; // a disk that cannot be asked never stops checkpoints (the capture itself reports a full disk)
  }
}
