// Checkpoints of Docker containers, for real: a scripted sequence of changes (creates, edits,
// deletes, a rename, chmod and chown, symbolic links, empty folders, the image's own files edited
// and deleted, files turned into folders and back, a 50 MiB file changed by one byte, a rewrite
// within the same second), a capture after each. Every checkpoint restored into a fresh container —
// and in place, into the last one — gives exactly the tree a full walk saw when it was taken; the
// diff between checkpoints equals the diff of the walks; what each capture stores is measured
// against what changed (printed); a mounted host folder is never read or touched.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import { BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import { tempDir } from '#test/support/system';
import { BlobStore } from './blob-store.ts';
import { captureContainer, type Capture } from './docker-capture.ts';
import { imageEntries, restoreContainer, restoreFile } from './docker-restore.ts';
import { walkContainer } from './full-walk.ts';
import {
  CHUNK_BYTES,
  diffManifests,
  imagePathsFor,
  type Checkpoint,
  type Manifest,
  type ManifestDiff,
  type ManifestEntry,
} from './manifest.ts';
import { TestContainers } from './test-containers.ts';

const ready = await requireDocker();
const MiB = 1024 * 1024;
const LONG = `/work/${'deep/'.repeat(25)}long name ü.txt`;

interface Step {
  name: string;
  script: string;
  /** Bytes the step wrote or changed (for the storage figure). */
  changed: number;
}

const STEPS: Step[] = [
  {
    name: 'creates, a link, an empty folder, odd names',
    script: `mkdir -p /work/src /work/empty "$(dirname "${LONG}")" && printf 'hello\\n' > /work/a.txt && printf b > /work/src/b.txt &&
      echo c > /work/src/c.txt && ln -s a.txt /work/link && echo 'echo run' > /work/run.sh && echo long > "${LONG}" &&
      echo 'spaces' > '/work/with space.txt' && echo host > /mnt/host/written.txt`,
    changed: 6 + 1 + 2 + 9 + 5 + 7,
  },
  {
    name: 'edit, delete, rename, chmod and chown, a link retargeted',
    script: `echo more >> /work/a.txt && rm /work/src/b.txt && mv /work/src/c.txt /work/src/d.txt && chmod 750 /work/run.sh &&
      chown 1000:1000 /work/run.sh && ln -sfn run.sh /work/link && chmod 700 /work/empty`,
    changed: 5,
  },
  {
    name: "the image's files: edited, deleted, a folder's mode",
    script: `echo 'x:x:1000:1000::/home/x:/bin/sh' >> /etc/passwd && rm /etc/group && chmod 700 /root && mkdir -p /work/empty/nested`,
    changed: 32,
  },
  { name: 'a 50 MiB file', script: 'dd if=/dev/urandom of=/work/big.bin bs=1048576 count=50 2>/dev/null', changed: 50 * MiB },
  {
    name: 'the 50 MiB file changed by one byte',
    script: 'printf Z | dd of=/work/big.bin bs=1 seek=12345678 conv=notrunc 2>/dev/null && [ $(stat -c %s /work/big.bin) = 52428800 ]',
    changed: 1,
  },
  {
    name: 'a folder becomes a file, a file a folder, a link to an absolute path, only an mtime',
    script: `rm -rf /work/src && echo file > /work/src && rm /work/a.txt && mkdir /work/a.txt && ln -s /etc/passwd /work/abs && touch -d '2001-02-03 04:05:06' /work/run.sh`,
    changed: 5,
  },
  { name: 'a file written', script: 'echo one > /work/fast', changed: 4 },
  { name: 'the same file rewritten, same size, likely the same second', script: 'echo two > /work/fast', changed: 4 },
];

/** A walk's entries without what a restore cannot keep the same (nothing, today) — as comparable values. */
function tree(manifest: Manifest): ManifestEntry[] {
  return manifest.entries;
}

function pathsOf(diff: ManifestDiff): Record<string, string[]> {
  return {
    added: diff.added.map((change) => change.path),
    changed: diff.changed.map((change) => change.path),
    deleted: diff.deleted.map((change) => change.path),
    modeChanged: diff.modeChanged.map((change) => change.path),
    renamed: diff.renamed.map((rename) => `${rename.from} -> ${rename.to}`),
  };
}

