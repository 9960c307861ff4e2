// Checkpoint storage on the real Docker engine: two containers writing the same content store it
// once; reclaiming after a branch is gone frees exactly the blobs only it reached, and every
// checkpoint still live restores exactly afterwards.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import { BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import { tempDir } from '#test/support/system';
import { BlobMissingError, BlobStore, sha256 } from './blob-store.ts';
import { closeCaptureHelper } from './capture-shell.ts';
import { captureContainer } from './docker-capture.ts';
import { restoreContainer } from './docker-restore.ts';
import { walkContainer } from './full-walk.ts';
import { blobsOf } from './manifest.ts';
import { TestContainers } from './test-containers.ts';

const ready = await requireDocker();
const MiB = 1024 * 1024;

describe.runIf(ready)('checkpoint storage', () => {
  const dataDir = tempDir('drover-checkpoints-storage-');
  const engine = new DockerEngine({ instance: instanceIdOf(dataDir) });
  const containers = new TestContainers(engine, BUSYBOX_IMAGE);

  afterAll(async () => {
    await containers.removeAll();
  });

  it('stores the same content written by two containers once', async () => {
    const blobs = new BlobStore(dataDir);
    const content = randomBytes(3 * MiB);
    const one = await containers.start();
    const two = await containers.start();
    for (const container of [one, two]) {
      const write = await engine.exec(container, ['/bin/sh', '-c', 'mkdir -p /work && cat > /work/same.bin'], { stdin: content });
      expect(write.exitCode).toBe(0);
    }
    await containers.sh(two, 'echo only-two > /work/other.txt');
    const first = await captureContainer({ engine, blobs, container: one, previous: null });
    const after = await blobs.stats();
    const second = await captureContainer({ engine, blobs, container: two, previous: null });
    console.log(
      `  dedup: first container stored ${first.stats.bytes_stored} B for 3 MiB; the second, with the same 3 MiB and a 9-byte file, ${second.stats.bytes_stored} B`,
    );
    expect(first.stats.bytes_stored).toBeGreaterThanOrEqual(3 * MiB);
    expect(second.stats.bytes_stored).toBeLessThan(4096); // its manifest and the small file
    expect((await blobs.stats()).blobs).toBe(after.blobs + 3); // the small file, its manifest's page and root
    const big = second.manifest.entries.find((entry) => entry.path === '/work/same.bin');
    expect(big?.hash).toBe(sha256(content));
    expect(big?.chunks).toHaveLength(3);
  }, 120_000);

  it('captures alike on the shell kept open, on a one-shot exec while it is busy, and after it was closed', async () => {
    const blobs = new BlobStore(dataDir);
    const container = await containers.start();
    await containers.sh(container, 'mkdir -p /work && echo one > /work/a.txt && head -c 300000 /dev/urandom > /work/b.bin');
    const first = await captureContainer({ engine, blobs, container, previous: null });
    // Two at once: one on the open shell, the other as a one-shot exec.
    const [left, right] = await Promise.all([
      captureContainer({ engine, blobs, container, previous: first.checkpoint }),
      captureContainer({ engine, blobs, container, previous: first.checkpoint }),
    ]);
    expect(left.checkpoint.manifest).toBe(first.checkpoint.manifest);
    expect(right.checkpoint.manifest).toBe(first.checkpoint.manifest);
    closeCaptureHelper(container.id);
    await containers.sh(container, 'echo two >> /work/a.txt');
    const after = await captureContainer({ engine, blobs, container, previous: left.checkpoint });
    expect(after.manifest.entries.find((entry) => entry.path === '/work/a.txt')?.hash).toBe(sha256(Buffer.from('one\ntwo\n')));
    expect((await walkContainer(engine, container)).entries.find((entry) => entry.path === '/work/a.txt')?.hash).toBe(
      sha256(Buffer.from('one\ntwo\n')),
    );
  }, 120_000);

  it('never deletes a folder that holds a mounted host folder, even restoring a checkpoint without it', async () => {
    const blobs = new BlobStore(dataDir);
    const host = tempDir('drover-checkpoints-mount-');
    writeFileSync(path.join(host, 'precious.txt'), 'the user’s\n');
    const unmounted = await containers.start();
    await containers.sh(unmounted, 'mkdir -p /work && echo a > /work/a.txt');
    const without = await captureContainer({ engine, blobs, container: unmounted, previous: null });
    const mounted = await containers.start([{ host, target: '/srv/host' }]);
    await containers.sh(mounted, 'mkdir -p /srv/other && echo x > /srv/file.txt');
    const withMount = await captureContainer({ engine, blobs, container: mounted, previous: null });
    // /srv is the folder the engine made for the mount point (engine-paths.ts): not one of the container's changes.
    expect(withMount.manifest.entries.map((entry) => entry.path).filter((p) => p.startsWith('/srv'))).toEqual([
      '/srv/file.txt',
      '/srv/other',
    ]);
    // The target has no /srv at all (the image lacks it): restoring deletes /srv/file.txt and /srv/other, not /srv.
    await restoreContainer({ engine, blobs, container: mounted, target: without.checkpoint.manifest, current: withMount.manifest });
    expect(readFileSync(path.join(host, 'precious.txt'), 'utf8')).toBe('the user’s\n');
    expect(await containers.sh(mounted, 'ls -A /srv; cat /work/a.txt')).toBe('host\na\n');
  }, 120_000);

  it('reclaims what only a dropped branch reached; what is live still restores exactly', async () => {
    const blobs = new BlobStore(tempDir('drover-checkpoints-gc-'));
    const container = await containers.start();
    await containers.sh(container, 'mkdir -p /work && echo shared > /work/shared.txt && head -c 2097152 /dev/urandom > /work/trunk.bin');
    const base = await captureContainer({ engine, blobs, container, previous: null });
    const baseWalk = await walkContainer(engine, container);
    // A branch: writes 3 MiB of its own, then is dropped.
    await containers.sh(container, 'head -c 3145728 /dev/urandom > /work/branch.bin && echo branch >> /work/shared.txt');
    const branch = await captureContainer({ engine, blobs, container, previous: base.checkpoint });
    const branchOnly = (await blobsOf(blobs, branch.checkpoint.manifest)).filter(
      (hash) => !new Set(base.manifest.entries.flatMap((entry) => entry.chunks ?? (entry.hash ? [entry.hash] : []))).has(hash),
    );
    const before = await blobs.stats();
    const freed = await blobs.reclaim([base.checkpoint.manifest], (id) => blobsOf(blobs, id));
    const after = await blobs.stats();
    console.log(
      `  reclaim: ${freed.blobs} blobs, ${freed.bytes} B freed of ${before.bytes} B; ${after.bytes} B left for the live checkpoint`,
    );
    expect(freed.blobs).toBe(new Set(branchOnly).size);
    expect(freed.bytes).toBe(before.bytes - after.bytes);
    expect(freed.bytes).toBeGreaterThanOrEqual(3 * MiB);
    for (const hash of branchOnly) await expect(blobs.get(hash)).rejects.toBeInstanceOf(BlobMissingError);
    const fresh = await containers.start();
    await restoreContainer({ engine, blobs, container: fresh, target: base.checkpoint.manifest, current: null });
    expect((await walkContainer(engine, fresh)).entries).toEqual(baseWalk.entries);
    await expect(restoreContainer({ engine, blobs, container: fresh, target: branch.checkpoint.manifest, current: null })).rejects.toThrow(
      /missing from the data folder/,
    );
  }, 120_000);
});
