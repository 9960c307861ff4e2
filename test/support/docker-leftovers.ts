/**
 * Vitest global set-up: a run must leave no Drover containers or snapshot images in the Docker
 * engine. Every data folder a test makes with `tempDir()` (test/support/system.ts) is written to a
 * ledger; at the end of the run, containers and images labelled with the instance of one of those
 * folders (`app.drover.instance`, see engine.ts) are leftovers: they are removed, and the run
 * fails naming them. Only this run's folders count, so other runs on a shared engine are never
 * blamed (nor touched). Without a Docker engine there is nothing to check.
 */
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { DockerEngine, instanceIdOf, LABELS } from '#services/hands/docker/engine';
import { LEDGER_ENV, tempDir } from './system.ts';

export default function setup(): () => Promise<void> {
  const runDir = tempDir('drover-test-run-');
  const ledger = `${runDir}/temp-dirs.txt`;
  appendFileSync(ledger, '');
  process.env[LEDGER_ENV] = ledger;
  return async () => {
    try {
      const leftovers = await findLeftovers(readFileSync(ledger, 'utf8').split('\n').filter(Boolean));
      if (leftovers.length > 0) {
        process.exitCode = 1; // an error in a teardown alone does not fail the run
        throw new Error(
          `The tests left ${leftovers.length} Drover object(s) in the Docker engine (now removed); tests must remove what they create:\n${leftovers.join('\n')}`,
        );
      }
    } finally {
      delete process.env[LEDGER_ENV];
      rmSync(runDir, { recursive: true, force: true });
    }
  };
}

/** This run's leftover containers and images, each described (and removed). */
async function findLeftovers(dirs: string[]): Promise<string[]> {
  const engine = new DockerEngine({ instance: 'leftovers' });
  if ((await engine.unavailableReason()) !== null) return [];
  const instances = new Map(dirs.map((dir) => [instanceIdOf(dir), dir]));
  const found: string[] = [];
  const filters = { label: [LABELS.instance] };
  for (const info of await engine.docker.listContainers({ all: true, filters })) {
    const dir = instances.get(info.Labels[LABELS.instance] ?? '');
    if (dir === undefined) continue;
    found.push(`container ${info.Names.join(', ')} (${info.Image}; session ${info.Labels[LABELS.session] ?? '?'}, data folder ${dir})`);
    await engine.docker
      .getContainer(info.Id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
  }
  for (const info of await engine.docker.listImages({ filters })) {
    const dir = instances.get(info.Labels?.[LABELS.instance] ?? '');
    if (dir === undefined) continue;
    found.push(`image ${(info.RepoTags ?? [info.Id]).join(', ')} (session ${info.Labels?.[LABELS.session] ?? '?'}, data folder ${dir})`);
    for (const tag of info.RepoTags ?? [])
      await engine.docker
        .getImage(tag)
        .remove()
        .catch(() => undefined);
  }
  return found;
}
