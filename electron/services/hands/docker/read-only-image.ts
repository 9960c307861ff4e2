/**
 * The image a thread's read-only copy of a Docker hand starts from (issue 21). A read-only root
 * filesystem cannot take a checkpoint's files once the container runs, so they are put into a
 * short-lived writable container first (the fork restore path of issue 20), which is committed as
 * an image; the read-only container is then made from that image. The image carries the session's
 * labels, so deleting the session (or a start that finds the session gone) removes it.
 *
 * Named after the copy and the checkpoint's event: a new process asking again (after a SIGKILL)
 * finds it and reuses it.
 */
import type { BlobStore } from '#services/checkpoints/blob-store';
import { HandCheckpoints, type CheckpointSource, type SnapshotSource } from '#services/checkpoints/hand-checkpoints';
import { LABELS, type DockerEngine } from './engine.ts';
import { dockerSafe, IDLE_COMMAND } from './hand-support.ts';

export interface ReadOnlyCopy {
  sessionId: string;
  /** The copy's name (`box~a1b2`). */
  name: string;
}

/** An image with the checkpoint's files in place, as a snapshot source the read-only container starts from. */
export async function readOnlyImage(
  engine: DockerEngine,
  blobs: BlobStore,
  copy: ReadOnlyCopy,
  source: CheckpointSource,
  log: (message: string, error?: unknown) => void,
): Promise<SnapshotSource> {
  const tag = `${copy.sessionId}-${dockerSafe(copy.name)}-ro-${source.atSeq}`;
  const image = `${engine.snapshotRepository}:${tag}`;
  const made: SnapshotSource = { kind: 'snapshot', image, sessionId: source.sessionId, atSeq: source.atSeq };
  if (await engine.imageExists(image)) return made;
  const container = await engine.docker.createContainer({
    Image: source.image,
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: [IDLE_COMMAND],
    Labels: { [LABELS.instance]: engine.instance, [LABELS.session]: copy.sessionId, [LABELS.hand]: copy.name },
    HostConfig: { Init: true, NetworkMode: 'none' },
  });
  try {
    await container.start();
    const checkpoints = new HandCheckpoints(engine, blobs, copy, { record: () => undefined, log });
    try {
      await checkpoints.restore(container, source);
    } finally {
      checkpoints.stopped();
    }
    await container.commit({
      repo: engine.snapshotRepository,
      tag,
      pause: true,
      comment: `Drover: files of event ${source.atSeq} for the read-only copy "${copy.name}" of session ${copy.sessionId}`,
    });
    return made;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