describe.runIf(ready)('checkpoints of a Docker container', () => {
  const dataDir = tempDir('drover-checkpoints-');
  const hostDir = tempDir('drover-checkpoints-host-');
  const engine = new DockerEngine({ instance: instanceIdOf(dataDir) });
  const blobs = new BlobStore(dataDir);
  const containers = new TestContainers(engine, BUSYBOX_IMAGE);
  const mounts = [{ host: hostDir, target: '/mnt/host' }];
  const captures: Capture[] = [];
  const walks: Manifest[] = [];
  let source: Docker.Container;

  beforeAll(async () => {
    mkdirSync(path.join(hostDir, 'kept'), { recursive: true });
    writeFileSync(path.join(hostDir, 'kept', 'mine.txt'), 'the user’s own\n');
    source = await containers.start(mounts);
    let previous: Checkpoint | null = null;
    for (const step of STEPS) {
      await containers.sh(source, step.script);
      const capture = await captureContainer({ engine, blobs, container: source, previous });
      captures.push(capture);
      walks.push(await walkContainer(engine, source));
      previous = capture.checkpoint;
      const { stats } = capture;
      console.log(
        `  capture "${step.name}": ${stats.examined} paths named by docker diff, ${stats.read} read (${stats.bytes_read} B), ` +
          `${stats.bytes_stored} B stored for ${step.changed} B changed (${(stats.bytes_stored / Math.max(1, step.changed)).toFixed(2)}×) ` +
          `in ${stats.duration_ms.toFixed(0)} ms (diff ${stats.diff_ms.toFixed(0)}, stat ${stats.stat_ms.toFixed(0)}, read ${stats.read_ms.toFixed(0)})`,
      );
    }
  }, 300_000);

  afterAll(async () => {
    await containers.removeAll();
  });

  it('restores every checkpoint into a fresh container with exactly the files it had', async () => {
    for (const [index, capture] of captures.entries()) {
      const fresh = await containers.start(mounts);
      await restoreContainer({ engine, blobs, container: fresh, target: capture.checkpoint.manifest, current: null });
      expect(tree(await walkContainer(engine, fresh)), `checkpoint ${index} (${STEPS[index]?.name})`).toEqual(
        tree(walks[index] as Manifest),
      );
      // Captured again, the restored container is the same checkpoint.
      const again = await captureContainer({ engine, blobs, container: fresh, previous: null });
      expect(again.manifest.entries).toEqual(capture.manifest.entries);
      await fresh.remove({ force: true });
    }
  }, 300_000);

  it('restores in place: back to an early checkpoint and forward again, writing only the difference', async () => {
    const last = captures.at(-1) as Capture;
    const early = await restoreContainer({
      engine,
      blobs,
      container: source,
      target: captures[1]?.checkpoint.manifest ?? '',
      current: last.manifest,
    });
    expect(tree(await walkContainer(engine, source))).toEqual(tree(walks[1] as Manifest));
    expect(early.from_image).toBeGreaterThan(0); // /etc/passwd, /etc/group and /root come back from the image
    const back = await restoreContainer({
      engine,
      blobs,
      container: source,
      target: last.checkpoint.manifest,
      current: captures[1]?.manifest ?? null,
    });
    expect(tree(await walkContainer(engine, source))).toEqual(tree(walks.at(-1) as Manifest));
    expect(back.written).toBeLessThan(last.manifest.entries.length);
    // Nothing changed since: a capture now is the same checkpoint and reads no file.
    const same = await captureContainer({ engine, blobs, container: source, previous: last.checkpoint });
    expect(same.checkpoint.manifest).toBe(last.checkpoint.manifest);
  }, 300_000);

  it('restores one file, leaving the others as they are', async () => {
    const container = await containers.start(mounts);
    const last = captures.at(-1) as Capture;
    await restoreContainer({ engine, blobs, container, target: last.checkpoint.manifest, current: null });
    const checkpoint = captures[1]?.checkpoint.manifest ?? '';
    await restoreFile({ engine, blobs, container, target: checkpoint, path: '/work/run.sh' });
    await restoreFile({ engine, blobs, container, target: checkpoint, path: '/etc/group' }); // as in the image
    const walk = await walkContainer(engine, container);
    const expected = new Map((walks.at(-1) as Manifest).entries.map((entry) => [entry.path, entry]));
    for (const restored of ['/work/run.sh', '/etc/group']) {
      const entry = (walks[1] as Manifest).entries.find((candidate) => candidate.path === restored);
      if (!entry) throw new Error(`${restored} missing from walk 1`);
      expected.set(restored, entry);
    }
    expect(walk.entries).toEqual([...expected.values()].sort((a, b) => (a.path < b.path ? -1 : 1)));
    await expect(restoreFile({ engine, blobs, container, target: checkpoint, path: '/mnt/host/written.txt' })).rejects.toThrow(
      /mounted host folder/,
    );
  }, 120_000);

  it('diffs between checkpoints equal the diffs of full walks, and name what each step changed', async () => {
    const exact = async (a: Manifest, b: Manifest): Promise<ManifestDiff> =>
      diffManifests(a, b, await imageEntries(engine, blobs, a.base ?? '', imagePathsFor(a, b)));
    for (let index = 1; index < captures.length; index++) {
      const overlay = await exact((captures[index - 1] as Capture).manifest, (captures[index] as Capture).manifest);
      const whole = diffManifests(walks[index - 1] as Manifest, walks[index] as Manifest);
      expect(pathsOf(overlay), `step ${index}`).toEqual(pathsOf(whole));
    }
    const first = await exact((captures[0] as Capture).manifest, (captures.at(-1) as Capture).manifest);
    expect(pathsOf(first)).toEqual(pathsOf(diffManifests(walks[0] as Manifest, walks.at(-1) as Manifest)));
    const step1 = pathsOf(diffManifests((captures[0] as Capture).manifest, (captures[1] as Capture).manifest));
    expect(step1).toEqual({
      added: [],
      changed: ['/work/a.txt', '/work/link'],
      deleted: ['/work/src/b.txt'],
      modeChanged: ['/work/empty', '/work/run.sh'],
      renamed: ['/work/src/c.txt -> /work/src/d.txt'],
    });
    const step4 = pathsOf(diffManifests((captures[3] as Capture).manifest, (captures[4] as Capture).manifest));
    expect(step4.changed).toEqual(['/work/big.bin']);
    const step7 = pathsOf(diffManifests((captures[6] as Capture).manifest, (captures[7] as Capture).manifest));
    expect(step7.changed).toEqual(['/work/fast']);
  });

  it('stores what changed: a new 50 MiB file about once, a one-byte change one chunk, an unchanged tree nothing', () => {
    const big = captures[3] as Capture;
    expect(big.stats.bytes_stored).toBeLessThanOrEqual(1.2 * 50 * MiB + 64 * 1024);
    expect(big.stats.bytes_stored).toBeGreaterThanOrEqual(50 * MiB);
    const oneByte = captures[4] as Capture;
    // The file is read again (docker diff names the path, not the bytes), with any small file written in the previous capture's second.
    expect(oneByte.stats.bytes_read).toBeGreaterThanOrEqual(50 * MiB);
    expect(oneByte.stats.bytes_read).toBeLessThan(50 * MiB + 64 * 1024);
    expect(oneByte.stats.bytes_stored).toBeLessThanOrEqual(CHUNK_BYTES + 64 * 1024);
    const entry = oneByte.manifest.entries.find((candidate) => candidate.path === '/work/big.bin');
    expect(entry?.chunks).toHaveLength(50);
  });

  it('never reads or touches a mounted host folder', () => {
    for (const capture of captures) expect(capture.manifest.entries.filter((entry) => entry.path.startsWith('/mnt/host/'))).toEqual([]);
    expect(readFileSync(path.join(hostDir, 'written.txt'), 'utf8')).toBe('host\n');
    expect(readFileSync(path.join(hostDir, 'kept', 'mine.txt'), 'utf8')).toBe('the user’s own\n');
  });
});
