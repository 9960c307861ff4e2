// A real host over a real store in a temp data folder, and the real Docker engine of that folder's
// instance — the RPC tests that drive sessions with Docker hands through `host.dispatch`; or one
// with a real vault too, for the Settings RPCs that keep secret ids.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { createHost, type Host } from '#rpc/host';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import { SessionStore } from '#services/session/store';
import { Vault } from '#services/vault/vault';
import { FileKeySource } from '#test/support/file-key-source';
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

export interface VaultHostRig {
  dir: string;
  store: SessionStore;
  vault: Vault;
  host: Host;
  /** Closes the host, the vault and the store, and removes the data and key folders. */
  close(): Promise<void>;
}

/**
 * A real host over a real store and a real vault (its key in a file of another temp folder), with no
 * API key: the Settings RPCs that keep secret ids (engines, the hand library) driven through `host.dispatch`.
 */
export function vaultHostRig(prefix: string): VaultHostRig {
  const dir = tempDir(prefix);
  const keyDir = tempDir(`${prefix}key-`);
  const store = SessionStore.open({ dataDir: dir });
  const vault = Vault.open({ dataDir: dir, keySource: new FileKeySource(path.join(keyDir, 'vault.key')) });
  const host = createHost({
    store,
    vault,
    info: { version: 't', dataDir: dir, platform: 'linux' },
    push: () => undefined,
    keyProvider: () => null,
    log: () => undefined,
  });
  return {
    dir,
    store,
    vault,
    host,
    async close() {
      await host.close();
      await vault.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(keyDir, { recursive: true, force: true });
    },
  };
}

export type Outcome<T> = { ok: true; result: T } | { ok: false; error: { code: string; message: string; issues?: unknown } };

/** The host's answer to one RPC, typed as the caller expects it. */
export async function dispatch<T>(host: Host, name: string, arg: unknown): Promise<Outcome<T>> {
  return (await host.dispatch(name, arg)) as Outcome<T>;
}
