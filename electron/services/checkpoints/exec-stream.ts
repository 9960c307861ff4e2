/**
 * A command in a container whose stdout is consumed as it arrives (a tar of changed files can be
 * larger than memory should hold): stdout is a stream with back-pressure (the engine's stream is
 * paused while the consumer is behind), stderr is collected (bounded), and the exit code returned.
 */
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { Demuxer, exitCodeOf, type DockerEngine } from '#services/hands/docker/engine';

const MAX_STDERR = 64 * 1024;

export interface StreamedExec {
  stdout: AsyncIterable<Buffer>;
  /** Settles when the command ended and its stdout was consumed. */
  done: Promise<{ stderr: string; exitCode: number | null }>;
}

export async function execStreamed(
  engine: DockerEngine,
  container: Docker.Container,
  cmd: string[],
  stdin: Buffer,
  signal?: AbortSignal,
): Promise<StreamedExec> {
  let exec: Docker.Exec;
  let stream: NodeJS.ReadWriteStream;
  try {
    exec = await container.exec({ Cmd: cmd, AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false });
    stream = (await exec.start({ hijack: true, stdin: true })) as NodeJS.ReadWriteStream;
  } catch (error) {
    throw engine.explain(error, 'run a command in the container');
  }
  const stdout = new PassThrough();
  let stderr = '';
  let paused = false;
  const demux = new Demuxer((kind, payload) => {
    if (kind === 'stderr') {
      if (stderr.length < MAX_STDERR) stderr += payload.toString('utf8');
      return;
    }
    if (!stdout.write(payload) && !paused) {
      paused = true;
      stream.pause();
      stdout.once('drain', () => {
        paused = false;
        stream.resume();
      });
    }
  });
  const ended = new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      (stream as NodeJS.ReadWriteStream & { destroy?: () => void }).destroy?.();
      stdout.destroy(new Error('stopped'));
      reject(new Error('stopped'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (chunk: Buffer) => demux.push(chunk));
    stream.on('error', (error: Error) => {
      stdout.destroy(error);
      reject(error);
    });
    const finish = (): void => {
      signal?.removeEventListener('abort', onAbort);
      stdout.end();
      resolve();
    };
    stream.on('end', finish);
    stream.on('close', finish);
  });
  stream.end(stdin);
  const done = ended.then(async () => ({ stderr: stderr.trim(), exitCode: await exitCodeOf(exec) }));
  done.catch(() => undefined); // the consumer sees the failure through stdout or awaits done
  return { stdout, done };
}
