/**
 * A persistent shell on a hand: one long-lived process of bash (or sh where the machine has no
 * bash) fed commands on its stdin, so the working directory, variables and functions carry over
 * between calls, and a call costs a write and a read instead of a new process. The process comes
 * from the hand (a `docker exec`, an SSH channel, …) as a `ShellChannel`; the protocol is here.
 *
 * Each command is sent as a quoted here-document to `command eval` (a syntax error stays inside
 * the eval, even in a POSIX sh), with stdin from /dev/null (nothing can read the control stream)
 * and stderr merged into stdout in order; then the shell prints `\n<nonce>:<exit code>:<cwd>\n`,
 * which ends the call. A command that runs too long, or is interrupted, is killed with its shell
 * (from a second process, through `ShellKiller`) — so nothing after it in the same command line
 * runs; the caller starts a new shell in the last working directory. Quoting for the shell
 * (`shellQuote`) is here too, for every hand that builds a command line.
 *
 * A command's text must never be read by the shell as anything but the command (the random
 * here-document delimiter and marker nonce see to it), and nothing after a killed command may run.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { MarkerScanner, OutputCapture } from '#services/hands/output';

export interface ShellRunResult {
  /** What the command printed (stdout and stderr in order), cut in the middle when huge. */
  output: string;
  /** Null when the command did not finish (timed out or interrupted and killed with its shell, or the shell ended). */
  exitCode: number | null;
  timedOut: boolean;
  aborted: boolean;
  /** The shell is gone: the command ran `exit`, its shell was killed, or its machine or connection went away. */
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

/** The shell process's byte streams, as a hand provides them. */
export interface ShellChannel {
  /** Writes to the shell's stdin. */
  write(text: string): void;
  /** Sets the one listener for the shell's output (stdout and stderr merged, in order). */
  onData(listener: (chunk: Buffer) => void): void;
  /** Sets the one listener for the end of the streams (exit, kill, lost machine), with why. */
  onEnd(listener: (reason: string) => void): void;
  /** Drops the streams (the process may live on: see `ShellKiller`). */
  destroy(): void;
}

/** Kills processes on the hand from outside the shell (a second exec or channel). */
export interface ShellKiller {
  /** Kills `pid` and all its descendants; resolves when done or impossible (never rejects). */
  killTree(pid: number): Promise<void>;
  /** Kills the shell process itself, best effort. */
  killShell(pid: number): void;
}

/**
 * Kills the process $1 and all its descendants, reading parents from /proc where there is one
 * (any Linux, even without ps), else from `ps` (macOS, BSDs). Plain sh.
 */
export const KILL_TREE = `
all="$1"; queue="$1"
if [ -d /proc/self ]; then
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
else
  table=$(ps -A -o pid= -o ppid= 2>/dev/null)
  while [ -n "$queue" ]; do
    set -- $queue; parent=$1; shift; queue="$*"
    children=$(printf '%s\\n' "$table" | while read -r pid ppid; do [ "$ppid" = "$parent" ] && printf '%s ' "$pid"; done)
    all="$all $children"; queue="$queue $children"
  done
fi
[ -n "$all" ] && kill -KILL $all 2>/dev/null
exit 0`;

/** Single-quotes a value as one word for a POSIX shell (any value: quotes inside are escaped). */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A path as a shell word for people to read: as it is when it needs no quoting, else quoted. */
export function shellWord(value: string): string {
  return /^[\w./+-]+$/.test(value) ? value : shellQuote(value);
}

/** The shell command a hand starts (with `sh -c`): merges stderr, then bash if there is one, else sh. */
export const SHELL_LAUNCH = 'exec 2>&1; if command -v bash >/dev/null 2>&1; then exec bash --noprofile --norc; fi; exec sh';

interface PendingRun {
  scanner: MarkerScanner;
  onOutput: (chunk: Buffer) => void;
  settle: (marker: string | null) => void;
}

export class PersistentShell {
  private pending: PendingRun | null = null;
  private ended = false;
  /** Why the stream ended, when it did. */
  private endReason: string | null = null;
  /** Shell's pid on the hand, and `bash` or `sh`: known once it has started. */
  private info = { pid: 0, flavour: 'sh' };
  /** Told when the shell ends between commands by no doing of ours (its machine or container went away, say). */
  private endedIdle: ((reason: string) => void) | null = null;

