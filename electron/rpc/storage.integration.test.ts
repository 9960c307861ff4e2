// Settings → Storage (issue 20 item 5) through its RPC handlers, a real registry and store in a temp
// dir, the real Docker engine (BUSYBOX_IMAGE), real blobs on disk and a real statfs:
// - the usage figures equal what is on disk (blob files walked, the container's writable layer as
//   `docker inspect --size` says), shared blobs shown as shared and counted once;
// - reclaim frees only blobs no session's checkpoints reach (a fork's parent's blobs are kept);
// - deleting a session removes the blobs only it used;
// - low disk (a threshold set above the disk's real free space): captures pause, nothing is recorded,
//   the usage says so; back under it, the next checkpoint takes every change since.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventOf, EventType } from '#shared/events';
import { createStorageHandlers } from './storage-handlers.ts';
import { dockerCli, requireDocker } from '#test/support/docker';
import { blobFiles, storageRig } from '#test/support/storage-rig';
import { blobsOf, loadManifest } from '#services/checkpoints/manifest';
import { diskOf } from '#services/checkpoints/storage-disk';

const ready = await requireDocker();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function rig() {
  const { dir, store, engine, hands, sessionId, exec } = storageRig({ prefix: 'drover-storage-', title: 'storage', cleanups });
  const rpc = createStorageHandlers({ store, hands, engine });
  const events = <K extends EventType>(type: K, id = sessionId) => store.getEvents(id, { types: [type] }) as Array<EventOf<K>>;
  const run = (command: string, id = sessionId): Promise<number> => exec(command, id).then((result) => result.seq);
  const blobsOfSession = async (id: string): Promise<Set<string>> => {
    const all = new Set<string>();
    const own = store.getEvents(id, { types: ['hand.checkpoint'], afterSeq: store.getSession(id).forkSeq ?? 0 });
    for (const event of own)
      if (event.type === 'hand.checkpoint') for (const hash of await blobsOf(hands.blobs, event.payload.manifest)) all.add(hash);
    return all;
  };
  return { dir, store, engine, hands, rpc, sessionId, events, run, blobsOfSession };
}

