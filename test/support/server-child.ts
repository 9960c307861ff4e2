/**
 * A server under test in a process of its own (the fuzz tests' children: no process guard, so an
 * error that escapes the server ends the process and the test sees it). It reads the child's
 * stdout line by line, asks it for its RSS, checks it is alive, and stops it; and runs many
 * cases a few at a time with a check between batches.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

const root = path.resolve(import.meta.dirname, '../..');

export class ServerChild {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private readonly waiting: Array<(line: string) => void> = [];
  private stderr = '';

  /** Runs `script` (a .ts file) under tsx with `--expose-gc`, with `args`; `what` names it in failures. */
  constructor(
    script: string,
    args: readonly string[],
    private readonly what: string,
  ) {
    this.child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', script, ...args], { cwd: root });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const next = this.waiting.shift();
      if (next) next(line);
      else this.lines.push(line);
    });
  }

  nextLine(): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.lines.length > 0) return resolve(this.lines.shift() ?? '');
      if (this.exited()) return reject(new Error(`${this.what} exited (${this.exitReason()}):\n${this.stderr}`));
      this.waiting.push(resolve);
      this.child.once('exit', (code, signal) => reject(new Error(`${this.what} exited (${code ?? signal}):\n${this.stderr}`)));
    });
  }

  /** Sends a command line to the child's stdin. */
  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** The child's RSS after a full GC (it answers `rss <bytes>` to `rss`). */
  async rss(): Promise<number> {
    this.send('rss');
    return Number((await this.nextLine()).split(' ')[1]);
  }

  /** Throws, with its stderr, when the process has died. */
  alive(seed: number): void {
    if (this.exited()) throw new Error(`${this.what} died (${this.exitReason()}), seed ${seed}:\n${this.stderr}`);
  }

  /** Asks it to quit (`quit`), then kills it after 10 s. */
  async stop(): Promise<void> {
    if (this.exited()) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.send('quit');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    this.child.kill('SIGKILL');
  }

  private exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  private exitReason(): string {
    return String(this.child.exitCode ?? this.child.signalCode);
  }
}

/** Runs `count` cases `parallel` at a time, calling `check` after every 250th. */
export async function runCases(
  count: number,
  parallel: number,
  one: (index: number) => Promise<void>,
  check: () => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      await one(index);
      if (index % 250 === 249) await check();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}