  private constructor(
    private readonly channel: ShellChannel,
    private readonly killer: ShellKiller,
    private cwd: string,
  ) {}

  /**
   * Takes over a freshly started shell process: waits for it to report its pid, flavour and
   * working directory (15 s at most). Rejects (and drops the channel) when it exits at once.
   */
  static async start(channel: ShellChannel, killer: ShellKiller): Promise<PersistentShell> {
    const shell = new PersistentShell(channel, killer, '/');
    const nonce = randomBytes(12).toString('hex');
    await new Promise<void>((resolve, reject) => {
      const scanner = new MarkerScanner(nonce);
      let seen = '';
      let hello = true;
      const timer = setTimeout(() => {
        hello = false;
        reject(new Error('the shell did not start within 15 s'));
      }, 15_000);
      channel.onData((chunk) => {
        if (!hello) {
          shell.received(chunk);
          return;
        }
        const { output, info } = scanner.push(chunk);
        seen += output.toString('utf8');
        if (info === null) return;
        hello = false;
        clearTimeout(timer);
        const colon = info.indexOf(':');
        shell.info = { pid: Number.parseInt(info.slice(0, colon), 10), flavour: seen.includes('bash') ? 'bash' : 'sh' };
        shell.cwd = info.slice(colon + 1) || '/';
        resolve();
      });
      channel.onEnd((reason) => {
        if (hello) {
          hello = false;
          clearTimeout(timer);
          const said = `${seen}${scanner.rest().toString('utf8')}`.trim();
          reject(new Error(`the shell exited at once${said ? `: ${said}` : ` (${reason})`}`));
          return;
        }
        shell.finished(reason);
      });
      channel.write(`if [ -n "$BASH_VERSION" ]; then printf bash; fi; printf '\\n%s:%s:%s\\n' '${nonce}' "$$" "$PWD"\n`);
    }).catch((error: unknown) => {
      channel.destroy();
      throw error;
    });
    return shell;
  }

  /** The shell's pid on the hand. */
  get pid(): number {
    return this.info.pid;
  }

  /** `bash` or `sh`. */
  get flavour(): string {
    return this.info.flavour;
  }

  get alive(): boolean {
    return !this.ended;
  }

  /** Why the shell ended ("exited", "killed", a stream error), for messages. */
  get ending(): string | null {
    return this.endReason;
  }

  /**
   * Sets the one listener for the shell ending between commands by itself — not by `close()`, and
   * not during `run()` (whose result says so): the hand can find out why at once.
   */
  onEndedIdle(listener: (reason: string) => void): void {
    this.endedIdle = listener;
    if (this.ended && this.endReason !== 'closed') listener(this.endReason ?? 'exited');
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
          if (options.onOutput && reportTimer === undefined)
            reportTimer = setTimeout(report, Math.max(0, 150 - (performance.now() - lastReport)));
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

    this.channel.write(
      `command eval "$(cat <<'${delimiter}'\n${command}\n${delimiter}\n)" </dev/null 2>&1; printf '\\n%s:%s:%s\\n' '${nonce}' "$?" "$PWD"\n`,
    );
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

  /** Ends the shell (and its process, best effort). */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.endReason = 'closed';
    this.channel.destroy();
    this.killer.killShell(this.info.pid);
  }

  private received(chunk: Buffer): void {
    const run = this.pending;
    if (!run) return; // output of a background job between commands
    const { output, info } = run.scanner.push(chunk);
    if (output.length > 0) run.onOutput(output);
    if (info !== null) {
      this.pending = null;
      run.settle(info);
    }
  }

  private finished(reason: string): void {
    const closed = this.endReason === 'closed';
    this.ended = true;
    this.endReason ??= reason;
    const run = this.pending;
    this.pending = null;
    if (run) {
      const rest = run.scanner.rest();
      if (rest.length > 0) run.onOutput(rest);
      run.settle(null);
    } else if (!closed) {
      this.endedIdle?.(this.endReason);
    }
  }

  /** Kills the running command with its shell; the stream's end settles the run. */
  private async killCommand(): Promise<void> {
    this.endReason = 'killed';
    await this.killer.killTree(this.info.pid);
    // Whatever happened out there, this shell is done.
    setTimeout(() => this.channel.destroy(), 2_000).unref();
  }
}
