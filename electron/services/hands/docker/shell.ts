/**
 * A persistent shell inside a container (see #services/hands/shell for the protocol): one
 * long-lived `docker exec` of bash (or sh where the image has no bash) with its stdin attached;
 * commands that run too long are killed from a second exec. Every end of the stream (end,
 * close, error) must end the shell, and only once: a killed exec must never leave a call waiting.
 */
import type Docker from 'dockerode';
import { KILL_TREE, PersistentShell, SHELL_LAUNCH, type ShellChannel } from '#services/hands/shell';
import { Demuxer, type DockerEngine } from './engine.ts';

/** Starts a shell in `workingDir`. Rejects when the container is not running. */
export async function openContainerShell(engine: DockerEngine, container: Docker.Container, workingDir: string): Promise<PersistentShell> {
  let stream: NodeJS.ReadWriteStream & { destroy?: () => void };
  try {
    const exec = await container.exec({
      Cmd: ['/bin/sh', '-c', SHELL_LAUNCH],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      WorkingDir: workingDir,
    });
    stream = (await exec.start({ hijack: true, stdin: true })) as typeof stream;
  } catch (error) {
    throw engine.explain(error, 'start a shell in the container');
  }
  let ended = false;
  const channel: ShellChannel = {
    write: (text) => void stream.write(text),
    onData: (listener) => {
      const demux = new Demuxer((_kind, payload) => listener(payload));
      stream.removeAllListeners('data');
      stream.on('data', (chunk: Buffer) => demux.push(chunk));
    },
    onEnd: (listener) => {
      const end = (reason: string): void => {
        if (ended) return;
        ended = true;
        listener(reason);
      };
      stream.on('end', () => end('exited'));
      stream.on('close', () => end('exited'));
      stream.on('error', (error: Error) => end(error.message));
    },
    destroy: () => stream.destroy?.(),
  };
  return PersistentShell.start(channel, {
    async killTree(pid) {
      try {
        await engine.exec(container, ['/bin/sh', '-c', KILL_TREE, 'sh', String(pid)], { signal: AbortSignal.timeout(10_000) });
      } catch {
        // The container may be gone already: its stream ends all the same.
      }
    },
    killShell(pid) {
      void engine.exec(container, ['kill', '-KILL', String(pid)]).catch(() => undefined);
    },
  });
}
