/**
 * Settings → Storage (issue 20 item 5): what Drover keeps on disk, per session and per hand, the
 * free space of the data folder's disk, and whether checkpoints are paused for lack of it.
 * Must never import node, electron or DOM code.
 */
import { z } from 'zod';

const bytes = z.number().int().nonnegative();

/** One hand of one session: checkpoint blobs its manifests reach, its snapshot images and containers. */
export const HandStorageSchema = z.strictObject({
  hand: z.string(),
  checkpointBytes: bytes,
  checkpoints: z.number().int().nonnegative(),
  imageBytes: bytes,
  containerBytes: bytes,
});

export const SessionStorageSchema = z.strictObject({
  sessionId: z.string(),
  /** Null: the session is gone (images or containers a crash left, removed at the next start or by "Reclaim"). */
  title: z.string().nullable(),
  /** Bytes of every blob its checkpoints reach (shared ones included). */
  checkpointBytes: bytes,
  /** Of those, bytes other sessions reach too (counted once in the totals). */
  sharedBytes: bytes,
  imageBytes: bytes,
  containerBytes: bytes,
  /** checkpointBytes + imageBytes + containerBytes. */
  totalBytes: bytes,
  hands: z.array(HandStorageSchema),
  /** Set when this session's captures are paused at its cap (or the overall cap): what happened and what to do. */
  capPaused: z.string().nullable(),
  /** How many of its checkpoints retention thinned so far (a cap, or "Thin old checkpoints"). */
  thinned: z.strictObject({ checkpoints: z.number().int().nonnegative() }),
});

export const StorageThresholdSchema = z.strictObject({
  /** Checkpoints pause when the free space of the data folder's disk falls below this many bytes… */
  minFreeBytes: bytes.max(2 ** 50, 'give at most 1 PiB'),
  /** …or below this percentage of the disk's size. */
  minFreePercent: z.number().min(0, 'give a percentage from 0 to 100').max(100, 'give a percentage from 0 to 100'),
});
export type StorageThreshold = z.infer<typeof StorageThresholdSchema>;

/** A cap: null for none, else at least 1 MiB (a smaller cap would pause a session at its first checkpoint). */
const cap = z
  .number()
  .int('give a whole number of bytes')
  .min(1024 ** 2, 'give at least 1 MiB, or no cap')
  .max(2 ** 50, 'give at most 1 PiB')
  .nullable();

/**
 * Caps on checkpoint data and the retention rule (Settings → Storage). When a capture puts a
 * session over `sessionCapBytes` (or every session's checkpoint data over `totalCapBytes`), that
 * session's older checkpoints are thinned: every checkpoint of its last `keepTurns` turns stays,
 * then one per turn (the turn's last), and never one a branch still needs.
 */
export const StorageLimitsSchema = z
  .strictObject({
    /** Bytes of checkpoint data one session may keep (what its checkpoints reach, shared blobs included); null: no cap. */
    sessionCapBytes: cap,
    /** Bytes of checkpoint data on disk in all (every blob once); null: no cap. */
    totalCapBytes: cap,
    /** Turns whose every checkpoint is kept, counting back from the last. */
    keepTurns: z.number().int('give a whole number of turns').min(1, 'keep at least 1 turn').max(10_000, 'keep at most 10,000 turns'),
  })
  .refine((limits) => limits.sessionCapBytes === null || limits.totalCapBytes === null || limits.sessionCapBytes <= limits.totalCapBytes, {
    message: 'the cap per session is larger than the overall cap: give an overall cap at least as large, or no overall cap',
    path: ['sessionCapBytes'],
  });
export type StorageLimits = z.infer<typeof StorageLimitsSchema>;

/** A package image (`drover-packages:*`): its bytes, and what keeps it. */
export const PackageImageSchema = z.strictObject({
  tag: z.string(),
  bytes,
  /** A container (running or stopped) of it exists. */
  inUse: z.boolean(),
  /** A hand config of an existing session, or a saved environment, asks for its packages. */
  needed: z.boolean(),
});
export type PackageImage = z.infer<typeof PackageImageSchema>;

export const StorageUsageSchema = z.strictObject({
  /** Largest first. */
  sessions: z.array(SessionStorageSchema),
  totals: z.strictObject({
    /** Every checkpoint blob on disk, each once. */
    checkpointBytes: bytes,
    checkpointBlobs: z.number().int().nonnegative(),
    /** Of those, bytes no checkpoint of any session reaches ("Reclaim" frees them). */
    unreachableBytes: bytes,
    /** Snapshot images of this data folder. */
    imageBytes: bytes,
    /** Writable layers of this data folder's containers. */
    containerBytes: bytes,
    /** Images with packages (`drover-packages:*`), a cache shared by every data folder on this machine. */
    packageImageBytes: bytes,
    packageImages: z.number().int().nonnegative(),
  }),
  /** Each package image, largest first. */
  packageImages: z.array(PackageImageSchema),
  limits: StorageLimitsSchema,
  disk: z.strictObject({ freeBytes: bytes, totalBytes: bytes }),
  threshold: StorageThresholdSchema,
  /** Set when checkpoints are paused for lack of disk: what happened and what to do. */
  checkpointsPaused: z.string().nullable(),
  /** Set when Docker could not be asked (image and container figures are then 0). */
  dockerUnavailable: z.string().nullable(),
});
export type StorageUsage = z.infer<typeof StorageUsageSchema>;
export type SessionStorage = z.infer<typeof SessionStorageSchema>;

export const StorageReclaimSchema = z.strictObject({
  freedBytes: bytes,
  blobs: z.number().int().nonnegative(),
  images: z.number().int().nonnegative(),
  containers: z.number().int().nonnegative(),
  /** Of `images`, package images no session or saved environment needs (their bytes are in `freedBytes`). */
  packageImages: z.number().int().nonnegative(),
});
export type StorageReclaim = z.infer<typeof StorageReclaimSchema>;

/** What "Thin old checkpoints" (or a cap) did: checkpoints thinned, per session, and the bytes their blobs freed. */
export const StorageThinSchema = z.strictObject({
  checkpoints: z.number().int().nonnegative(),
  sessions: z.number().int().nonnegative(),
  freedBytes: bytes,
});
export type StorageThin = z.infer<typeof StorageThinSchema>;

/** Bytes for people: "512 bytes", "1.5 MiB", "20.0 GiB". */
export function formatBytes(value: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let amount = value;
  let unit = 0;
  while (amount >= 1024 && unit < units.length - 1) {
    amount /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} bytes` : `${amount.toFixed(1)} ${units[unit] ?? ''}`;
}
