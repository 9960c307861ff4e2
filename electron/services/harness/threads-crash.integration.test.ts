// Threads under SIGKILL (issue 21): a child process (test/support/threads-child.ts) wakes a threaded
// session — a coordinator starting two threads that call tools on a shared hand, waiting, and
// summarising — with the real Harness and SessionStore against a model server in this process. It
// is SIGKILLed at points spread over the session, restarted, and woken until the session is done.
// Every final log must keep the rules: every acknowledged event is there once; every tool ran at
// most once (the journal) and a run without a recorded result is recorded interrupted; every tool
// use has its result; every thread ended idle or terminated; the session ended with end_turn.
// And a fork taken inside a thread continues every thread as it was then.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import { SessionStore } from '#services/session/store';
import { cleanUpRigs, events, rig, waitFor } from '#test/support/harness-rig';
import { readJournal } from '#test/support/harness-crash-rules';
import { startModelServer, type ModelServer } from '#test/support/model-server';
import { tempDir } from '#test/support/system';
import { COORDINATOR, coordinatorScript, ROSTER } from '#test/support/thread-script';

const root = path.resolve(import.meta.dirname, '../../..');
const childScript = path.join(root, 'test/support/threads-child.ts');
const RUNS = 30;
const CONCURRENCY = 3;
const MAX_LIVES = 8;
const LIFE_TIMEOUT_MS = 30_000;
const PRELOAD = ['--import', '@anthropic-ai/sdk', '--import', 'zod', '--import', 'better-sqlite3'];
const SETTINGS = { model: 'claude-sonnet-4-6', max_tokens: 1024, system: COORDINATOR, thinking_budget: null, context_budget: null };

let server: ModelServer;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  server = await startModelServer({ respond: coordinatorScript(40), models: ['claude-sonnet-4-6', 'claude-haiku-4-5'] });
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await server.close();
});
afterEach(cleanUpRigs);

interface Life {
  acks: Array<{ seq: number; id: string }>;
  readyAt: number;
  doneAt: number | null;
  killed: boolean;
  stderr: string;
}

function life(dataDir: string, sessionId: string, journal: string, killAfterMs: number | null): Promise<Life> {
  const out: Life = { acks: [], readyAt: 0, doneAt: null, killed: false, stderr: '' };
  const child = spawn(process.execPath, [...PRELOAD, '--import', 'tsx', childScript, dataDir, server.url, sessionId, journal], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let failure: string | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  const hang = setTimeout(() => {
    failure = `hung for ${LIFE_TIMEOUT_MS} ms`;
    child.kill('SIGKILL');
  }, LIFE_TIMEOUT_MS);
  child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const [word, ...rest] = line.split(' ');
    if (word === 'ack') out.acks.push({ seq: Number(rest[0]), id: String(rest[1]) });
    else if (word === 'ready') {
      out.readyAt = performance.now();
      if (killAfterMs !== null) killTimer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    } else if (word === 'done') {
      out.doneAt = performance.now();
      clearTimeout(killTimer);
    } else if (word === 'failed') failure = rest.join(' ');
  });
  return new Promise((resolve, reject) => {
    child.on('close', (code, signal) => {
      children.delete(child);
      clearTimeout(killTimer);
      clearTimeout(hang);
      out.killed = signal === 'SIGKILL' && out.doneAt === null;
      if (failure === null && out.doneAt === null && !out.killed) failure = `exited (${code ?? signal}) without finishing`;
      if (failure !== null) reject(new Error(`${failure}\n${out.stderr}\n(data kept in ${dataDir})`));
      else resolve(out);
    });
  });
}

interface Run {
  dir: string;
  lives: Life[];
  events: StoredEvent[];
  journal: string;
}

async function drive(kills: Array<number | null>): Promise<Run> {
  const dir = tempDir('drover-threads-crash-');
  const dataDir = path.join(dir, 'data');
  const journal = path.join(dir, 'journal.txt');
  const store = SessionStore.open({ dataDir, appVersion: 'test-threads-crash' });
  const session = store.createSession({ title: 'threads crash' });
  store.emitEvents(session.id, [
    { type: 'session.configured', payload: SETTINGS },
    { type: 'session.roster_set', payload: ROSTER },
    { type: 'user.message', payload: { content: [{ type: 'text', text: 'Do the work.' }] } },
  ]);
  store.close();
  const lives: Life[] = [];
  for (let i = 0; ; i++) {
    if (i >= MAX_LIVES) throw new Error(`not done after ${MAX_LIVES} lives (data kept in ${dir})`);
    const one = await life(dataDir, session.id, journal, kills[i] ?? null);
    lives.push(one);
    if (one.doneAt !== null) break;
  }
  const reader = SessionStore.open({ dataDir, appVersion: 'test-threads-crash' });
  const log = reader.getEvents(session.id, { limit: 10_000 });
  reader.close();
  return { dir, lives, events: log, journal: readJournal(journal) };
}

