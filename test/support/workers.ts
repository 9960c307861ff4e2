/**
 * Self-hosted worker tests' helpers: the SDK's reference worker (test/support/worker-child.ts) in
 * a process group of its own, killed with its commands; waiting for a condition; sesn_ → uuid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

export interface StartedWorker {
  child: ChildProcess;
  stderr: () => string;
  /** SIGKILLs the worker and the commands it runs (harmless when it is gone). */
  kill: () => void;
}

export function startWorker(baseURL: string, environmentId: string, key: string, workdir: string, workerId: string): StartedWorker {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/support/worker-child.ts', baseURL, environmentId, key, workdir, workerId],
    { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const kill = (): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  return { child, stderr: () => stderr, kill };
}

export async function until<T>(
  what: string,
  probe: () => T | null | undefined | false,
  timeoutMs = 60_000,
  detail = (): string => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}. ${detail()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The uuid behind an API id (`sesn_…`, `sevt_…`). */
export function uuidOf(id: string): string {
  const hex = id.replace(/^[a-z]+_/, '');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
