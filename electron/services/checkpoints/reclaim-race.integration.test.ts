// A reclaim that sweeps while a capture runs (issue 20, BlobStore.hold): the capture's manifest
// names blobs it wrote and blobs it reused — a file unchanged since its previous checkpoint keeps
// its entry unread, its blob already in the store — and a reclaim in the middle must take none of
// them, even when nothing recorded names the previous checkpoint (a capture that was never
// recorded, or one storage retention thinned) — and a blob a capture finds there while a reclaim
// is removing it must be written again, not counted as there. Real engine (BUSYBOX_IMAGE), real
// blob store; the interleavings are made exact with promises (GatedBlobs holds one blob's put, its
// removal, or a put's presence check), no sleeps.
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

interface Gate {
  /** Resolves when the gated call arrives. */
  reached: Promise<void>;
  /** Lets it go on. */
  open: () => void;
}

function gate(): Gate & { arrive: () => void; opened: Promise<void> } {
  let arrive = (): void => undefined;
  let open = (): void => undefined;
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { reached, open, arrive, opened };
}

/**
 * The real store, with three places a test can hold one blob's work: a put of it (before it
 * starts), a reclaim's removal of its file (decided, not yet done), and what a put's presence
 * check answers (after the check, before the put goes on).
 */
class GatedBlobs extends BlobStore {
  private putGate: { hash: string; gate: ReturnType<typeof gate> } | null = null;
  private removeGate: { hash: string; gate: ReturnType<typeof gate> } | null = null;
  private hasHook: { hash: string; after: () => Promise<void> } | null = null;

  gatePut(hash: string): Gate {
    const made = gate();
    this.putGate = { hash, gate: made };
    return made;
  }

  gateRemoval(hash: string): Gate {
    const made = gate();
    this.removeGate = { hash, gate: made };
    return made;
  }

  /** Runs `after` once a presence check of `hash` has its answer, before the caller sees it. */
  afterHas(hash: string, after: () => Promise<void>): void {
    this.hasHook = { hash, after };
  }

  override async put(data: Buffer, hold?: BlobHold, hash: string = sha256(data)): Promise<PutResult> {
    const held = this.putGate;
    if (held !== null && held.hash === hash) {
      this.putGate = null;
      held.gate.arrive();
      await held.gate.opened;
    }
    return super.put(data, hold, hash);
  }

  override async has(hash: string): Promise<boolean> {
    const answer = await super.has(hash);
    const hook = this.hasHook;
    if (hook !== null && hook.hash === hash) {
      this.hasHook = null;
      await hook.after();
    }
    return answer;
  }

  protected override async removeBlob(file: string): Promise<void> {
    const held = this.removeGate;
    if (held !== null && file === this.pathOf(held.hash)) {
      this.removeGate = null;
      held.gate.arrive();
      await held.gate.opened;
    }
    await super.removeBlob(file);
  }
}

/** A temp data folder's gated blob store and the real Docker engine's test containers, removed after the test. */
function raceRig(): { engine: DockerEngine; containers: TestContainers; blobs: GatedBlobs } {
  const dir = tempDir('drover-reclaim-race-');
  const engine = new DockerEngine({ instance: instanceIdOf(dir) });
  const containers = new TestContainers(engine, BUSYBOX_IMAGE);
  cleanups.push(async () => {
    await containers.removeAll();
    rmSync(dir, { recursive: true, force: true });
  });
  const blobs = new GatedBlobs(dir);
  return { engine, containers, blobs };
}

describe.runIf(ready)('a reclaim while a capture runs', () => {
  it('keeps the blobs the capture reuses from its previous checkpoint, not only the ones it writes', async () => {
    const { engine, containers, blobs } = raceRig();
    const container = await containers.start();
    // kept.txt is written a whole second (the ctime's unit) before the first capture, so the second one keeps its entry unread.
    await containers.sh(container, 'echo kept > /work/kept.txt; t=$(date +%s); while [ "$(date +%s)" -le "$t" ]; do :; done');
    const first = await captureContainer({ engine, blobs, container, previous: null });
    const kept = sha256(Buffer.from('kept\n'));
    expect(entryMap(first.manifest).get('/work/kept.txt')?.hash).toBe(kept);
    await containers.sh(container, 'echo changed > /work/changed.txt');
    const changed = sha256(Buffer.from('changed\n'));

    // The second capture runs until it writes changed.txt's blob; there it waits while a reclaim runs to its end.
    const writing = blobs.gatePut(changed);
    const capturing = captureContainer({ engine, blobs, container, previous: first.checkpoint });
    await writing.reached;
    // Nothing recorded names the first checkpoint: every blob only it reaches may go — but not one the capture in progress names.
    await blobs.reclaim([], () => Promise.resolve([]));
    writing.open();
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

  it('a blob a capture finds while a reclaim is removing it is written again, not found and then gone', async () => {
    const { engine, containers, blobs } = raceRig();
    // A capture nothing records stores the content once.
    const one = await containers.start();
    await containers.sh(one, 'echo same > /work/same.txt');
    await captureContainer({ engine, blobs, container: one, previous: null });
    const same = sha256(Buffer.from('same\n'));
    expect(await blobs.has(same)).toBe(true);

    // A reclaim decides the blob goes (nothing live names it, no capture holds it) and is held before the file is removed.
    const removal = blobs.gateRemoval(same);
    const reclaiming = blobs.reclaim([], () => Promise.resolve([]));
    await removal.reached;
    // A capture of another container with the same content: its put finds the blob still there; then the removal ends.
    blobs.afterHas(same, async () => {
      removal.open();
      await reclaiming;
    });
    const two = await containers.start();
    await containers.sh(two, 'echo same > /work/same.txt');
    const capture = await captureContainer({ engine, blobs, container: two, previous: null });
    await reclaiming;
    expect(entryMap(capture.manifest).get('/work/same.txt')?.hash).toBe(same);
    expect(await blobs.has(same)).toBe(true);
    const fresh = await containers.start();
    await restoreContainer({ engine, blobs, container: fresh, target: capture.checkpoint.manifest, current: null });
    expect(await containers.sh(fresh, 'cat /work/same.txt')).toBe('same\n');
  });
});
