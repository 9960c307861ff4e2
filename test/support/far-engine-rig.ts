/**
 * A Docker engine on "another machine" for the RPC tests of remote engines (issues 22 and 23), on real
 * parts: a second dockerd in a network namespace of its own (second-engine.ts) with an OpenSSH server
 * beside it, an image only that engine has (so nothing can be served by this computer's engine), a
 * key from a real vault, the host key trusted in Drover's known-hosts list, and a host with the engine
 * registered as `far` (`ssh://`). `close()` removes the sessions' containers, the engine and the folders.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createHost, type Host } from '#rpc/host';
import { LABELS } from '#services/hands/docker/engine';
import { SessionStore } from '#services/session/store';
import { Vault } from '#services/vault/vault';
import { dockerCli } from './docker.ts';
import { FileKeySource } from './file-key-source.ts';
import { startSecondEngine, type SecondEngine } from './second-engine.ts';
import { makeKey, TestSshd, testUser } from './sshd.ts';
import { tempDir } from './system.ts';

export interface FarEngineOptions {
  /** Names the temp folders and the far image (`drover-test/<prefix>:<random>`). */
  prefix: string;
  /** The image the far one is made from (copied to the second engine). */
  base: string;
  /** A shell command run in `base` to make the far image (its files only that engine has). */
  prepare: string;
  /** Passed to the host (containers kept across a quit, for a test of the next start). */
  keepContainersMs?: number;
}

export interface FarEngineRig {
  readonly second: SecondEngine;
  readonly sshd: TestSshd;
  readonly vault: Vault;
  readonly store: SessionStore;
  /** The host now (a test of the next start replaces it with `makeHost()`). */
  host: Host;
  /** The image only the second engine has. */
  readonly image: string;
  /** An RPC through the current host, as a UI calls it; a failure throws with its message. */
  rpc<T>(name: string, arg: unknown): Promise<T>;
  /** The session's containers on the second engine and on this computer's (docker CLI). */
  where(sessionId: string): { remote: string[]; local: string[] };
  /** A host as the app makes one at a start, on the same store and vault. */
  makeHost(): Host;
  close(): Promise<void>;
}

export async function startFarEngineRig(options: FarEngineOptions): Promise<FarEngineRig> {
  const dir = tempDir(`drover-${options.prefix}-`);
  const keyDir = tempDir(`drover-${options.prefix}-key-`);
  const image = `drover-test/${options.prefix}:${randomBytes(4).toString('hex')}`;
  const second = await startSecondEngine({ link: true });
  const parts: { sshd?: TestSshd; vault?: Vault; store?: SessionStore; host?: Host } = {};
  const close = async (): Promise<void> => {
    const { host, store } = parts;
    if (host !== undefined && store !== undefined) {
      await host.terminals.closeAll();
      await host.hands.settled();
      for (const session of store.listSessions()) await host.hands.sessionDeleted(session.id);
      await host.close();
      await host.hands.close();
    }
    await parts.sshd?.stop();
    await second.close();
    await parts.vault?.close();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(keyDir, { recursive: true, force: true });
  };
  try {
    const address = second.address ?? '';
    second.loadImages(options.base);
    const maker = `drover-${options.prefix}-maker-${randomBytes(4).toString('hex')}`;
    second.docker('run', '--name', maker, options.base, 'sh', '-c', options.prepare);
    second.docker('commit', maker, image);
    second.docker('rm', '-f', maker);
    chmodSync(path.dirname(second.socket), 0o755);
    chmodSync(second.socket, 0o666);
    const sshd = (parts.sshd = await TestSshd.start({ netns: second.netns, address }));
    const key = makeKey(dir);
    sshd.authorize(key);
    const vault = (parts.vault = Vault.open({ dataDir: dir, keySource: new FileKeySource(path.join(keyDir, 'vault.key')) }));
    const keySecret = (await vault.create({ name: 'engine key', kind: 'ssh-private-key', value: key.privateKey })).id;
    const store = (parts.store = SessionStore.open({ dataDir: dir }));
    const makeHost = (): Host =>
      createHost({
        store,
        vault,
        info: { version: 'test', dataDir: dir, platform: process.platform },
        push: () => undefined,
        ...(options.keepContainersMs === undefined ? {} : { keepContainersMs: options.keepContainersMs }),
        log: () => undefined,
      });
    const rig: FarEngineRig = {
      second,
      sshd,
      vault,
      store,
      image,
      get host() {
        if (parts.host === undefined) throw new Error('the far engine rig has no host yet');
        return parts.host;
      },
      set host(next) {
        parts.host = next;
      },
      async rpc<T>(name: string, arg: unknown): Promise<T> {
        const outcome = await rig.host.dispatch(name, arg);
        if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
        return outcome.result as T;
      },
      where(sessionId) {
        const ids = (text: string): string[] => text.split('\n').filter((line) => line !== '');
        const filter = `label=${LABELS.session}=${sessionId}`;
        return { remote: ids(second.docker('ps', '-q', '--filter', filter)), local: ids(dockerCli('ps', '-q', '--filter', filter)) };
      },
      makeHost,
      close,
    };
    rig.host = makeHost();
    rig.host.hands.knownHosts.trust({ host: address, port: sshd.port, algorithm: 'ssh-ed25519', fingerprint: sshd.hostFingerprint() });
    await rig.rpc('engines-put', {
      engine: {
        id: 'far',
        kind: 'ssh',
        name: 'Far box',
        url: `ssh://${testUser().user}@${address}:${sshd.port}`,
        auth: { method: 'key', key_secret_id: keySecret },
        socket_path: second.socket,
        labels: ['far'],
      },
    });
    return rig;
  } catch (error) {
    await close();
    throw error;
  }
}
