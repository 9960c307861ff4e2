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
});

export const StorageThresholdSchema = z.strictObject({
  /** Checkpoints pause when the free space of the data folder's disk falls below this many bytes… */
  minFreeBytes: bytes.max(2 ** 50, 'give at most 1 PiB'),
  /** …or below this percentage of the disk's size. */
  minFreePercent: z.number().min(0, 'give a percentage from 0 to 100').max(100, 'give a percentage from 0 to 100'),
});
export type StorageThreshold = z.infer<typeof StorageThresholdSchema>;

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
});
export type StorageReclaim = z.infer<typeof StorageReclaimSchema>;

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
