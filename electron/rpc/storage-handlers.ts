/**
 * Settings → Storage's RPC methods (issue 20 item 5): what Drover stores per session and per hand,
 * free disk and whether checkpoints are paused (`storage-usage`), reclaiming what nothing needs
 * (`storage-reclaim`), and the low-disk threshold (`storage-set-threshold`). See
 * electron/services/checkpoints/storage*.ts.
 */
import type { HandlerImpl } from '#shared/rpc';
import { reclaimStorage, storageUsage, type StorageServices } from '#services/checkpoints/storage';
import { writeThreshold } from '#services/checkpoints/storage-disk';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import type { HandRegistry } from '#services/hands/registry';
import type { SessionStore } from '#services/session/store';

export type StorageMethod = 'storage-usage' | 'storage-reclaim' | 'storage-set-threshold';

export interface StorageHandlerServices {
  store: SessionStore;
  hands: HandRegistry;
  /** Default: this Drover's engine. */
  engine?: DockerEngine;
  log?: (message: string, error?: unknown) => void;
}

export function createStorageHandlers({ store, hands, engine, log }: StorageHandlerServices): Pick<HandlerImpl, StorageMethod> {
  const services: StorageServices = {
    store,
    blobs: hands.blobs,
    engine: engine ?? new DockerEngine({ instance: instanceIdOf(store.dataDir) }),
    settled: () => hands.settled(),
    ...(log ? { log } : {}),
  };
  return {
    'storage-usage': () => storageUsage(services),
    'storage-reclaim': () => reclaimStorage(services),
    'storage-set-threshold': async (threshold) => {
      writeThreshold(store.dataDir, threshold);
      return storageUsage(services);
    },
  };
}
