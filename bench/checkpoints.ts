/**
 * Checkpoint benchmarks (issue 20), on the real Docker engine with the busybox test image: what a
 * checkpoint stores per tool call against the bytes the call changed; a 100-turn session writing
 * 1 MiB a turn, all its checkpoints against `docker commit` snapshots of the same container (the
 * design today: each commit holds every change since the container started); capture time for a
 * small change against `docker commit` of the same container (interleaved, API calls both); and
 * a container made ready with a checkpoint's files (create, start, restore) against a bare start.
 *
 * Leaves nothing behind: containers and committed images carry the instance label of a temp data
 * folder and are removed (commits right after they are measured), then the folder.
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type Docker from 'dockerode';
import { BlobStore } from '#services/checkpoints/blob-store';
import { scopeOf } from '#services/checkpoints/container-io';
import { captureContainer, type Capture } from '#services/checkpoints/docker-capture';
import { BlobPrefetch } from '#services/checkpoints/blob-prefetch';
import { restoreContainer } from '#services/checkpoints/docker-restore';
import { CHUNK_BYTES, type Checkpoint } from '#services/checkpoints/manifest';
import { TestContainers } from '#services/checkpoints/test-containers';
import { DockerEngine, instanceIdOf, LABELS } from '#services/hands/docker/engine';
import { BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import { tempDir } from '#test/support/system';
import { benchCheckpointSession } from './checkpoints-session.ts';
import { ms, p50, type Log } from './harness/common.ts';
import type { Figure } from './session-store.ts';

const MiB = 1024 * 1024;
const KiB = 1024;
/** What a capture may add beyond 1.2× the bytes changed (its manifest, a small file's blob). */
const CONSTANT = 16 * KiB;

interface Rig {
  engine: DockerEngine;
  blobs: BlobStore;
  containers: TestContainers;
  baseSize: number;
}