const threadOf = (event: StoredEvent): string => (event.payload as { session_thread_id?: string }).session_thread_id ?? 'primary';

/** What is wrong with a finished run's log (empty: nothing). */
function problems(run: Run): string[] {
  const found: string[] = [];
  const ids = new Map(run.events.map((event) => [event.id, event.seq]));
  for (const ack of run.lives.flatMap((one) => one.acks)) {
    if (ids.get(ack.id) !== ack.seq) found.push(`acknowledged event ${ack.seq} (${ack.id}) is not in the log`);
  }
  if (new Set(run.events.map((event) => event.id)).size !== run.events.length) found.push('an event is in the log twice');
  // No tool ran twice; a tool that started has its result (completed, or interrupted if the crash cut it).
  const starts = new Map<string, number>();
  for (const line of run.journal.split('\n')) {
    const [word, marker] = line.split(' ');
    if (word === 'start' && marker) starts.set(marker, (starts.get(marker) ?? 0) + 1);
  }
  for (const [marker, count] of starts) if (count > 1) found.push(`tool ${marker} ran ${count} times`);
  const uses = run.events.filter((event) => event.type === 'agent.tool_use');
  const results = new Map(
    run.events.flatMap((event) => (event.type === 'agent.tool_result' ? [[event.payload.tool_use_id, event] as const] : [])),
  );
  for (const use of uses) {
    if (use.type !== 'agent.tool_use') continue;
    const result = results.get(use.payload.tool_use_id);
    if (!result) found.push(`tool use ${use.payload.tool_use_id} (${threadOf(use)}) has no result`);
    else if (threadOf(result) !== threadOf(use)) found.push(`the result of ${use.payload.tool_use_id} is in another thread`);
    if (use.payload.tool_use_id in { toolu_add: 1, toolu_wait: 1 } && starts.has(use.payload.tool_use_id)) {
      const status = result?.type === 'agent.tool_result' ? result.payload.status : 'none';
      const ended = run.journal.includes(`end ${use.payload.tool_use_id}`);
      if (status === 'completed' && !ended) found.push(`${use.payload.tool_use_id} is recorded completed but never finished`);
    }
  }
  // Every thread ended its turn (idle) or was ended; the session's last status is idle with end_turn.
  for (const created of run.events.filter((event) => event.type === 'session.thread_created')) {
    const id = created.type === 'session.thread_created' ? created.payload.session_thread_id : '';
    const last = run.events.findLast((event) => event.type.startsWith('session.thread_status_') && threadOf(event) === id);
    if (last?.type !== 'session.thread_status_idle' && last?.type !== 'session.thread_status_terminated')
      found.push(`thread ${id} ended ${last?.type ?? 'without a status'}`);
  }
  const idle = run.events.findLast((event) => event.type === 'session.status_idle');
  if (idle?.type !== 'session.status_idle' || idle.payload.stop_reason.type !== 'end_turn')
    found.push('the session did not end with end_turn');
  if (idle && run.events.some((event) => event.seq > idle.seq && event.type !== 'session.usage'))
    found.push('events follow the session’s last idle');
  return found;
}

async function pool<T>(count: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = [];
  await Promise.all(
    Array.from({ length: count }, async () => {
      for (let task = tasks.shift(); task; task = tasks.shift()) out.push(await task());
    }),
  );
  return out;
}

