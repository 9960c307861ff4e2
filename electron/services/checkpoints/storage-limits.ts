/**
 * The caps on checkpoint data and the retention rule's N (issue 20 item 5), kept in
 * `storage-limits.json` in the data folder (0600), set from Settings → Storage
 * (`storage-set-limits`). See retention.ts for what they do.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StorageLimitsSchema, type StorageLimits } from '#shared/storage';
import { writePrivateFileAtomic } from '#services/vault/private-file';

/** No caps; every checkpoint of the last 10 turns kept when thinning. */
export const DEFAULT_LIMITS: StorageLimits = { sessionCapBytes: null, totalCapBytes: null, keepTurns: 10 };

function limitsFile(dataDir: string): string {
  return path.join(dataDir, 'storage-limits.json');
}

/** The limits in force: the data folder's `storage-limits.json`, else the defaults (an unreadable file counts as absent). */
export function readLimits(dataDir: string): StorageLimits {
  try {
    const parsed = StorageLimitsSchema.safeParse(JSON.parse(readFileSync(limitsFile(dataDir), 'utf8')));
    return parsed.success ? parsed.data : DEFAULT_LIMITS;
  } catch {
    return DEFAULT_LIMITS;
  }
}

export function writeLimits(dataDir: string, limits: StorageLimits): StorageLimits {
  const checked = StorageLimitsSchema.parse(limits);
  writePrivateFileAtomic(limitsFile(dataDir), JSON.stringify(checked, null, 2));
  return checked;
}
