// A reclaim that sweeps while a capture runs (issue 20, BlobStore.hold): the capture's manifest
// names blobs it wrote and blobs it reused — a file unchanged since its previous checkpoint keeps
// its entry unread, its blob already in the store — and a reclaim in the middle must take none of
// them, even when nothing recorded names the previous checkpoint (a capture that was never
// recorded, or one storage retention thinned). Real engine (BUSYBOX_IMAGE), real blob store; the
// interleaving is made exact with a promise: the capture is held inside its first write while
// the reclaim runs to its end.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import { BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import { tempDir } from '#test/support/system';
import { BlobStore, sha256, type BlobHold, type PutResult } from './blob-store.ts';
import { captureContainer } from './docker-capture.ts';
import { restoreContainer } from './docker-restore.ts';
import { clearManifestCache, entryMap, loadManifest } from './manifest.ts';
import { TestContainers } from './test-containers.ts';

const ready = await requireDocker();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The real store, whose put of one blob waits at a gate until the test opens it. */
class GatedBlobs extends BlobStore {
  private gate: { hash: string; reached: () => void; opened: Promise<void> } | null = null;

  /** Arms the gate for `hash`: resolves `reached` when a put of it arrives; that put goes on once `open` is called. */
  arm(hash: string): { reached: Promise<void>; open: () => void } {
    let reached = (): void => undefined;
    let open = (): void => undefined;
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    const opened = new Promise<void>((resolve) => (open = resolve));
    this.gate = { hash, reached, opened };
    return { reached: arrived, open };
  }

  override async put(data: Buffer, hold?: BlobHold, hash: string = sha256(data)): Promise<PutResult> {
    const gate = this.gate;
    if (gate !== null && gate.hash === hash) {
      this.gate = null;
      gate.reached();
      await gate.opened;
    }
    return super.put(data, hold, hash);
  }
}

describe.runIf(ready)('a reclaim while a capture runs', () => {
  it('keeps the blobs the capture reuses from its previous checkpoint, not only the ones it writes', async () => {
    const dir = tempDir('drover-reclaim-race-');
    const engine = new DockerEngine({ instance: instanceIdOf(dir) });
    const containers = new TestContainers(engine, BUSYBOX_IMAGE);
    cleanups.push(async () => {
      await containers.removeAll();
      rmSync(dir, { recursive: true, force: true });
    });
    const blobs = new GatedBlobs(dir);
    const container = await containers.start();
    // kept.txt is written a whole second (the ctime's unit) before the first capture, so the second one keeps its entry unread.
    await containers.sh(container, 'echo kept > /work/kept.txt; t=$(date +%s); while [ "$(date +%s)" -le "$t" ]; do :; done');
    const first = await captureContainer({ engine, blobs, container, previous: null });
    const kept = sha256(Buffer.from('kept\n'));
    expect(entryMap(first.manifest).get('/work/kept.txt')?.hash).toBe(kept);
    await containers.sh(container, 'echo changed > /work/changed.txt');
    const changed = sha256(Buffer.from('changed\n'));

    // The second capture runs until it writes changed.txt's blob; there it waits while a reclaim runs to its end.
    const gate = blobs.arm(changed);
    const capturing = captureContainer({ engine, blobs, container, previous: first.checkpoint });
    await gate.reached;
    // Nothing recorded names the first checkpoint: every blob only it reaches may go — but not one the capture in progress names.
    await blobs.reclaim([], () => Promise.resolve([]));
    gate.open();
    const second = await capturing;
    expect(second.stats.read).toBe(1); // changed.txt only: kept.txt's entry (and blob) came from the first checkpoint
    expect(entryMap(second.manifest).get('/work/kept.txt')?.hash).toBe(kept);
    expect(await blobs.has(kept)).toBe(true);
    expect(await blobs.has(changed)).toBe(true);

    // The checkpoint is whole: read back from the store and restored into a fresh container.
    clearManifestCache();
    expect((await loadManifest(blobs, second.checkpoint.manifest)).entries.map((entry) => entry.path)).toEqual([
      '/work/changed.txt',
      '/work/kept.txt',
    ]);
    const fresh = await containers.start();
    await restoreContainer({ engine, blobs, container: fresh, target: second.checkpoint.manifest, current: null });
    expect(await containers.sh(fresh, 'cat /work/kept.txt /work/changed.txt')).toBe('kept\nchanged\n');
  });
});
