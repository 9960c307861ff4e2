// The folders the Docker engine makes as it starts a hand's container (issue 20): the working
// directory (/workspace), /sbin for the init program (`Init: true`), the parents of a mounted host
// folder (/mnt/host for /mnt/host/data) are not the hand's changes. Through a real host (store,
// registry, RPC dispatcher) and the real engine (BUSYBOX_IMAGE, which has none of them): one tool
// writing one file in a fresh container records `changed_paths` 1 and `sessions-changes` lists that
// file alone; a chmod of an engine folder is a change like any other; rewinding the files in place
// keeps (or makes again) the engine's folders, exactly as a fork restores them; a fork's
// `hand.ready.image` names the configured image, not the checkpoint base's sha256 id.
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Changes } from '#shared/changes';
import type { EventOf, EventType } from '#shared/events';
import type { SessionSummary } from '#shared/sessions';
import type { Host } from '#rpc/host';
import { BlobStore } from '#services/checkpoints/blob-store';
import { walkContainer } from '#services/checkpoints/full-walk';
import { loadManifest } from '#services/checkpoints/manifest';
import type { SessionStore } from '#services/session/store';
import { BUSYBOX_IMAGE, dockerCli, requireDocker } from '#test/support/docker';
import { closeHostRig, hostRig, type HostRig } from '#test/support/host-rig';
import { tempDir } from '#test/support/system';
import type { DockerEngine } from '#services/hands/docker/engine';

const ready = await requireDocker();

let rig: HostRig | undefined;
let dir: string;
let shared: string;
let store: SessionStore;
let host: Host;
let engine: DockerEngine;

beforeAll(() => {
  if (!ready) return;
  rig = hostRig('drover-engine-paths-');
  ({ dir, store, host, engine } = rig);
  shared = tempDir('drover-engine-paths-host-');
});

afterAll(async () => {
  await closeHostRig(rig);
  if (shared !== undefined) rmSync(shared, { recursive: true, force: true });
});

async function rpc<T>(name: string, arg: unknown): Promise<T> {
  const outcome = await host.dispatch(name, arg);
  if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
  return outcome.result as T;
}

const events = <K extends EventType>(sessionId: string, type: K) => store.getEvents(sessionId, { types: [type] }) as Array<EventOf<K>>;

/** A bash call on the hand as the harness records it (tool use with the hand, the run, the result); the result's seq once its checkpoint settled. */
async function run(sessionId: string, command: string): Promise<number> {
  const toolUseId = `toolu_${randomBytes(6).toString('hex')}`;
  const input = { command };
  store.emitEvent(sessionId, { type: 'agent.tool_use', payload: { tool_use_id: toolUseId, name: 'box__bash', input, hand_id: 'box' } });
  const [hand] = await host.hands.handsFor(sessionId);
  const outcome = await hand?.execute('box__bash', input, { signal: new AbortController().signal });
  if (!outcome || outcome.isError) throw new Error(`${command} failed: ${JSON.stringify(outcome?.content)}`);
  const result = store.emitEvent(sessionId, {
    type: 'agent.tool_result',
    payload: { tool_use_id: toolUseId, content: outcome.content, is_error: false },
  });
  await host.hands.settled();
  return result.seq;
}

function containerOf(sessionId: string): Docker.Container {
  return engine.docker.getContainer(host.hands.statuses(sessionId)[0]?.container ?? 'none');
}

async function sh(sessionId: string, script: string): Promise<string> {
  return (await engine.exec(containerOf(sessionId), ['/bin/sh', '-c', script])).stdout.toString('utf8');
}