export async function benchCheckpoints(log: Log): Promise<Figure[]> {
  if (!(await requireDocker())) return [];
  const dir = tempDir('drover-bench-checkpoints-');
  const engine = new DockerEngine({ instance: instanceIdOf(dir) });
  const rig: Rig = {
    engine,
    blobs: new BlobStore(dir),
    containers: new TestContainers(engine, BUSYBOX_IMAGE),
    baseSize: (await engine.docker.getImage(BUSYBOX_IMAGE).inspect()).Size,
  };
  try {
    return [
      ...(await perToolCall(rig, log)),
      ...(await smallChangeTime(rig, log)),
      ...(await manyFiles(rig, log)),
      ...(await hundredTurns(rig, log)),
      // The same session through the real harness and host: storage vs docker commit, fork → hand ready.
      ...(await benchCheckpointSession(log)),
    ];
  } finally {
    await rig.containers.removeAll();
    const filters = { label: [`${LABELS.instance}=${engine.instance}`] };
    for (const info of await engine.docker.listImages({ filters })) await engine.docker.getImage(info.Id).remove({ force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

async function capture(rig: Rig, container: Docker.Container, previous: Checkpoint | null): Promise<Capture> {
  return captureContainer({ engine: rig.engine, blobs: rig.blobs, container, previous });
}

// ------------------------------------------------------------------ 1. stored bytes per tool call

async function perToolCall(rig: Rig, log: Log): Promise<Figure[]> {
  const container = await rig.containers.start();
  await rig.containers.sh(container, 'mkdir -p /work/src');
  let previous = (await capture(rig, container, null)).checkpoint;
  const calls: Array<{ name: string; script: string; changed: number }> = [
    { name: 'write a 4 KiB source file', script: "yes 'const answer = 42;' | head -c 4096 > /work/src/a.ts", changed: 4096 },
    { name: 'append a line to it', script: "echo 'export {};' >> /work/src/a.ts", changed: 11 },
    { name: 'write 1 MiB of random bytes', script: 'head -c 1048576 /dev/urandom > /work/random.bin', changed: MiB },
    { name: 'write 1 MiB of log text', script: "yes 'INFO request served in 12 ms' | head -c 1048576 > /work/app.log", changed: MiB },
    { name: 'write a 50 MiB file', script: 'head -c 52428800 /dev/urandom > /work/big.bin', changed: 50 * MiB },
    {
      name: 'change one byte of the 50 MiB file',
      script: 'printf Z | dd of=/work/big.bin bs=1 seek=31000000 conv=notrunc 2>/dev/null',
      changed: 1,
    },
    { name: 'delete the 50 MiB file', script: 'rm /work/big.bin', changed: 0 },
    { name: 'chmod a file', script: 'chmod 600 /work/src/a.ts', changed: 0 },
  ];
  log('  stored bytes per tool call (capture after each; "changed" = bytes the call wrote):');
  const rows: Array<{ name: string; changed: number; stored: number }> = [];
  for (const call of calls) {
    await rig.containers.sh(container, call.script);
    const result = await capture(rig, container, previous);
    previous = result.checkpoint;
    rows.push({ name: call.name, changed: call.changed, stored: result.stats.bytes_stored });
    log(
      `    ${call.name}: ${result.stats.bytes_stored.toLocaleString('en')} B stored for ${call.changed.toLocaleString('en')} B changed ` +
        `(${result.stats.bytes_read.toLocaleString('en')} B read) in ${ms(result.stats.duration_ms)}`,
    );
  }
  const large = rows.filter((row) => row.changed >= MiB);
  const worstLarge = Math.max(...large.map((row) => row.stored / row.changed));
  const overheads = rows.filter((row) => row.changed < MiB && !row.name.includes('one byte')).map((row) => row.stored - 1.2 * row.changed);
  const oneByte = rows.find((row) => row.name.includes('one byte'))?.stored ?? Number.NaN;
  return [
    {
      name: 'stored bytes / bytes changed per tool call, worst of the writes ≥ 1 MiB (random, text, 50 MiB)',
      value: worstLarge,
      unit: '×',
      target: '≤ 1.2× (plus the constant below)',
      pass: worstLarge <= 1.2,
    },
    {
      name: 'stored bytes beyond 1.2× the bytes changed, worst of the small calls (edit, append, delete, chmod): the constant',
      value: Math.max(...overheads) / KiB,
      unit: 'KiB',
      target: `≤ ${CONSTANT / KiB} KiB (the manifest and a small file's blob)`,
      pass: Math.max(...overheads) <= CONSTANT,
    },
    {
      name: 'stored bytes for one byte changed in a 50 MiB file (1 MiB chunks: one chunk per changed region, per file)',
      value: oneByte / KiB,
      unit: 'KiB',
      target: `≤ one chunk (${CHUNK_BYTES / KiB} KiB) + ${CONSTANT / KiB} KiB`,
      pass: oneByte <= CHUNK_BYTES + CONSTANT,
    },
  ];
}

// ---------------------------------------------------- 2. capture time for a small change vs commit

async function smallChangeTime(rig: Rig, log: Log): Promise<Figure[]> {
  const container = await rig.containers.start();
  await rig.containers.sh(container, 'mkdir -p /work && head -c 2097152 /dev/urandom > /work/existing.bin');
  const scope = await scopeOf(rig.engine, container);
  let previous = (await capture(rig, container, null)).checkpoint;
  const captures: number[] = [];
  const commits: number[] = [];
  const rounds = 21;
  for (let round = 0; round < rounds; round++) {
    await rig.containers.sh(container, `echo "note ${round}" >> /work/notes.txt`);
    // Alternate who goes first, so neither always meets a warmer engine.
    const order = round % 2 === 0 ? ['capture', 'commit'] : ['commit', 'capture'];
    for (const which of order) {
      if (which === 'capture') {
        const started = performance.now();
        const result = await captureContainer({ engine: rig.engine, blobs: rig.blobs, container, previous, scope });
        captures.push(performance.now() - started);
        previous = result.checkpoint;
      } else {
        const tag = `bench-small-${round}`;
        const started = performance.now();
        await container.commit({ repo: `drover-bench-checkpoints-${rig.engine.instance}`, tag, pause: true });
        commits.push(performance.now() - started);
        await rig.engine.docker.getImage(`drover-bench-checkpoints-${rig.engine.instance}:${tag}`).remove({ force: true });
      }
    }
  }
  log(`  small change (one line appended): capture p50 ${ms(p50(captures))}, docker commit (API, paused) p50 ${ms(p50(commits))}`);
  const ratio = p50(captures) / p50(commits);
  return [
    {
      name: `capture time p50 after a small change (${rounds} rounds, interleaved)`,
      value: p50(captures),
      unit: 'ms',
      baseline: { name: '`docker commit` (API, paused, as the hand does) of the same container, p50', value: p50(commits) },
      ratio,
      target: '≤ 0.5× docker commit',
      pass: ratio <= 0.5,
    },
  ];
}

// ------------------------------------------- 2b. a small change in a container with 10,000 changed files

/** A container whose changes already hold 10,000 files (an `npm install`): what one small change then costs. */
async function manyFiles(rig: Rig, log: Log): Promise<Figure[]> {
  const files = 10_000;
  const container = await rig.containers.start();
  await rig.containers.sh(
    container,
    `mkdir -p /work/node_modules && cd /work/node_modules && i=0; while [ $i -lt ${files} ]; do echo "module $i" > m$i.js; i=$((i+1)); done`,
  );
  const started = performance.now();
  let previous = (await capture(rig, container, null)).checkpoint;
  const firstMs = performance.now() - started;
  const times: number[] = [];
  const stored: number[] = [];
  const commits: number[] = [];
  for (let round = 0; round < 7; round++) {
    await rig.containers.sh(container, `echo "edit ${round}" >> /work/node_modules/m${round}.js`);
    const result = await capture(rig, container, previous);
    previous = result.checkpoint;
    times.push(result.stats.duration_ms);
    stored.push(result.stats.bytes_stored);
    const commitStarted = performance.now();
    await container.commit({ repo: `drover-bench-checkpoints-${rig.engine.instance}`, tag: `many-${round}`, pause: true });
    commits.push(performance.now() - commitStarted);
    await rig.engine.docker.getImage(`drover-bench-checkpoints-${rig.engine.instance}:many-${round}`).remove({ force: true });
  }
  log(
    `  ${files.toLocaleString('en')} files in the container's changes: first capture ${ms(firstMs)}; then a one-line edit: capture p50 ${ms(p50(times))}, ` +
      `${(p50(stored) / KiB).toFixed(1)} KiB stored per capture (the edited file, the manifest page it falls in, the root); docker commit p50 ${ms(p50(commits))}`,
  );
  return [
    {
      name: `capture time p50 for a one-line edit with ${files.toLocaleString('en')} files already in the container's changes`,
      value: p50(times),
      unit: 'ms',
      baseline: { name: '`docker commit` (API, paused) of the same container, p50', value: p50(commits) },
      ratio: p50(times) / p50(commits),
    },
    {
      name: `stored bytes per capture for that one-line edit (the file, one manifest page of ${files.toLocaleString('en')} paths, the root)`,
      value: p50(stored) / KiB,
      unit: 'KiB',
    },
  ];
}

// ------------------------------------------------------- 3. a 100-turn session writing 1 MiB a turn

async function hundredTurns(rig: Rig, log: Log): Promise<Figure[]> {
  const turns = 100;
  const container = await rig.containers.start();
  await rig.containers.sh(container, 'mkdir -p /work');
  const before = await rig.blobs.stats();
  const checkpoints: Checkpoint[] = [];
  const captureMs: number[] = [];
  /** Measured `docker commit` sizes (image size − base image size) at some turns. */
  const commitSizes = new Map<number, number>([[0, 0]]);
  let previous: Checkpoint | null = null;
  for (let turn = 1; turn <= turns; turn++) {
    await rig.containers.sh(container, `head -c 1048576 /dev/urandom > /work/turn-${turn}.bin`);
    const result = await capture(rig, container, previous);
    previous = result.checkpoint;
    checkpoints.push(result.checkpoint);
    captureMs.push(result.stats.duration_ms);
    if (turn % 10 === 0 || turn <= 3) {
      const reference = `drover-bench-checkpoints-${rig.engine.instance}:turn-${turn}`;
      await container.commit({ repo: `drover-bench-checkpoints-${rig.engine.instance}`, tag: `turn-${turn}`, pause: true });
      const size = (await rig.engine.docker.getImage(reference).inspect()).Size - rig.baseSize;
      await rig.engine.docker.getImage(reference).remove({ force: true });
      commitSizes.set(turn, size);
    }
  }
  const ours = (await rig.blobs.stats()).bytes - before.bytes;
  // Each commit holds every change since the start: interpolate the turns not committed (linear between measured ones).
  const measured = [...commitSizes.entries()].sort((a, b) => a[0] - b[0]);
  let commitTotal = 0;
  for (let turn = 1; turn <= turns; turn++) {
    const exact = commitSizes.get(turn);
    if (exact !== undefined) {
      commitTotal += exact;
      continue;
    }
    const below = measured.filter(([at]) => at < turn).at(-1) ?? [0, 0];
    const above = measured.find(([at]) => at > turn) ?? below;
    const share = above[0] === below[0] ? 0 : (turn - below[0]) / (above[0] - below[0]);
    commitTotal += below[1] + share * (above[1] - below[1]);
  }
  log(
    `  100 turns of +1 MiB: checkpoints store ${(ours / MiB).toFixed(1)} MiB in all; docker commit after every turn would store ` +
      `${(commitTotal / MiB).toFixed(0)} MiB (measured at turns ${measured
        .slice(1)
        .map(([at]) => at)
        .join(', ')}: ${measured
        .slice(1)
        .map(([, size]) => (size / MiB).toFixed(1))
        .join(', ')} MiB; the rest interpolated); capture p50 ${ms(p50(captureMs))}`,
  );

  // A container ready with the files of a checkpoint: create, start, restore — against a bare create and start.
  const readyMs: Record<string, number[]> = { bare: [], 'turn 50': [], 'turn 100': [] };
  for (let round = 0; round < 3; round++) {
    for (const which of Object.keys(readyMs)) {
      const started = performance.now();
      const target = which === 'turn 50' ? checkpoints[49] : which === 'turn 100' ? checkpoints[99] : undefined;
      // As a Docker hand does: the checkpoint's blobs are read ahead while the container is created and started.
      const prefetch = target ? new BlobPrefetch(rig.blobs, target.manifest) : undefined;
      const fresh = await rig.containers.start();
      if (target) {
        const source = prefetch ? { source: prefetch } : {};
        await restoreContainer({
          engine: rig.engine,
          blobs: rig.blobs,
          container: fresh,
          target: target.manifest,
          current: null,
          ...source,
        });
      }
      prefetch?.close();
      readyMs[which]?.push(performance.now() - started);
      await fresh.remove({ force: true });
    }
  }
  const bare = p50(readyMs['bare'] ?? []);
  const at100 = p50(readyMs['turn 100'] ?? []);
  log(
    `  ready with a checkpoint's files (create + start + restore), p50: turn 50 (50 MiB) ${ms(p50(readyMs['turn 50'] ?? []))}, ` +
      `turn 100 (100 MiB) ${ms(at100)}; bare create + start ${ms(bare)}`,
  );
  return [
    {
      name: 'total checkpoint storage, 100 turns writing 1 MiB each (random bytes)',
      value: ours / MiB,
      unit: 'MiB',
      baseline: { name: '`docker commit` after every turn (today’s design; 13 measured, the rest interpolated)', value: commitTotal / MiB },
      ratio: ours / commitTotal,
      target: '≤ 150 MiB',
      pass: ours <= 150 * MiB,
    },
    {
      name: 'capture time p50 over the 100 turns (+1 MiB each)',
      value: p50(captureMs),
      unit: 'ms',
    },
    {
      name: 'container ready with the files of turn 100 of 100 (create + start + restore 100 MiB), p50 of 3',
      value: at100,
      unit: 'ms',
      baseline: { name: 'bare container create + start, p50 of 3', value: bare },
      ratio: at100 / bare,
      target: '≤ 1000 ms',
      pass: at100 <= 1000,
    },
  ];
}