describe.runIf(ready)('Settings → Storage', () => {
  it('usage equals what is on disk; reclaim frees only unreachable blobs (a fork keeps its parent’s); a deleted session’s blobs go', async () => {
    const r = rig();
    const a = await r.run('head -c 300000 /dev/urandom > /workspace/parent.bin');
    const fork = r.store.fork(r.sessionId, a, { title: 'fork' });
    await r.run('head -c 200000 /dev/urandom > /workspace/fork.bin', fork.id);
    // The fork's own checkpoint (its view of the parent ends at the tool result, before the parent's checkpoint event).
    expect(r.events('hand.checkpoint', fork.id).map((event) => event.seq > a)).toEqual([true]);

    const usage = await r.rpc['storage-usage'](undefined);
    const onDisk = blobFiles(r.dir);
    const sum = (hashes: Iterable<string>) => [...hashes].reduce((total, hash) => total + (onDisk.get(hash) ?? 0), 0);
    expect(usage.totals.checkpointBytes).toBe(sum(onDisk.keys()));
    expect(usage.totals.checkpointBlobs).toBe(onDisk.size);
    expect(usage.totals.unreachableBytes).toBe(0);
    const parentBlobs = await r.blobsOfSession(r.sessionId);
    const forkBlobs = await r.blobsOfSession(fork.id);
    const parentRow = usage.sessions.find((row) => row.sessionId === r.sessionId);
    const forkRow = usage.sessions.find((row) => row.sessionId === fork.id);
    expect(parentRow?.checkpointBytes).toBe(sum(parentBlobs));
    expect(forkRow?.checkpointBytes).toBe(sum(forkBlobs));
    // The fork's checkpoint names parent.bin again: its content is one blob, shown as shared by both.
    const shared = [...forkBlobs].filter((hash) => parentBlobs.has(hash));
    expect(sum(shared)).toBeGreaterThan(300_000 * 0.99);
    expect(forkRow?.sharedBytes).toBe(sum(shared));
    expect(parentRow?.sharedBytes).toBe(sum(shared));
    expect(parentRow?.hands.map((hand) => hand.hand)).toEqual(['box']);
    // Containers: each session's writable layer, as the engine measures it.
    for (const [id, row] of [
      [r.sessionId, parentRow],
      [fork.id, forkRow],
    ] as const) {
      const container = r.hands.statuses(id)[0]?.container ?? '';
      expect(row?.containerBytes).toBe(Number(dockerCli('inspect', '--size', '-f', '{{.SizeRw}}', container)));
      expect(row?.totalBytes).toBe((row?.checkpointBytes ?? 0) + (row?.imageBytes ?? 0) + (row?.containerBytes ?? 0));
    }
    // Largest first; free disk is the real statfs.
    expect(usage.sessions.map((row) => row.totalBytes)).toEqual([...usage.sessions.map((row) => row.totalBytes)].sort((x, y) => y - x));
    const disk = await diskOf(r.dir);
    expect(Math.abs(usage.disk.freeBytes - disk.freeBytes)).toBeLessThan(512 * 1024 ** 2);
    expect(usage.disk.totalBytes).toBe(disk.totalBytes);

    // A blob nothing reaches (a capture's leftover): reclaim frees exactly it; every blob of both sessions stays.
    const orphan = await r.hands.blobs.put(randomBytes(50_000));
    expect((await r.rpc['storage-usage'](undefined)).totals.unreachableBytes).toBe(orphan.stored);
    const reclaimed = await r.rpc['storage-reclaim'](undefined);
    expect(reclaimed).toMatchObject({ blobs: 1, freedBytes: orphan.stored, images: 0, containers: 0 });
    expect(await r.hands.blobs.has(orphan.hash)).toBe(false);
    for (const hash of [...parentBlobs, ...forkBlobs]) expect(await r.hands.blobs.has(hash)).toBe(true);
    // A second reclaim finds nothing.
    expect(await r.rpc['storage-reclaim'](undefined)).toMatchObject({ blobs: 0, freedBytes: 0 });

    // Deleting the fork removes the blobs only it used; its parent's (shared ones included) stay and still restore.
    r.store.deleteSession(fork.id);
    await r.hands.sessionDeleted(fork.id);
    for (const hash of forkBlobs) expect(await r.hands.blobs.has(hash)).toBe(parentBlobs.has(hash));
    expect(blobFiles(r.dir).size).toBe(parentBlobs.size);
    for (const event of r.events('hand.checkpoint')) await loadManifest(r.hands.blobs, event.payload.manifest);
    const after = await r.rpc['storage-usage'](undefined);
    expect(after.sessions.map((row) => row.sessionId)).toEqual([r.sessionId]);
    expect(after.sessions[0]?.sharedBytes).toBe(0);
  });

  it('low disk: captures pause (nothing recorded, the usage says so); back above the threshold the next checkpoint takes every change', async () => {
    const r = rig();
    await r.run('echo one > /workspace/one');
    const before = r.events('hand.checkpoint').length;
    expect(before).toBe(1);
    const free = (await diskOf(r.dir)).freeBytes;
    const paused = await r.rpc['storage-set-threshold']({ minFreeBytes: free + 1024 ** 4, minFreePercent: 0 });
    expect(paused.checkpointsPaused).toMatch(
      /^Checkpoints are paused: the data folder's disk has .* free, under the .* Drover keeps free\./,
    );
    const blobsBefore = blobFiles(r.dir);
    await r.run('echo two > /workspace/two');
    await r.run('head -c 100000 /dev/urandom > /workspace/three');
    expect(r.events('hand.checkpoint')).toHaveLength(before);
    expect(r.events('hand.snapshot')).toHaveLength(0);
    expect(blobFiles(r.dir)).toEqual(blobsBefore);

    const resumed = await r.rpc['storage-set-threshold']({ minFreeBytes: 0, minFreePercent: 0 });
    expect(resumed.checkpointsPaused).toBeNull();
    await r.run('echo four > /workspace/four');
    const last = r.events('hand.checkpoint').at(-1);
    expect(r.events('hand.checkpoint')).toHaveLength(before + 1);
    const manifest = await loadManifest(r.hands.blobs, last?.payload.manifest ?? '');
    const paths = manifest.entries.filter((entry) => entry.path.startsWith('/workspace/')).map((entry) => entry.path);
    expect(paths).toEqual(['/workspace/four', '/workspace/one', '/workspace/three', '/workspace/two']);
  });

  it('refuses a threshold out of range, in words, and keeps the one in force', async () => {
    const r = rig();
    const { rpcMethods } = await import('#shared/rpc');
    const parsed = rpcMethods['storage-set-threshold'].arg.safeParse({ minFreeBytes: 1, minFreePercent: 150 });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe('give a percentage from 0 to 100');
    expect(rpcMethods['storage-set-threshold'].arg.safeParse({ minFreeBytes: 1, minFreePercent: 5, extra: 1 }).success).toBe(false);
    expect((await r.rpc['storage-usage'](undefined)).threshold).toEqual({ minFreeBytes: 2 * 1024 ** 3, minFreePercent: 5 });
  });
});
