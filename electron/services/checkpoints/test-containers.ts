/**
 * Containers for the checkpoint tests and bench: made like a Docker hand's (the instance label, an
 * idle shell, optional bind mounts), removed by `removeAll`. Test support, not product code.
 */
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { LABELS, type DockerEngine } from '#services/hands/docker/engine';

const IDLE = 'trap "exit 0" TERM; while :; do sleep 3600 & wait $!; done';

export class TestContainers {
  private readonly made: Docker.Container[] = [];

  constructor(
    private readonly engine: DockerEngine,
    private readonly image: string,
  ) {}

  async start(mounts: Array<{ host: string; target: string }> = []): Promise<Docker.Container> {
    const container = await this.engine.docker.createContainer({
      name: `drover-checkpoint-test-${randomBytes(4).toString('hex')}`,
      Image: this.image,
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: [IDLE],
      WorkingDir: '/work',
      Labels: { [LABELS.instance]: this.engine.instance },
      HostConfig: {
        NetworkMode: 'none',
        Mounts: mounts.map((mount) => ({ Type: 'bind' as const, Source: mount.host, Target: mount.target, ReadOnly: false })),
      },
    });
    this.made.push(container);
    await container.start();
    return container;
  }

  /** Runs a shell script in the container; rejects with its stderr when it fails. */
  async sh(container: Docker.Container, script: string): Promise<string> {
    const result = await this.engine.exec(container, ['/bin/sh', '-c', script]);
    if (result.exitCode !== 0) throw new Error(`"${script}" failed (${result.exitCode}): ${result.stderr.toString('utf8')}`);
    return result.stdout.toString('utf8');
  }

  async removeAll(): Promise<void> {
    for (const container of this.made.splice(0)) await container.remove({ force: true, v: true }).catch(() => undefined);
  }
}
