// The repositories Drover clones into a fresh Docker hand are the hand's start, not its first tool's
// changes (issue 20): the first checkpoint after one file written counts 1 (not every file of the
// clone), still holds the clone (a fork restores it), and a reclaim before that first checkpoint
// keeps the clone's blobs (held until a recorded checkpoint names them). Real parts: the Docker
// engine, the git image built on this machine, a git server requiring a token, Drover's git proxy,
// the registry on a real store; tool calls recorded as the harness records them.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventOf, EventType } from '#shared/events';
import type { SecretId } from '#shared/vault';
import { walkContainer } from '#services/checkpoints/full-walk';
import { blobsOf, loadManifest } from '#services/checkpoints/manifest';
import { reclaimBlobs } from '#services/checkpoints/storage';
import { GitProxy } from '#services/git/proxy';
import { HandRegistry } from '#services/hands/registry';
import { SessionStore } from '#services/session/store';
import type { SecretResolver } from '#services/vault/resolver';
import { ensureGitImage, GIT_IMAGE, gitImageUnavailableReason, removeInstanceObjects, requireDocker } from '#test/support/docker';
import { gitServerUnavailableReason, startGitServer, type GitServer } from '#test/support/git-server';
import { requirePart, tempDir } from '#test/support/system';
import { DockerEngine, instanceIdOf } from './engine.ts';

const ready =
  (await requireDocker()) && requirePart('git (client and http-backend)', gitServerUnavailableReason() ?? gitImageUnavailableReason());
if (ready) ensureGitImage();

const TOKEN = `glpat-${randomBytes(18).toString('hex')}`;
const SECRET: SecretId = 'sec_0123456789abcdef';

/** The vault as the hand sees it: one value by id. */
const secrets: SecretResolver = {
  reveal: (id: SecretId) => (id === SECRET ? Promise.resolve(TOKEN) : Promise.reject(new Error(`There is no secret ${id} in the vault.`))),
};

let server: GitServer;
let proxy: GitProxy;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  if (!ready) return;
  server = await startGitServer({ token: TOKEN });
  const files = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`src/file${i}.txt`, `line ${i}\n`]));
  server.createBareRepo('app.git', { 'README.md': '# app\n', ...files });
  proxy = new GitProxy({ log: () => undefined });
});

afterAll(async () => {
  await proxy?.close();
  await server?.close();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.runIf(ready)('checkpoints of a Docker hand with a git repository', () => {
  it("counts the first tool's change alone, keeps the clone in the checkpoint, and a reclaim before it takes none of the clone", async () => {
    const dir = tempDir('drover-git-checkpoints-');
    const store = SessionStore.open({ dataDir: dir });
    const instance = instanceIdOf(dir);
    const engine = new DockerEngine({ instance });
    const registry = new HandRegistry({ store, docker: engine, secrets, gitProxy: proxy, log: () => undefined });
    cleanups.push(async () => {
      await registry.close();
      await new HandRegistry({ store, docker: new DockerEngine({ instance }), log: () => undefined }).cleanUp();
      removeInstanceObjects(instance);
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const { id: sessionId } = store.createSession({ title: 'git checkpoints' });
    registry.attach(sessionId, {
      name: 'box',
      config: {
        kind: 'docker',
        image: GIT_IMAGE,
        network: 'bridge',
        repos: [{ url: server.url('app.git'), token_secret_id: SECRET, path: '/workspace/app' }],
      },
    });
    const events = <K extends EventType>(type: K, id = sessionId) => store.getEvents(id, { types: [type] }) as Array<EventOf<K>>;
    const run = async (command: string, id = sessionId): Promise<number> => {
      const toolUseId = `toolu_${randomBytes(6).toString('hex')}`;
      store.emitEvent(id, {
        type: 'agent.tool_use',
        payload: { tool_use_id: toolUseId, name: 'box__bash', input: { command }, hand_id: 'box' },
      });
      const [hand] = await registry.handsFor(id);
      const outcome = await hand?.execute('box__bash', { command }, { signal: new AbortController().signal });
      if (!outcome || outcome.isError) throw new Error(`${command} failed: ${JSON.stringify(outcome?.content)}`);
      const result = store.emitEvent(id, {
        type: 'agent.tool_result',
        payload: { tool_use_id: toolUseId, content: outcome.content, is_error: false },
      });
      await registry.settled();
      return result.seq;
    };
    const containerOf = (id: string) => engine.docker.getContainer(registry.statuses(id)[0]?.container ?? 'none');

    // The first call starts the container (the clone) and changes nothing: nothing recorded.
    await run('cat /workspace/app/README.md');
    expect(events('hand.checkpoint')).toEqual([]);
    // A reclaim now: nothing recorded names the clone's files, but the hand holds them.
    await reclaimBlobs(store, registry.blobs);

    const written = await run('echo hi > /workspace/app/new.txt');
    const [checkpoint] = events('hand.checkpoint');
    expect(checkpoint?.payload).toMatchObject({ at_seq: written, changed_paths: 1 });
    expect(checkpoint?.payload.parent).not.toBeNull(); // the start's files (not recorded)
    const manifest = await loadManifest(registry.blobs, checkpoint?.payload.manifest ?? '');
    const paths = manifest.entries.map((entry) => entry.path);
    expect(paths).toEqual(expect.arrayContaining(['/workspace/app/README.md', '/workspace/app/src/file11.txt', '/workspace/app/new.txt']));
    for (const hash of await blobsOf(registry.blobs, checkpoint?.payload.manifest ?? '')) expect(await registry.blobs.has(hash)).toBe(true);

    // A fork at that result has the clone and the file.
    const walk = await walkContainer(engine, containerOf(sessionId));
    const fork = store.fork(sessionId, written);
    await run('true', fork.id);
    expect(events('hand.ready', fork.id).at(-1)?.payload.restored_from).toEqual({ session_id: sessionId, at_seq: written });
    // But .git/config: a restored container's origin points at the proxy's URL for it (a new capability).
    const but = (entries: typeof walk.entries) => entries.filter((entry) => entry.path !== '/workspace/app/.git/config');
    expect(but((await walkContainer(engine, containerOf(fork.id))).entries)).toEqual(but(walk.entries));
  }, 180_000);
});
