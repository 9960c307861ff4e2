/**
 * A test's helper process that says `ready` on stdout once it is set up (e.g. test/support/store-child.ts,
 * search-child.ts): run with this Node and tsx from the repository's root, awaited until ready, its
 * later lines handed to the test, and killed (SIGKILL) by the test file's cleanups.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ReadyChildOptions {
  /** Names the child in the failure when it exits before saying `ready`. */
  label: string;
  /** The test file's cleanups (run after each test): the child's SIGKILL is added to them. */
  cleanups: Array<() => void>;
  /** Each stdout line after `ready`. */
  onLine?: (line: string) => void;
}

/** Runs `script` (a path under the repository) with `args`; resolves once it printed `ready`, rejects with its stderr if it exits first. */
export function startReadyChild(
  script: string,
  args: readonly string[],
  options: ReadyChildOptions,
): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], { cwd: ROOT });
  options.cleanups.push(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let ready = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!ready && line === 'ready') {
        ready = true;
        resolve(child);
      } else options.onLine?.(line);
    });
    child.on('exit', (code, signal) => {
      if (!ready) reject(new Error(`${options.label} child exited (${code ?? signal}) before it was ready:\n${stderr}`));
    });
  });
}