describe('threads under SIGKILL', () => {
  it(`resumes every thread, loses nothing and runs no tool twice across ${RUNS} killed runs`, { timeout: 400_000 }, async () => {
    const baseline = await drive([]);
    expect(problems(baseline)).toEqual([]);
    const span = (baseline.lives[0]?.doneAt ?? 0) - (baseline.lives[0]?.readyAt ?? 0);
    rmSync(baseline.dir, { recursive: true, force: true });

    // Kill i lands in the i-th 30th of the session; every third run is killed again while it recovers.
    const runs = await pool(
      CONCURRENCY,
      Array.from({ length: RUNS }, (_, i) => async () => {
        // A run that finished before its kill (a loaded machine runs faster or slower than the baseline) is redone, earlier.
        let at = ((i + Math.random()) / RUNS) * span;
        for (let tries = 0; ; tries++) {
          const run = await drive([at, i % 3 === 1 ? Math.random() * 300 : null]);
          if (run.lives[0]?.killed || tries >= 4) return run;
          if (problems(run).length === 0) rmSync(run.dir, { recursive: true, force: true });
          at *= 0.5;
        }
      }),
    );
    const found = runs.flatMap((run) => problems(run).map((problem) => `${run.dir}: ${problem}`));
    for (const run of runs) if (problems(run).length === 0) rmSync(run.dir, { recursive: true, force: true });
    const killed = runs.filter((run) => run.lives[0]?.killed).length;
    const interrupted = runs.reduce(
      (sum, run) => sum + run.events.filter((event) => event.type === 'agent.tool_result' && event.payload.status === 'interrupted').length,
      0,
    );
    const resumedThreads = runs.filter((run) =>
      run.lives
        .slice(1)
        .some((one) => one.acks.some((ack) => run.events.find((event) => event.id === ack.id && threadOf(event) !== 'primary'))),
    ).length;
    console.log(
      `threads crash test: ${runs.length} runs, ${killed} killed (${runs.reduce((sum, run) => sum + run.lives.length, 0)} lives), ` +
        `session span ${span.toFixed(0)} ms; ${resumedThreads} runs had a thread record events after a restart; ${interrupted} tool results recorded interrupted`,
    );
    expect(found).toEqual([]);
    expect(killed).toBeGreaterThanOrEqual(RUNS);
    expect(resumedThreads).toBeGreaterThan(0);
  });

  it('a fork inside a thread continues every thread as it was then', async () => {
    const r = await rig(coordinatorScript(40));
    r.store.emitEvents(r.sessionId, [
      { type: 'session.configured', payload: SETTINGS },
      { type: 'session.roster_set', payload: ROSTER },
    ]);
    r.harness.send(r.sessionId, 'Do the work.');
    await waitFor(r, 'session.status_idle');
    const log = events(r);
    // The adder's tool call is recorded; its result is not yet: fork there.
    const call = log.find((event) => event.type === 'agent.tool_use' && event.payload.name === 'add') as StoredEvent;
    const adder = threadOf(call);
    const fork = r.store.fork(r.sessionId, call.seq);
    const before = r.store.getEvents(fork.id, { limit: 10_000 });
    expect(before.filter((event) => event.type !== 'session.forked').at(-1)?.id).toBe(call.id);
    await r.harness.wake(fork.id);
    const after = r.store.getEvents(fork.id, { limit: 10_000 }).filter((event) => event.seq > call.seq);
    // The call that was open at the fork point may have run in the original: recorded interrupted, never run again here.
    expect(after.find((event) => event.type === 'agent.tool_result')?.payload).toMatchObject({
      tool_use_id: 'toolu_add',
      status: 'interrupted',
      session_thread_id: adder,
    });
    expect(r.hand.runs.filter((run) => run.name === 'add')).toHaveLength(1);
    // Every thread carried on from where it was: the adder and the waiter end their turns and reply, the coordinator summarises.
    const created = before.filter((event) => event.type === 'session.thread_created').map((event) => threadOf(event));
    for (const id of created) {
      const everything = [...before, ...after];
      const last = everything.findLast((event) => event.type.startsWith('session.thread_status_') && threadOf(event) === id);
      expect(last?.type === 'session.thread_status_idle' && last.payload.stop_reason.type).toBe('end_turn');
    }
    const idle = after.findLast((event) => event.type === 'session.status_idle');
    expect(idle?.type === 'session.status_idle' && idle.payload.stop_reason.type).toBe('end_turn');
    expect(JSON.stringify(after.filter((event) => event.type === 'agent.message').at(-1)?.payload)).toContain('Summary');
    // The original is untouched.
    expect(r.store.getEvents(r.sessionId, { limit: 10_000 })).toHaveLength(log.length);
  });
});