describe.runIf(ready)("the engine's own folders in a Docker hand's checkpoints", () => {
  let sessionId: string;
  let attached: number;
  let first: number;

  beforeAll(async () => {
    const launched = await rpc<SessionSummary>('sessions-launch', {
      title: 'engine folders',
      hands: [
        {
          name: 'box',
          config: {
            kind: 'docker',
            image: BUSYBOX_IMAGE,
            network: 'none',
            mounts: [{ host_path: shared, container_path: '/mnt/host/data', read_only: false }],
          },
        },
      ],
    });
    sessionId = launched.id;
    attached = events(sessionId, 'hand.attached')[0]?.seq ?? 0;
    first = await run(sessionId, 'echo hi > /workspace/a.txt');
  }, 120_000);

  it('one tool writing one file in a fresh container is one change, and the Changes view lists that file alone', async () => {
    // The engine made /workspace, /sbin (for /sbin/docker-init) and /mnt/host: the image has none of them.
    expect(await sh(sessionId, 'ls -d /workspace /sbin /mnt/host')).toBe('/mnt/host\n/sbin\n/workspace\n');
    const checkpoints = events(sessionId, 'hand.checkpoint');
    expect(checkpoints.map((event) => [event.payload.at_seq, event.payload.changed_paths])).toEqual([[first, 1]]);
    const manifest = await loadManifest(new BlobStore(dir), checkpoints[0]?.payload.manifest ?? '');
    expect(manifest.entries.map((entry) => entry.path)).toEqual(['/workspace/a.txt']);
    const changes = await rpc<Changes>('sessions-changes', { sessionId, fromSeq: attached, toSeq: first });
    expect(changes.hands.map((hand) => hand.files.map((file) => [file.kind, file.path]))).toEqual([[['added', '/workspace/a.txt']]]);
    // A tool that changes nothing records nothing.
    await run(sessionId, 'cat /workspace/a.txt');
    expect(events(sessionId, 'hand.checkpoint')).toHaveLength(1);
  });

  it("a chmod of an engine folder is a change; rewinding the files in place keeps the engine's folders as a fork makes them", async () => {
    const second = await run(sessionId, 'mkdir /workspace/d && chmod 700 /workspace /mnt/host');
    // d, and the two folders' modes.
    expect(events(sessionId, 'hand.checkpoint').at(-1)?.payload).toMatchObject({ at_seq: second, changed_paths: 3 });

    // Back to after the first tool, in place: /workspace and /mnt/host are the engine's again (0755), d is gone.
    await rpc('sessions-rewind', { sessionId, atSeq: first, keep: 'files' });
    expect(await sh(sessionId, 'stat -c "%a %n" /workspace /mnt/host /sbin; ls -A /workspace')).toBe(
      '755 /workspace\n755 /mnt/host\n755 /sbin\na.txt\n',
    );
    const rewound = await walkContainer(engine, containerOf(sessionId));
    // A fork at the same event starts a fresh container with that checkpoint restored: the same tree.
    const fork = await rpc<SessionSummary>('sessions-fork', { sessionId, atSeq: first });
    const forked = await run(fork.id, 'true');
    expect((await walkContainer(engine, containerOf(fork.id))).entries).toEqual(rewound.entries);
    const ready = events(fork.id, 'hand.ready').at(-1)?.payload;
    expect(ready?.restored_from).toEqual({ session_id: sessionId, at_seq: first });
    // The image the user configured, not the sha256 id the checkpoint was laid over.
    expect(ready?.image).toBe(BUSYBOX_IMAGE);
    expect(events(fork.id, 'hand.checkpoint').filter((event) => event.payload.at_seq >= forked)).toEqual([]);
    // In the fork, one file written is one change too.
    const written = await run(fork.id, 'echo more > /workspace/b.txt');
    expect(events(fork.id, 'hand.checkpoint').at(-1)?.payload).toMatchObject({ at_seq: written, changed_paths: 1 });

    // Before any tool, in place: no file of the hand's, and the engine's folders still there (not deleted as "added").
    await rpc('sessions-rewind', { sessionId, atSeq: attached, keep: 'files' });
    expect(await sh(sessionId, 'stat -c "%a %n" /workspace /mnt/host /sbin; ls -A /workspace')).toBe(
      '755 /workspace\n755 /mnt/host\n755 /sbin\n',
    );
    expect(events(sessionId, 'hand.checkpoint').at(-1)?.payload.changed_paths).toBe(1);
  });
});

describe.runIf(ready)("the engine's init program in an image with a merged /usr", () => {
  // /sbin is a link to usr/sbin (Debian 12, Ubuntu 24.04…): the engine binds docker-init at /usr/sbin/docker-init.
  const image = `drover-test/merged-usr:${randomBytes(4).toString('hex')}`;
  let context: string;

  beforeAll(() => {
    context = tempDir('drover-merged-usr-');
    writeFileSync(path.join(context, 'Dockerfile'), `FROM ${BUSYBOX_IMAGE}\nRUN mkdir -p /usr/sbin && ln -s usr/sbin /sbin\n`);
    dockerCli('build', '-q', '-t', image, context);
  }, 120_000);

  afterAll(() => {
    if (context !== undefined) rmSync(context, { recursive: true, force: true });
    dockerCli('rmi', '-f', image);
  });

  it('is never a file of the hand: one file written is one change, and a fork restores exactly', async () => {
    const launched = await rpc<SessionSummary>('sessions-launch', {
      title: 'merged usr',
      hands: [{ name: 'box', config: { kind: 'docker', image, network: 'none' } }],
    });
    const id = launched.id;
    const attachedSeq = events(id, 'hand.attached')[0]?.seq ?? 0;
    const written = await run(id, 'echo hi > /workspace/a.txt');
    expect(await sh(id, 'ls /usr/sbin')).toBe('docker-init\n');
    const [checkpoint] = events(id, 'hand.checkpoint');
    expect(checkpoint?.payload).toMatchObject({ at_seq: written, changed_paths: 1 });
    const manifest = await loadManifest(new BlobStore(dir), checkpoint?.payload.manifest ?? '');
    expect(manifest.entries.map((entry) => entry.path)).toEqual(['/workspace/a.txt']);
    const changes = await rpc<Changes>('sessions-changes', { sessionId: id, fromSeq: attachedSeq, toSeq: written });
    expect(changes.hands[0]?.files.map((file) => [file.kind, file.path])).toEqual([['added', '/workspace/a.txt']]);
    const walk = await walkContainer(engine, containerOf(id));
    const fork = await rpc<SessionSummary>('sessions-fork', { sessionId: id, atSeq: written });
    await run(fork.id, 'true');
    expect((await walkContainer(engine, containerOf(fork.id))).entries).toEqual(walk.entries);
    expect(events(fork.id, 'hand.ready').at(-1)?.payload.image).toBe(image);
  });
});
