/**
 * What the engine says about a hand's containers: one kept alive by an earlier run of Drover to
 * reuse, and whether the current one still runs once something in it failed (its shell ended by
 * itself, an edit failed) — and if not, why, in words for the model and the user.
 *
 * The engine's record alone cannot say: a killed container's exec streams end before the engine
 * records its death, so right then it still reads "running" (most of the time on a loaded
 * machine). A command that starts in the container settles it — none can once it died — and then
 * the engine's record of the death, waited for, gives the reason. A container killed mid-command
 * must never be reported running on the engine's record alone (its shell's end is not an `exit`).
 */
import type Docker from 'dockerode';
import { isNotFound, LABELS, type DockerEngine } from './engine.ts';

/** How long a probe command may take to say whether the container still runs. */
const PROBE_TIMEOUT_MS = 10_000;
/** How long the engine may take to record the death of a container a probe found dead. */
const DEATH_RECORD_TIMEOUT_MS = 10_000;

/** Why `container` is gone, or null while it runs on. `memoryMb`: its limit, for an out-of-memory death. */
export async function lostContainerReason(
  engine: DockerEngine,
  container: Docker.Container,
  memoryMb: number | null,
): Promise<string | null> {
  try {
    const probe = await engine.exec(container, ['/bin/sh', '-c', 'exit 0'], { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (probe.exitCode === 0) return null;
  } catch {
    // Refused: the container is gone or going (the engine's record says which).
  }
  try {
    await container.wait({ condition: 'not-running', abortSignal: AbortSignal.timeout(DEATH_RECORD_TIMEOUT_MS) });
  } catch {
    // Removed, the engine unreachable, or still running after the time: inspected below.
  }
  try {
    const info = await container.inspect();
    if (info.State.Running) return null; // paused (a snapshot in progress) counts as running
    const oom = info.State.OOMKilled ? `; it ran out of memory (limit ${memoryMb} MiB)` : '';
    return `the container stopped with exit code ${info.State.ExitCode}${oom}`;
  } catch (error) {
    if (isNotFound(error)) return 'the container was removed';
    return engine.explain(error).message;
  }
}

export interface KeptContainer {
  container: Docker.Container;
  id: string;
  image: string;
  size: number;
}

/**
 * A container kept alive by an earlier run of Drover for this hand, still running and still made
 * from `configHash`; every other container of the hand is removed.
 */
export async function reuseKeptContainer(
  engine: DockerEngine,
  hand: { sessionId: string; name: string; configHash: string },
): Promise<KeptContainer | null> {
  const found = await engine.docker.listContainers({
    all: true,
    filters: { label: [`${LABELS.instance}=${engine.instance}`, `${LABELS.session}=${hand.sessionId}`, `${LABELS.hand}=${hand.name}`] },
  });
  let reused: KeptContainer | null = null;
  for (const info of found) {
    const container = engine.docker.getContainer(info.Id);
    if (!reused && info.State === 'running' && info.Labels[LABELS.config] === hand.configHash) {
      const image = await engine.docker.getImage(info.ImageID).inspect();
      reused = { container, id: info.Id.slice(0, 12), image: info.Image, size: image.Size };
    } else {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }
  return reused;
}
