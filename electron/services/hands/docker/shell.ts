/**
 * A persistent shell inside a container: one long-lived `docker exec` of bash (or sh where the
 * image has no bash) fed commands on its stdin, so the working directory, variables and functions
 * carry over between calls, and a call costs a write and a read instead of a new exec.
 *
 * Each command is sent as a quoted here-document to `command eval` (a syntax error stays inside
 * the eval, even in a POSIX sh), with stdin from /dev/null (nothing can read the control stream)
 * and stderr merged into stdout in order; then the shell prints `\n<nonce>:<exit code>:<cwd>\n`,
 * which ends the call. A command that runs too long, or is interrupted, is killed with its shell
 * (from a second exec) — so nothing after it in the same command line runs; the caller starts a
 * new shell in the last working directory.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type Docker from 'dockerode';
import { MarkerScanner, OutputCapture } from '#services/hands/output';
import { Demuxer, type DockerEngine } from './engine.ts';

export interface ShellRunResult {
  /** What the command printed (stdout and stderr in order), cut in the middle when huge. */
  output: string;
  /** Null when the command did not finish (timed out or interrupted and killed with its shell, or the shell ended). */
  exitCode: number | null;
  timedOut: boolean;
  aborted: boolean;
  /** The shell is gone: the command ran `exit`, its shell was killed, or the container stopped. */
  shellEnded: boolean;
  /** The working directory after the command (the last known one when it did not finish). */
  cwd: string;
  durationMs: number;
}

export interface ShellRunOptions {
  timeoutMs: number;
  signal: AbortSignal;
  /** Output so far (capped), at most ~7 times a second while the command runs. */
  onOutput?: (text: string) => void;
}

/** Kills the process $1 and all its descendants, reading parents from /proc: plain sh, any image. */
const KILL_TREE = `
all="$1"; queue="$1"
while [ -n "$queue" ]; do
  set -- $queue; parent=$1; shift; queue="$*"
  for status in /proc/[0-9]*/status; do
    while read -r key value; do
      if [ "$key" = "PPid:" ]; then
        if [ "$value" = "$parent" ]; then child=\${status#/proc/}; child=\${child%/status}; all="$all $child"; queue="$queue $child"; fi
        break
      fi
    done < "$status" 2>/dev/null
  done
done
[ -n "$all" ] && kill -KILL $all 2>/dev/null
exit 0`;

interface PendingRun {
  scanner: MarkerScanner;
  onOutput: (chunk: Buffer) => void;
  settle: (marker: string | null) => void;
}

export class ContainerShell {
  private pending: PendingRun | null = null;
  private ended = false;
  /** Why the stream ended, when it did. */
  private endReason: string | null = null;

  private constructor(
    private readonly engine: DockerEngine,
    private readonly container: Docker.Container,
    private readonly stream: NodeJS.ReadWriteStream & { destroy?: () => void },
    /** The shell's pid inside the container. */
    readonly pid: number,
    /** `bash` or `sh`. */
    readonly flavour: string,
    private cwd: string,
  ) {}

