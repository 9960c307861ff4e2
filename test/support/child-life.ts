/**
 * The crash tests' child processes: a script (e.g. test/support/approval-child.ts) run with this
 * Node and tsx, its stdout read line by line, waited on by what it says, and killed with SIGKILL.
 * Each test file keeps one `ChildLives` and calls `killAll()` after each test, so no child outlives
 * its test. Also the session log as a fresh store reads it after the children are gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { StoredEvent } from '#shared/events';
import { SessionStore } from '#services/session/store';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Loaded before tsx so a child starts quickly (the heavy modules compiled once, not per import). */
const PRELOAD = ['--import', '@anthropic-ai/sdk', '--import', 'zod', '--import', 'better-sqlite3'];

export interface ChildLife {
  /** Resolves with the child's first stdout line that `match`es (already said or to come; 30 s at most). */
  until(match: (line: string) => boolean): Promise<string>;
  /** Every line it said so far. */
  lines: string[];
  /** SIGKILL, then waits for it to exit. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

export class ChildLives {
  private readonly children = new Set<ChildProcess>();

  /** Runs `script` (a path under the repository) with `args`; `label` names it in failures. */
  start(script: string, args: readonly string[], label: string): ChildLife {
    const child = spawn(process.execPath, [...PRELOAD, '--import', 'tsx', path.join(ROOT, script), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    const lines: string[] = [];
    const waiters: Array<{ match: (line: string) => boolean; resolve: (line: string) => void }> = [];
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (!waiter.match(line)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return {
      lines,
      exited,
      until: (match) =>
        new Promise((resolve, reject) => {
          const found = lines.find(match);
          if (found !== undefined) return resolve(found);
          const timer = setTimeout(
            () => reject(new Error(`the ${label} child never said it; stdout: ${lines.join(' | ')}; stderr: ${stderr}`)),
            30_000,
          );
          waiters.push({ match, resolve: (line) => (clearTimeout(timer), resolve(line)) });
          void exited.then(() =>
            setTimeout(() => reject(new Error(`the ${label} child exited; stdout: ${lines.join(' | ')}; stderr: ${stderr}`)), 100),
          );
        }),
      kill: async () => {
        child.kill('SIGKILL');
        await exited;
        this.children.delete(child);
      },
    };
  }

  /** Kills every child still running (each test file's afterEach). */
  killAll(): void {
    for (const child of this.children) child.kill('SIGKILL');
    this.children.clear();
  }
}

/** A session's log as a fresh store reads it (the children's stores are gone). */
export function sessionLog(dataDir: string, sessionId: string): StoredEvent[] {
  const store = SessionStore.open({ dataDir });
  try {
    return store.getEvents(sessionId);
  } finally {
    store.close();
  }
}
