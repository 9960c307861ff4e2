// A real host over a real store in a temp data folder, and the real Docker engine of that folder's
// instance — the RPC tests that drive sessions with Docker hands through `host.dispatch`.
import { rmSync } from 'node:fs';
import { createHost, type Host } from '#rpc/host';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import { SessionStore } from '#services/session/store';
import { tempDir } from '#test/support/system';

export interface HostRig {
  dir: string;
  store: SessionStore;
  host: Host;
  engine: DockerEngine;
}

export function hostRig(prefix: string): HostRig {
  const dir = tempDir(prefix);
  const store = SessionStore.open({ dataDir: dir });
  const host = createHost({
    store,
    info: { version: 'test', dataDir: dir, platform: process.platform },
    push: () => undefined,
    log: () => undefined,
  });
  return { dir, store, host, engine: new DockerEngine({ instance: instanceIdOf(dir) }) };
}

/** Removes every session's hands (their containers and snapshot images), closes the host and store, removes the folder. */
export async function closeHostRig(rig: HostRig | undefined): Promise<void> {
  if (rig === undefined) return;
  await rig.host.hands.settled();
  for (const session of rig.store.listSessions()) await rig.host.hands.sessionDeleted(session.id);
  await rig.host.close();
  await rig.host.hands.close();
  rig.store.close();
  rmSync(rig.dir, { recursive: true, force: true });
}
