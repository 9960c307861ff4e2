/**
 * What Drover made on Docker engines and no longer needs: this data folder's containers and
 * snapshot images (found by labels) that a rule picks — after a session is deleted, and at start
 * (what a crash or an expired keep-alive left). Run on every engine given (this computer's and
 * those of Settings → Engines); an engine that does not answer is skipped.
 */
import { LABELS, type DockerEngine } from './engine.ts';

/** Picks what goes, by labels; `id` is a container's short id, undefined for images. */
export type Doomed = (labels: Record<string, string>, id?: string) => boolean;

export async function removeLeftovers(
  engines: readonly DockerEngine[],
  doomed: Doomed,
  log: (message: string, error?: unknown) => void,
): Promise<{ containers: number; images: number }> {
  const counts = await Promise.all(engines.map((engine) => removeOn(engine, doomed, log)));
  return counts.reduce((sum, count) => ({ containers: sum.containers + count.containers, images: sum.images + count.images }), {
    containers: 0,
    images: 0,
  });
}

async function removeOn(
  docker: DockerEngine,
  doomed: Doomed,
  log: (message: string, error?: unknown) => void,
): Promise<{ containers: number; images: number }> {
  if ((await docker.unavailableReason()) !== null) return { containers: 0, images: 0 };
  const filters = { label: [`${LABELS.instance}=${docker.instance}`] };
  let containers = 0;
  let images = 0;
  for (const info of await docker.docker.listContainers({ all: true, filters })) {
    if (!doomed(info.Labels, info.Id.slice(0, 12))) continue;
    await docker.docker
      .getContainer(info.Id)
      .remove({ force: true, v: true })
      .then(() => containers++)
      .catch((error: unknown) => log(`Could not remove container ${info.Id.slice(0, 12)}`, error));
  }
  for (const info of await docker.docker.listImages({ filters: { ...filters, reference: [`${docker.snapshotRepository}`] } })) {
    if (!doomed(info.Labels ?? {})) continue;
    for (const tag of info.RepoTags ?? []) {
      await docker.docker
        .getImage(tag)
        .remove()
        .then(() => images++)
        .catch((error: unknown) => log(`Could not remove snapshot ${tag}`, error));
    }
  }
  return { containers, images };
}
