// The process guard in a real child process: what it logs, that the process keeps serving after
// an uncaught error, and that it exits (70) in a fault loop rather than spin.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_SOFTWARE } from './process-guard.ts';

const root = path.resolve(import.meta.dirname, '../..');
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

interface Child {
  send(line: string): void;
  nextLine(): Promise<string>;
  stderr(): string;
  exited: Promise<number | null>;
}

async function startChild(maxErrors: number): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/support/guard-child.ts'), String(maxErrors)], {
    cwd: root,
  });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else lines.push(line);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const nextLine = () => new Promise<string>((resolve) => (lines.length > 0 ? resolve(lines.shift() ?? '') : waiting.push(resolve)));
  expect(await nextLine()).toBe('ready');
  return { send: (line) => child.stdin.write(`${line}\n`), nextLine, stderr: () => stderr, exited };
}

describe('process guard', () => {
  it('logs an uncaught error and an unhandled rejection with a reference id, redacted, and keeps serving', async () => {
    const child = await startChild(20);
    child.send('throw');
    child.send('reject');
    const reports = () => child.stderr().match(/Unexpected error \(ref [0-9a-f]{8}, (uncaught exception|unhandled rejection)\)/g) ?? [];
    for (let waited = 0; reports().length < 2 && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reports()).toHaveLength(2);
    child.send('ping');
    expect(await child.nextLine()).toBe('pong');
    expect(child.stderr()).toContain('thrown from a timer with [redacted] in it');
    expect(child.stderr()).not.toContain('sk-secret');
    expect(child.stderr()).toContain('rejected and not awaited');
    expect(child.stderr()).toContain('Drover keeps running');
  });

  it('exits with 70 and says why when errors come in a loop', async () => {
    const child = await startChild(5);
    for (let i = 0; i < 6; i++) child.send('throw');
    expect(await child.exited).toBe(EXIT_SOFTWARE);
    expect(child.stderr()).toContain('Drover stops, because 6 unexpected errors came within 60 s (a fault loop)');
  });
});
