// A real host over a real store in a temp data folder, and the real Docker engine of that folder's
// instance — the RPC tests that drive sessions with Docker hands through `host.dispatch`; or one
// with a real vault too, for the Settings RPCs that keep secret ids.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { createHost, type Host, type HostOptions } from '#rpc/host';
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
  /** Closes the host and its hands, the vault and the store, and removes the data folder. */
  close(): Promise<void>;
}

export interface VaultHostOptions {
  /** The Messages API the host's harness talks to (a local model server). */
  baseURL?: string;
  /** The Anthropic API key the host sends (default: none set). */
  apiKey?: string;
  push?: HostOptions['push'];
  log?: HostOptions['log'];
}

/**
 * A real host over a real store and a real vault (its key in a file in the data folder) in a temp
 * folder, driven through `host.dispatch` or its services: the RPC tests whose sessions or settings keep secrets.
 */
export function vaultHostRig(prefix: string, options: VaultHostOptions = {}): VaultHostRig {
  const dir = tempDir(prefix);
  const store = SessionStore.open({ dataDir: dir });
  const vault = Vault.open({ dataDir: dir, keySource: new FileKeySource(path.join(dir, 'vault.key')) });
  const { apiKey } = options;
  const host = createHost({
    store,
    vault,
    info: { version: 'test', dataDir: dir, platform: process.platform },
    ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
    keyProvider: () => apiKey ?? null,
    push: options.push ?? (() => undefined),
    log: options.log ?? (() => undefined),
  });
  return {
    dir,
    store,
    vault,
    host,
    async close() {
      await host.close();
      await host.hands.close();
      await vault.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Outcome<T> = { ok: true; result: T } | { ok: false; error: { code: string; message: string; issues?: unknown } };

/** The host's answer to one RPC, typed as the caller expects it. */
export async function dispatch<T>(host: Host, name: string, arg: unknown): Promise<Outcome<T>> {
  return (await host.dispatch(name, arg)) as Outcome<T>;
}
