/**
 * Self-hosted worker tests' helpers: the SDK's reference worker (test/support/worker-child.ts) in
 * a process group of its own, killed with its commands; what a worker left running in its workdir
 * (the SDK's bash tool runs commands in a process group of their own, so they outlive the worker);
 * a self-hosted environment and a toolset agent made through the SDK; a scripted bash call and the
 * tool results the model received; waiting for a condition; sesn_ → uuid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type Anthropic from '@anthropic-ai/sdk';
import type { BetaEnvironment } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import type { RecordedRequest, Reply } from './model-server';

const root = path.resolve(import.meta.dirname, '../..');

export interface StartedWorker {
  child: ChildProcess;
  stderr: () => string;
  /** SIGKILLs the worker and the commands it runs (harmless when it is gone). */
  kill: () => void;
}

/**
 * Starts the SDK's worker in a process group of its own. `launcher` goes before node (e.g.
 * `['nsenter', '--net=…']` to start it in a network namespace).
 */
export function startWorker(
  baseURL: string,
  environmentId: string,
  key: string,
  workdir: string,
  workerId: string,
  launcher: string[] = [],
): StartedWorker {
  const [command, ...args] = [
    ...launcher,
    process.execPath,
    '--import',
    'tsx',
    'test/support/worker-child.ts',
    baseURL,
    environmentId,
    key,
    workdir,
    workerId,
  ];
  const child = spawn(command ?? process.execPath, args, { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** The processes (pids) whose working directory is `dir` or below it — what a worker's commands left running there. */
export function processesIn(dir: string): number[] {
  const inside = path.resolve(dir);
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cwd === inside || cwd.startsWith(`${inside}/`)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** The command lines of the processes running in `dir` (see processesIn), e.g. `sleep 60`. */
export function commandsIn(dir: string): string[] {
  return processesIn(dir).flatMap((pid) => {
    try {
      return [readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()];
    } catch {
      return []; // ended meanwhile
    }
  });
}

/**
 * SIGKILLs every process still running in `dir` (see processesIn) and waits until none is left;
 * returns how many there were. Throws if any survives 5 s.
 */
export async function endProcessesIn(dir: string): Promise<number> {
  const left = processesIn(dir);
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await until(
    'the processes left in the workdir to end',
    () => processesIn(dir).length === 0,
    5_000,
    () => processesIn(dir).join(' '),
  );
  return left.length;
}

/** A self-hosted environment made through the SDK, with the environment key it is created with. */
export async function selfHostedEnvironment(client: Anthropic, name: string): Promise<{ env: BetaEnvironment; key: string }> {
  const env = (await client.beta.environments.create({ name, config: { type: 'self_hosted' } })) as BetaEnvironment & {
    environment_key?: string;
  };
  return { env, key: env.environment_key ?? '' };
}

/** An agent with the whole agent toolset; its id. */
export async function agentWithToolset(client: Anthropic, name: string): Promise<string> {
  const agent = await client.beta.agents.create({ name, model: 'claude-sonnet-4-6', tools: [{ type: 'agent_toolset_20260401' }] });
  return agent.id;
}

/** A scripted model reply that calls the bash tool with `command`. */
export const bash = (command: string): Reply => ({
  kind: 'message',
  message: { content: [{ type: 'tool_use', name: 'bash', input: { command } }], stop_reason: 'tool_use' },
});

/** The text of the tool_result blocks the model received in a request. */
export function toolResultsIn(request: RecordedRequest | undefined): string {
  return JSON.stringify(
    (request?.body.messages ?? [])
      .flatMap((message) => (Array.isArray(message.content) ? message.content : []))
      .filter((block) => block.type === 'tool_result'),
  );
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
