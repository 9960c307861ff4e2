/**
 * SSH checkpoints (issue 20) on the bench's sshd: the time to checkpoint a working folder of 500
 * files after a one-line change (checkpoints/ssh-capture.ts, against the previous checkpoint) vs a
 * turn-end shadow-git snapshot of the same kind of change (hands/ssh/shadow-git.ts, what SSH hands
 * kept before), interleaved in one run on one folder; and the bytes a checkpoint stores for it.
 * Reported (no target in the issue for SSH; the Docker figure's is ≤ 0.5× `docker commit`).
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { BlobStore } from '#services/checkpoints/blob-store';
import { captureFolder, type RemoteExec } from '#services/checkpoints/ssh-capture';
import type { SshConnection } from '#services/hands/ssh/connection';
import { ShadowSnapshots } from '#services/hands/ssh/shadow-git';
import { tempDir } from '#test/support/system';
import { ms, p50, type Log } from './harness/common.ts';
import type { Figure } from './session-store.ts';

const FILES = 500;
const ROUNDS = 15;

export async function benchSshCheckpoints(connection: SshConnection, home: string, log: Log): Promise<Figure[]> {
  const folder = `${home}/drover-bench-ckpt-${process.pid}`;
  const exec: RemoteExec = (command, stdin) => connection.execStream(command, stdin);
  const run = async (command: string): Promise<void> => {
    const result = await connection.exec(command);
    if (result.exitCode !== 0) throw new Error(`${command}: ${result.output.toString('utf8')}`);
  };
  const blobDir = tempDir('drover-bench-ssh-ckpt-');
  const blobs = new BlobStore(blobDir);
  const shadow = new ShadowSnapshots(
    async (command) => {
      const result = await connection.exec(command);
      return { code: result.exitCode, stdout: result.output.toString('utf8'), stderr: '' };
    },
    { workDir: folder, storeDir: `${folder}-shadow.git` },
  );
  try {
    await run(`mkdir -p ${folder}/src && cd ${folder} && for i in $(seq 1 ${FILES}); do echo "line $i" > src/f$i.ts; done`);
    let previous = (await captureFolder({ exec, blobs, folder, previous: null })).checkpoint;
    await shadow.snapshot('first');
    const ours: number[] = [];
    const stored: number[] = [];
    const git: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await run(`echo "edit ${round}" >> ${folder}/src/f${round + 1}.ts`);
      let started = performance.now();
      const capture = await captureFolder({ exec, blobs, folder, previous });
      ours.push(performance.now() - started);
      stored.push(capture.stats.bytes_stored);
      previous = capture.checkpoint;
      await run(`echo "edit ${round}" >> ${folder}/src/f${round + 101}.ts`);
      started = performance.now();
      await shadow.snapshot(`round ${round}`);
      git.push(performance.now() - started);
    }
    log(
      `  SSH checkpoint of a ${FILES}-file folder after a one-line change p50 ${ms(p50(ours))} (stores ${p50(stored)} bytes), shadow-git snapshot p50 ${ms(p50(git))}`,
    );
    return [
      {
        name: `SSH: checkpoint after a one-line change in a ${FILES}-file folder p50`,
        value: p50(ours),
        unit: 'ms',
        baseline: { name: 'shadow-git turn-end snapshot of the same kind of change', value: p50(git) },
        ratio: p50(ours) / p50(git),
        target: 'reported',
      },
      { name: 'SSH: bytes a checkpoint stores for a one-line change p50', value: p50(stored), unit: 'bytes', target: 'reported' },
    ];
  } finally {
    await run(`rm -rf ${folder} ${folder}-shadow.git`).catch(() => undefined);
    rmSync(blobDir, { recursive: true, force: true });
  }
}
