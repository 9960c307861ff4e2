/**
 * What the terminal benches (terminal.ts, terminal-serve.ts) share: a side that takes keys and shows
 * what comes back, typing keys into an interactive bash at its prompt (readline echoes each key;
 * keys alternate a letter and its erasure) timed to their echo, `docker exec -it` under a pty
 * (`script -qfc … /dev/null`: what a person's terminal does) as the baseline, and interleaved rounds
 * so a busy machine moves both sides alike.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export const ROUNDS = 20;
export const KEYS_PER_ROUND = 20;
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Something that takes keys and shows what comes back. */
export interface Side {
  write(data: string): Promise<void> | void;
  /** Resolves with the next output that contains `text`. */
  next(text: string): Promise<void>;
}

/** Output listeners over a stream of chunks: `next(text)` resolves at the first chunk from now on that contains it. */
export function watcher(): { push(chunk: string): void; next(text: string): Promise<void> } {
  let waiting: { text: string; resolve: () => void } | null = null;
  return {
    push(chunk) {
      if (waiting !== null && chunk.includes(waiting.text)) {
        const { resolve } = waiting;
        waiting = null;
        resolve();
      }
    },
    next(text) {
      return new Promise((resolve) => {
        waiting = { text, resolve };
      });
    },
  };
}

/** Types `count` keys (a letter, then its erasure, …) and returns each one's time to its echo (ms). */
export async function typeKeys(side: Side, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const erase = index % 2 === 1;
    const key = erase ? '\u007f' : (LETTERS[index % LETTERS.length] ?? 'a');
    // Readline echoes a letter as itself and an erasure as a backspace.
    const echo = erase ? '\b' : key;
    const seen = side.next(echo);
    const started = performance.now();
    await side.write(key);
    await Promise.race([seen, timeout(10_000, `no echo of ${JSON.stringify(key)}`)]);
    times.push(performance.now() - started);
  }
  return times;
}

export function timeout(delayMs: number, what: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(what)), delayMs).unref());
}

/** `docker exec -it <container> bash` with its TTY given by script(1), once its prompt shows. */
export async function dockerExecSide(container: string): Promise<{ side: Side; process: ChildProcess; stop(): void }> {
  const baseline = watcher();
  let text = '';
  const child = spawn('script', ['-qfc', `docker exec -it ${container} bash`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    text += chunk;
    baseline.push(chunk);
  });
  const stop = () => {
    child.stdin?.end('exit\n');
    child.kill();
  };
  const ready = Date.now() + 30_000;
  while (!text.includes('# ')) {
    if (Date.now() > ready) {
      stop();
      throw new Error(`docker exec -it did not show a prompt: ${JSON.stringify(text)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const stdin = child.stdin;
  return { side: { write: (data) => void stdin?.write(data), next: (text) => baseline.next(text) }, process: child, stop };
}

/** Warms both sides, then types ROUNDS × KEYS_PER_ROUND keys on each, which goes first alternating: each key's time to its echo. */
export async function interleaved(ours: Side, theirs: Side): Promise<{ ours: number[]; theirs: number[] }> {
  // First keys pay for readline's and V8's first paths.
  await typeKeys(ours, 10);
  await typeKeys(theirs, 10);
  const result = { ours: [] as number[], theirs: [] as number[] };
  for (let round = 0; round < ROUNDS; round += 1) {
    if (round % 2 === 0) {
      result.ours.push(...(await typeKeys(ours, KEYS_PER_ROUND)));
      result.theirs.push(...(await typeKeys(theirs, KEYS_PER_ROUND)));
    } else {
      result.theirs.push(...(await typeKeys(theirs, KEYS_PER_ROUND)));
      result.ours.push(...(await typeKeys(ours, KEYS_PER_ROUND)));
    }
  }
  return result;
}