  /** Starts a shell in `workingDir`. Rejects when the container is not running. */
  static async open(engine: DockerEngine, container: Docker.Container, workingDir: string): Promise<ContainerShell> {
    let stream: NodeJS.ReadWriteStream & { destroy?: () => void };
    try {
      const exec = await container.exec({
        Cmd: ['/bin/sh', '-c', 'exec 2>&1; if command -v bash >/dev/null 2>&1; then exec bash --noprofile --norc; fi; exec sh'],
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
    // The first "command" reports the shell's pid and flavour.
    const nonce = randomBytes(12).toString('hex');
    const hello = await new Promise<{ pid: number; flavour: string }>((resolve, reject) => {
      const scanner = new MarkerScanner(nonce);
      let seen = '';
      const timer = setTimeout(() => reject(new Error('the shell did not start within 15 s')), 15_000);
      const demux = new Demuxer((_kind, payload) => {
        const { output, info } = scanner.push(payload);
        seen += output.toString('utf8');
        if (info === null) return;
        clearTimeout(timer);
        stream.removeAllListeners('data');
        resolve({ pid: Number.parseInt(info, 10), flavour: seen.includes('bash') ? 'bash' : 'sh' });
      });
      stream.on('data', (chunk: Buffer) => demux.push(chunk));
      stream.once('end', () => reject(new Error(`the shell exited at once${seen ? `: ${seen.trim()}` : ''}`)));
      stream.write(`if [ -n "$BASH_VERSION" ]; then printf bash; fi; printf '\\n%s:%s\\n' '${nonce}' "$$"\n`);
    }).catch((error: unknown) => {
      stream.destroy?.();
      throw error;
    });
    const shell = new ContainerShell(engine, container, stream, hello.pid, hello.flavour, workingDir);
    shell.listen();
    return shell;
  }

  get alive(): boolean {
    return !this.ended;
  }

  /** Why the shell ended ("exited", "killed", a stream error), for messages. */
  get ending(): string | null {
    return this.endReason;
  }

  /** The working directory after the last command that finished. */
  get workingDir(): string {
    return this.cwd;
  }

  /** Runs one command (callers run one at a time). Never rejects for the command's own failures. */
  async run(command: string, options: ShellRunOptions): Promise<ShellRunResult> {
    if (this.ended) throw new Error('the shell has ended');
    if (this.pending) throw new Error('a command is already running in this shell');
    const started = performance.now();
    const nonce = randomBytes(12).toString('hex');
    const delimiter = `DROVER_${randomBytes(8).toString('hex')}`;
    const capture = new OutputCapture();
    let timedOut = false;
    let aborted = false;
    let lastReport = 0;
    let reportTimer: NodeJS.Timeout | undefined;
    const report = (): void => {
      reportTimer = undefined;
      lastReport = performance.now();
      options.onOutput?.(capture.text());
    };

    const outcome = new Promise<string | null>((resolve) => {
      this.pending = {
        scanner: new MarkerScanner(nonce),
        onOutput: (chunk) => {
          capture.push(chunk);
          if (options.onOutput && reportTimer === undefined) reportTimer = setTimeout(report, Math.max(0, 150 - (performance.now() - lastReport)));
        },
        settle: resolve,
      };
    });

    const stop = (why: 'timeout' | 'abort'): void => {
      if (why === 'timeout') timedOut = true;
      else aborted = true;
      void this.killCommand();
    };
    const timer = setTimeout(() => stop('timeout'), options.timeoutMs);
    const onAbort = (): void => stop('abort');
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });

    this.stream.write(`command eval "$(cat <<'${delimiter}'\n${command}\n${delimiter}\n)" </dev/null 2>&1; printf '\\n%s:%s:%s\\n' '${nonce}' "$?" "$PWD"\n`);
    const marker = await outcome;
    clearTimeout(timer);
    clearTimeout(reportTimer);
    options.signal.removeEventListener('abort', onAbort);
    capture.end();
    let exitCode: number | null = null;
    if (marker !== null) {
      const colon = marker.indexOf(':');
      exitCode = Number.parseInt(marker.slice(0, colon), 10);
      this.cwd = marker.slice(colon + 1) || this.cwd;
    }
    return {
      output: capture.text(),
      exitCode: timedOut || aborted || !Number.isFinite(exitCode) ? null : exitCode,
      timedOut,
      aborted,
      shellEnded: marker === null,
      cwd: this.cwd,
      durationMs: performance.now() - started,
    };
  }

  /** Ends the shell (its processes go with it when the container does). */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.endReason = 'closed';
    this.stream.destroy?.();
    void this.engine.exec(this.container, ['kill', '-KILL', String(this.pid)]).catch(() => undefined);
  }

  private listen(): void {
    const demux = new Demuxer((_kind, payload) => {
      const run = this.pending;
      if (!run) return; // output of a background job between commands
      const { output, info } = run.scanner.push(payload);
      if (output.length > 0) run.onOutput(output);
      if (info !== null) {
        this.pending = null;
        run.settle(info);
      }
    });
    this.stream.on('data', (chunk: Buffer) => demux.push(chunk));
    const end = (reason: string): void => {
      this.ended = true;
      this.endReason ??= reason;
      const run = this.pending;
      this.pending = null;
      if (run) {
        const rest = run.scanner.rest();
        if (rest.length > 0) run.onOutput(rest);
        run.settle(null);
      }
    };
    this.stream.on('end', () => end('exited'));
    this.stream.on('close', () => end('exited'));
    this.stream.on('error', (error: Error) => end(error.message));
  }

  /** Kills the running command with its shell; the stream's end settles the run. */
  private async killCommand(): Promise<void> {
    this.endReason = 'killed';
    try {
      await this.engine.exec(this.container, ['/bin/sh', '-c', KILL_TREE, 'sh', String(this.pid)], { signal: AbortSignal.timeout(10_000) });
    } catch {
      // The container may be gone already: its stream ends all the same.
    }
    // Whatever happened in there, this shell is done.
    setTimeout(() => this.stream.destroy?.(), 2_000).unref();
  }
}
