/**
 * The container side of a capture: a shell function that stats the candidate paths and streams
 * back, as a tar, the files and links changed since a given second (see docker-capture.ts).
 *
 * Starting an exec costs ~50 ms on Docker (runc), more than the rest of a small capture together,
 * so one `sh` per container stays open between captures (an exec attached to stdin, holding no
 * file open, ended when its stream closes — Drover's exit, the container's end) and each capture
 * is one request on it: the function's name, the second, and the paths as a here-document with a
 * random end line (a path is data, never part of a command). A reply is the clock, the stat lines,
 * `::tar::`, the tar, and a block of 0xFF bytes (never a tar header: its checksum cannot match)
 * that ends it. A helper that fails or stalls is dropped; the capture then runs as a one-shot exec.
 */
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { Demuxer, type DockerEngine } from '#services/hands/docker/engine';
import { execStreamed } from './exec-stream.ts';

/** `capture_run SECOND` with the candidates on stdin, one per line (`/./path`: read whatever its ctime). */
export const CAPTURE_FUNCTION = `capture_run() {
date +%s
s=$(tr '\\n' '\\0' | xargs -0 -r stat -c '%f %u %g %s %Y %Z %n' -- 2>/dev/null)
printf '%s\\n::tar::\\n' "$s"
printf '%s\\n' "$s" | awk -v t="$1" '{ k = substr($1, 1, 1); n = $0; for (i = 0; i < 6; i++) sub(/^[^ ]+ /, "", n);
  if ((k == "8" || k == "a") && ($6 >= t || substr(n, 1, 3) == "/./")) print n }' | tr '\\n' '\\0' | xargs -0 -r tar -cf - --no-recursion -- 2>/dev/null
head -c 512 /dev/zero | tr '\\0' '\\377'
}`;

/** A reply's bytes, ending with the 0xFF block (the tar reader stops there). */
export interface CaptureReply {
  stdout: AsyncIterable<Buffer>;
  /** Call once the reader stopped: `complete` when it read the 0xFF block (else the helper is dropped). */
  finish(complete: boolean): void;
  /** After finish: null, or why the command failed. */
  failure(): Promise<string | null> | string | null;
}

/** No byte for this long in the middle of a reply: the helper is dropped. */
const STALL_MS = 30_000;

const helpers = new Map<string, CaptureHelper>();

/** Runs the capture function in `container`: on its open helper shell, else as a one-shot exec. */
export async function runCapture(
  engine: DockerEngine,
  container: Docker.Container,
  since: number,
  paths: readonly string[],
  signal?: AbortSignal,
): Promise<CaptureReply> {
  const list = paths.map((path) => `${path}\n`).join('');
  let helper = helpers.get(container.id);
  if (!helper || helper.closed) {
    helper = await CaptureHelper.open(container).catch(() => undefined);
    if (helper) helpers.set(container.id, helper);
  }
  if (helper && !helper.busy) return helper.request(since, list);
  const run = await execStreamed(
    engine,
    container,
    ['/bin/sh', '-c', `${CAPTURE_FUNCTION}\ncapture_run "$1"`, 'sh', String(Math.max(0, Math.floor(since)))],
    Buffer.from(list),
    signal,
  );
  return {
    stdout: run.stdout,
    finish: () => undefined,
    failure: () => run.done.then(({ stderr, exitCode }) => (exitCode === 0 ? null : stderr || `exit code ${exitCode ?? 'unknown'}`)),
  };
}

/** Closes the helper shell of a container (when its hand lets it go). */
export function closeCaptureHelper(containerId: string): void {
  helpers.get(containerId)?.close();
  helpers.delete(containerId);
}

/** Chunks pushed by the engine's stream, pulled by one reply at a time. */
class CaptureHelper {
  closed = false;
  busy = false;
  private readonly chunks: Buffer[] = [];
  private waiting: ((chunk: Buffer | null) => void) | null = null;
  private stderr = '';

  private constructor(
    private readonly stream: NodeJS.ReadWriteStream,
    private readonly containerId: string,
  ) {
    const demux = new Demuxer((kind, payload) => {
      if (kind === 'stderr') this.stderr = (this.stderr + payload.toString('utf8')).slice(-4096);
      else this.deliver(payload);
    });
    stream.on('data', (chunk: Buffer) => demux.push(chunk));
    const end = (): void => this.close();
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  static async open(container: Docker.Container): Promise<CaptureHelper> {
    const exec = await container.exec({ Cmd: ['/bin/sh'], AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false });
    const stream = (await exec.start({ hijack: true, stdin: true })) as NodeJS.ReadWriteStream;
    const helper = new CaptureHelper(stream, container.id);
    stream.write(`${CAPTURE_FUNCTION}\n`);
    return helper;
  }

  request(since: number, list: string): CaptureReply {
    this.busy = true;
    this.stderr = '';
    const end = `D_${randomBytes(12).toString('hex')}`;
    this.stream.write(`capture_run ${Math.max(0, Math.floor(since))} <<'${end}'\n${list}${end}\n`);
    const next = (): Promise<Buffer | null> => this.next();
    async function* reply(): AsyncGenerator<Buffer> {
      for (let chunk = await next(); chunk !== null; chunk = await next()) yield chunk;
    }
    return {
      stdout: reply(),
      finish: (complete) => {
        if (complete && !this.closed) this.busy = false;
        else this.close(); // read only in part: where the next reply starts is lost
      },
      failure: () => (this.closed ? `the helper shell ended (${this.stderr.trim() || 'no message'})` : null),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    helpers.delete(this.containerId);
    (this.stream as NodeJS.ReadWriteStream & { destroy?: () => void }).destroy?.();
    this.deliver(null);
  }

  private deliver(chunk: Buffer | null): void {
    if (this.waiting) {
      const waiting = this.waiting;
      this.waiting = null;
      waiting(chunk);
    } else if (chunk) this.chunks.push(chunk);
  }

  private next(): Promise<Buffer | null> {
    const chunk = this.chunks.shift();
    if (chunk) return Promise.resolve(chunk);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.close(), STALL_MS);
      this.waiting = (value) => {
        clearTimeout(timer);
        resolve(value);
      };
    });
  }
}
