/**
 * Settings → Storage's RPC methods (issue 20 item 5): what Drover stores per session and per hand,
 * free disk and whether checkpoints are paused (`storage-usage`), reclaiming what nothing needs
 * (`storage-reclaim`), the low-disk threshold (`storage-set-threshold`), the caps and the retention
 * rule's N (`storage-set-limits`), and thinning old checkpoints by that rule (`storage-thin`). See
 * electron/services/checkpoints/storage*.ts and retention.ts.
 */
import type { HandlerImpl } from '#shared/rpc';
import { enforceAll, thinCheckpoints, type RetentionServices } from '#services/checkpoints/retention';
import { reclaimStorage, storageUsage, type StorageServices } from '#services/checkpoints/storage';
import { writeThreshold } from '#services/checkpoints/storage-disk';
import { writeLimits } from '#services/checkpoints/storage-limits';
import type { PackageImageOptions } from '#services/checkpoints/storage-packages';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import type { HandRegistry } from '#services/hands/registry';
import type { SessionStore } from '#services/session/store';

export type StorageMethod = 'storage-usage' | 'storage-reclaim' | 'storage-set-threshold' | 'storage-set-limits' | 'storage-thin';

export interface StorageHandlerServices {
  store: SessionStore;
  hands: HandRegistry;
  /** Default: this Drover's engine. */
  engine?: DockerEngine;
  /** How package images are reclaimed (default: any nothing needs, built over 10 minutes ago). */
  packageImages?: PackageImageOptions;
  log?: (message: string, error?: unknown) => void;
}

export function createStorageHandlers({
  store,
  hands,
  engine,
  packageImages,
  log,
}: StorageHandlerServices): Pick<HandlerImpl, StorageMethod> {
  const services: StorageServices = {
    store,
    blobs: hands.blobs,
    engine: engine ?? new DockerEngine({ instance: instanceIdOf(store.dataDir) }),
    remotes: () => hands.remoteHandEngines(),
    settled: () => hands.settled(),
    ...(packageImages ? { packageImages } : {}),
    ...(log ? { log } : {}),
  };
  const retention: RetentionServices = { store, blobs: hands.blobs, ...(log ? { log } : {}) };
  return {
    'storage-usage': () => storageUsage(services),
    'storage-reclaim': () => reclaimStorage(services),
    'storage-set-threshold': async (threshold) => {
      writeThreshold(store.dataDir, threshold);
      return storageUsage(services);
    },
    'storage-set-limits': async (limits) => {
      writeLimits(store.dataDir, limits);
      await hands.settled(); // checkpoints in progress are recorded before sessions are measured
      await enforceAll(retention);
      return storageUsage(services);
    },
    'storage-thin': async () => {
      await hands.settled();
      return thinCheckpoints(retention);
    },
  };
}
