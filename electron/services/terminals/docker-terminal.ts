/**
 * A terminal in a Docker hand's container: an interactive `docker exec` of bash (sh where the image
 * has none) with a TTY and stdin attached over a hijacked stream, resized with exec resize.
 *
 * Docker does not end an exec when its client goes, so closing hangs the shell up from inside:
 * every process of the terminal carries `DROVER_TERMINAL=<id>` in its environment (nothing else is
 * added: the container's environment holds no vault value) and gets SIGHUP, as a closed terminal
 * window gives it.
 */
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { DockerEngine } from '#services/hands/docker/engine';
import { TERM, type TerminalChannel, type TerminalEnded, type TerminalSize } from './channel.ts';

const SHELL = 'if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi';

/** SIGHUP to every process whose environment names terminal `$1`. */
const HANG_UP = `for p in /proc/[0-9]*; do
  if tr '\\0' '\\n' < "$p/environ" 2>/dev/null | grep -qx "DROVER_TERMINAL=$1"; then kill -HUP "\${p#/proc/}" 2>/dev/null; fi
done; true`;

export async function openDockerTerminal(
  engine: DockerEngine,
  container: Docker.Container,
  terminalId: string,
  size: TerminalSize,
): Promise<TerminalChannel> {
  let exec: Docker.Exec;
  let stream: Duplex;
  try {
    exec = await container.exec({
      Cmd: ['/bin/sh', '-c', SHELL],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: true,
      Env: [`TERM=${TERM}`, 'COLORTERM=truecolor', `DROVER_TERMINAL=${terminalId}`],
    });
    stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
  } catch (error) {
    throw engine.explain(error, 'open a terminal in the container');
  }
  const resize = async ({ cols, rows }: TerminalSize): Promise<void> => {
    try {
      await exec.resize({ h: rows, w: cols });
    } catch {
      // The shell may have just ended: its end is reported by the stream.
    }
  };
  await resize(size);
  let ended = false;
  let closing = false;
  let onEnd: (ended: TerminalEnded) => void = () => undefined;
  const end = (reason: string): void => {
    if (ended) return;
    ended = true;
    if (closing) return;
    exec.inspect().then(
      (info) =>
        onEnd({ code: info.ExitCode ?? null, reason: info.ExitCode === null ? reason : `the shell exited with code ${info.ExitCode}` }),
      () => onEnd({ code: null, reason }),
    );
  };
  stream.on('end', () => end('the shell ended'));
  stream.on('close', () => end('the shell ended'));
  stream.on('error', (error: Error) => end(`the connection to the container failed: ${error.message}`));
  return {
    write: (data) => void stream.write(data),
    resize,
    onData: (listener) => void stream.on('data', listener),
    onEnd: (listener) => {
      onEnd = listener;
    },
    pause: () => void stream.pause(),
    resume: () => void stream.resume(),
    close: async () => {
      closing = true;
      if (!ended) {
        await engine
          .exec(container, ['/bin/sh', '-c', HANG_UP, 'sh', terminalId], { signal: AbortSignal.timeout(10_000) })
          .catch(() => undefined); // a container that is gone has no shell left to hang up
      }
      stream.destroy();
    },
  };
}
