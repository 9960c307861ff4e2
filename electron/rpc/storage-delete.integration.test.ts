// Deleting a session removes what only it used (issue 20 item 5), with a real registry and store,
// the real Docker engine (BUSYBOX_IMAGE) and real blobs: the blobs only its checkpoints reach (the
// bytes freed are exactly its own, as Settings → Storage showed them), its containers and its
// snapshot images; its parent's blobs, container and snapshot images stay, and the parent still
// restores.
import { afterEach, describe, expect, it } from 'vitest';
import { createStorageHandlers } from './storage-handlers.ts';
import { LABELS } from '#services/hands/docker/engine';
import { dockerCli, requireDocker } from '#test/support/docker';
import { blobFiles, storageRig } from '#test/support/storage-rig';
import { blobsOf } from '#services/checkpoints/manifest';

const ready = await requireDocker();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function rig(checkpoints: boolean) {
  const { dir, store, engine, hands, sessionId, exec } = storageRig({
    prefix: 'drover-storage-delete-',
    title: 'parent',
    checkpoints,
    cleanups,
  });
  const rpc = createStorageHandlers({ store, hands, engine });
  const run = (command: string, id: string): Promise<number> => exec(command, id).then((result) => result.seq);
  async function turnEnd(id: string): Promise<number> {
    const seq = store.emitEvent(id, { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } }).seq;
    await hands.settled();
    return seq;
  }
  const labelled = (kind: 'ps' | 'images', id: string): string[] =>
    dockerCli(...(kind === 'ps' ? ['ps', '-aq'] : ['images', '-q']), '--filter', `label=${LABELS.session}=${id}`)
      .split('\n')
      .filter(Boolean);
  return { dir, store, hands, rpc, sessionId, run, turnEnd, labelled };
}

describe.runIf(ready)('Deleting a session', () => {
  it('frees exactly the checkpoint bytes only it used and its container; its parent’s blobs and container stay', async () => {
    const r = rig(true);
    const a = await r.run('head -c 300000 /dev/urandom > /workspace/parent.bin', r.sessionId);
    const fork = r.store.fork(r.sessionId, a, { title: 'fork' });
    await r.run('head -c 200000 /dev/urandom > /workspace/fork.bin && echo edited >> /workspace/parent.bin', fork.id);
    const usage = await r.rpc['storage-usage'](undefined);
    const forkRow = usage.sessions.find((row) => row.sessionId === fork.id);
    const ownBytes = (forkRow?.checkpointBytes ?? 0) - (forkRow?.sharedBytes ?? 0);
    expect(ownBytes).toBeGreaterThan(200_000);
    expect(r.labelled('ps', fork.id)).toHaveLength(1);
    const parentContainers = r.labelled('ps', r.sessionId);
    expect(parentContainers).toHaveLength(1);
    const parentBlobs = new Set<string>();
    for (const event of r.store.getEvents(r.sessionId, { types: ['hand.checkpoint'] }))
      if (event.type === 'hand.checkpoint') for (const hash of await blobsOf(r.hands.blobs, event.payload.manifest)) parentBlobs.add(hash);
    const before = blobFiles(r.dir);
    const total = (files: Map<string, number>) => [...files.values()].reduce((sum, bytes) => sum + bytes, 0);

    r.store.deleteSession(fork.id);
    await r.hands.sessionDeleted(fork.id);
    const after = blobFiles(r.dir);
    expect(total(before) - total(after)).toBe(ownBytes);
    expect([...after.keys()].sort()).toEqual([...parentBlobs].sort());
    expect(r.labelled('ps', fork.id)).toHaveLength(0);
    expect(r.labelled('ps', r.sessionId)).toEqual(parentContainers);
    // Nothing is left for a reclaim to find.
    expect(await r.rpc['storage-reclaim'](undefined)).toMatchObject({ freedBytes: 0, blobs: 0, images: 0, containers: 0 });
  });

  it('removes its snapshot images and containers; its parent’s snapshot image stays and a new fork still starts from it', async () => {
    const r = rig(false);
    await r.run('echo parent > /workspace/who', r.sessionId);
    const idle = await r.turnEnd(r.sessionId);
    const parentImages = r.labelled('images', r.sessionId);
    expect(parentImages).toHaveLength(1);
    const fork = r.store.fork(r.sessionId, idle, { title: 'fork' });
    await r.run('echo fork > /workspace/who', fork.id);
    await r.turnEnd(fork.id);
    expect(r.labelled('images', fork.id)).toHaveLength(1);
    expect(r.labelled('ps', fork.id)).toHaveLength(1);

    r.store.deleteSession(fork.id);
    await r.hands.sessionDeleted(fork.id);
    expect(r.labelled('images', fork.id)).toHaveLength(0);
    expect(r.labelled('ps', fork.id)).toHaveLength(0);
    expect(r.labelled('images', r.sessionId)).toEqual(parentImages);
    const again = r.store.fork(r.sessionId, idle, { title: 'again' });
    const [hand] = await r.hands.handsFor(again.id);
    const outcome = await hand?.execute('box__bash', { command: 'cat /workspace/who' }, { signal: new AbortController().signal });
    expect(outcome?.content.map((block) => (block.type === 'text' ? block.text : '')).join('')).toMatch(/^parent\n/);
  });
});
