/**
 * An SSH hand named `box` on a real OpenSSH server (test/support/sshd.ts) for a session driven by the
 * real harness and registry against the local Messages API server, with the real blob store in a temp
 * data folder — the set-up the SSH checkpoint tests share. Its working folder is on this machine, so a
 * test can read it directly (`walk`). `close()` removes the folder and every temp dir.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { SshHandConfigSchema } from '#shared/hands';
import { DockerEngine } from '#services/hands/docker/engine';
import { HandRegistry } from '#services/hands/registry';
import { KnownHosts } from '#services/hands/ssh/known-hosts';
import { Harness } from '#services/harness/harness';
import { SessionStore } from '#services/session/store';
import { Vault } from '#services/vault/vault';
import { FileKeySource } from './file-key-source';
import { startModelServer, type ModelServer, type RecordedRequest, type ScriptedMessage } from './model-server';
import { makeKey, TestSshd, testUser } from './sshd';
import { tempDir } from './system';

export const MODEL_KEY = 'sk-ant-test-key';

export interface Walked {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode: string;
  size?: number;
  hash?: string;
  target?: string;
  mtime?: number;
}

/** The folder's tree, read here with node:fs: paths, types, modes, hashes, link targets, file mtimes. */
export function walk(root: string): Walked[] {
  const out: Walked[] = [];
  const visit = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const stat = lstatSync(full);
      const mode = (stat.mode & 0o7777).toString(8);
      if (stat.isSymbolicLink()) out.push({ path: full, type: 'symlink', mode, target: readlinkSync(full) });
      else if (stat.isDirectory()) {
        out.push({ path: full, type: 'dir', mode });
        visit(full);
      } else if (stat.isFile()) {
        const hash = createHash('sha256').update(readFileSync(full)).digest('hex');
        out.push({ path: full, type: 'file', mode, size: stat.size, hash, mtime: Math.floor(stat.mtimeMs / 1000) });
      }
    }
  };
  visit(root);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export interface SshHandRigOptions {
  /** The Docker engine's instance label (the registry needs one; SSH hands make no containers). */
  instance: string;
  /** Names the temp folders and the remote working folder (`<home>/<name>-<pid>-<time>`). */
  name: string;
  title: string;
  /** Called before each model reply (the hand is between calls then), e.g. to walk the folder. */
  beforeReply?: (request: RecordedRequest) => void;
}

export interface SshHandRig {
  sshd: TestSshd;
  server: ModelServer;
  vault: Vault;
  knownHosts: KnownHosts;
  /** The data folder (store, blobs, vault, known hosts). */
  dir: string;
  store: SessionStore;
  sessionId: string;
  /** The hand's working folder (on this machine). */
  folder: string;
  /** The vault secret holding the client key. */
  keySecret: string;
  /** The model server's queue of replies (an empty queue answers 500). */
  replies: ScriptedMessage[];
  /** A registry over the rig's store (the first is made by the rig and returned by `sshHandRig` too). */
  newRegistry: () => HandRegistry;
  /** A harness whose hands come from `handsFor` (the test's current registry). */
  newHarness: (handsFor: (id: string) => ReturnType<HandRegistry['handsFor']>) => Harness;
  close: () => Promise<void>;
}

/** Starts the sshd, vault, model server and store, and attaches `box` (always allowed) to a new session. */
export async function sshHandRig(options: SshHandRigOptions): Promise<SshHandRig> {
  const user = testUser();
  const temps: string[] = [];
  const sshd = await TestSshd.start();
  const keys = tempDir(`drover-${options.name}-keys-`);
  temps.push(keys);
  const key = makeKey(keys);
  sshd.authorize(key);
  const dir = tempDir(`drover-${options.name}-`);
  temps.push(dir);
  const vaultKeys = tempDir(`drover-${options.name}-vault-`);
  temps.push(vaultKeys);
  const vault = Vault.open({ dataDir: dir, keySource: new FileKeySource(path.join(vaultKeys, 'vault.key')) });
  const keySecret = (await vault.create({ name: 'key', kind: 'ssh-private-key', value: key.privateKey })).id;
  const knownHosts = new KnownHosts(path.join(dir, 'known-hosts.json'));
  knownHosts.trust({ host: '127.0.0.1', port: sshd.port, algorithm: 'ssh-ed25519', fingerprint: sshd.hostFingerprint() });
  const folder = `${user.home}/${options.name}-${process.pid}-${Date.now()}`;
  const replies: ScriptedMessage[] = [];
  const server = await startModelServer({
    apiKey: MODEL_KEY,
    respond: (request) => {
      options.beforeReply?.(request);
      const next = replies.shift();
      return Promise.resolve(
        next
          ? { kind: 'message' as const, message: next }
          : { kind: 'http-error' as const, status: 500, type: 'api_error', message: 'the test script has no more replies' },
      );
    },
  });
  const store = SessionStore.open({ dataDir: dir });
  const newRegistry = (): HandRegistry =>
    new HandRegistry({ store, docker: new DockerEngine({ instance: options.instance }), secrets: vault, knownHosts, log: () => undefined });
  const newHarness = (handsFor: (id: string) => ReturnType<HandRegistry['handsFor']>): Harness =>
    new Harness({ store, keyProvider: () => MODEL_KEY, baseURL: server.url, handsFor, log: () => undefined });
  const sessionId = store.createSession({ title: options.title }).id;
  return {
    sshd,
    server,
    vault,
    knownHosts,
    dir,
    store,
    sessionId,
    folder,
    keySecret,
    replies,
    newRegistry,
    newHarness,
    close: async () => {
      store.close();
      await server.close();
      await vault.close();
      await sshd.stop();
      rmSync(folder, { recursive: true, force: true });
      for (const temp of temps) rmSync(temp, { recursive: true, force: true });
    },
  };
}

/** Attaches `box` (the rig's machine and folder) to `sessionId` in `hands`, its tools always allowed (SSH hands ask by default). */
export function attachBox(rig: SshHandRig, hands: HandRegistry): void {
  const config = SshHandConfigSchema.parse({
    kind: 'ssh',
    host: '127.0.0.1',
    port: rig.sshd.port,
    user: testUser().user,
    auth: { method: 'key', key_secret_id: rig.keySecret },
    working_dir: rig.folder,
  });
  hands.attach(rig.sessionId, { name: 'box', config });
  rig.store.emitEvent(rig.sessionId, { type: 'policy.set', payload: { hand: 'box', tool: null, policy: 'always_allow' } });
}
