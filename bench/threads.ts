/**
 * Threads benchmark (issue 21): 10 threads each running 10 short tool turns, started by a
 * coordinator, against one thread running all 100 turns — with model time dominating (the local
 * model server answers each request after MODEL_DELAY_MS) — and the harness's own overhead per
 * thread turn (wall time between a thread's consecutive request starts, less the model's and the
 * tool's recorded durations).
 *
 * It never reaches the network (test/support's model server on 127.0.0.1), drives the public
 * Harness API only, and leaves nothing behind: the store lives in a temp dir removed at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { StoredEvent } from '#shared/events';
import { Harness } from '#services/harness/harness';
import { SessionStore } from '#services/session/store';
import { MathHand } from '#test/support/math-hand';
import { ChildLives } from '#test/support/child-life';
import type { Figure } from './session-store.ts';
import { MODEL_DELAY_MS } from './threads/model.ts';

type Log = (line: string) => void;

const KEY = 'sk-ant-bench-local';
const MODEL = 'claude-sonnet-4-6';
const THREADS = 10;
const TURNS = 10;

interface Run {
  wallMs: number;
  events: StoredEvent[];
  starts: Map<number, number>;
  commitMs: number;
  readMs: number;
  commits: number;
  reads: number;
  commitBySeq: Map<number, number>;
}

/** Runs one session to its idle; returns the wall time and the log. */
async function runSession(threaded: boolean): Promise<Run> {
  const dir = mkdtempSync(path.join(tmpdir(), 'drover-bench-threads-'));
  // The model answers from a child process: the real API's work never runs on the harness's event loop.
  const lives = new ChildLives();
  const model = lives.start('bench/threads/model.ts', [String(THREADS), String(threaded ? TURNS : THREADS * TURNS)], 'model server');
  const url = (await model.until((line) => line.startsWith('listening '))).slice('listening '.length);
  const store = SessionStore.open({ dataDir: dir });
  // Time inside the store (durable commits, reads), measured around its public methods; each
  // commit's duration also by the seq of its first event, to tell a thread turn's own commits.
  const timing = { commitMs: 0, readMs: 0, commits: 0, reads: 0, commitBySeq: new Map<number, number>() };
  const timed = <A extends unknown[], R>(method: (...args: A) => R, key: 'commitMs' | 'readMs') =>
    function (this: SessionStore, ...args: A): R {
      timing[key === 'commitMs' ? 'commits' : 'reads'] += 1;
      const started = performance.now();
      let result: R | undefined;
      try {
        result = method.apply(this, args);
        return result;
      } finally {
        const took = performance.now() - started;
        timing[key] += took;
        const first = Array.isArray(result) ? (result[0] as StoredEvent | undefined) : (result as StoredEvent | undefined);
        if (key === 'commitMs' && first !== undefined) timing.commitBySeq.set(first.seq, took);
      }
    };
  store.emitEvent = timed(store.emitEvent, 'commitMs');
  store.emitEvents = timed(store.emitEvents, 'commitMs');
  store.getEvents = timed(store.getEvents, 'readMs');
  const hand = new MathHand();
  const harness = new Harness({ store, keyProvider: () => KEY, baseURL: url, handsFor: () => [hand], log: () => undefined });
  try {
    const { id } = store.createSession({ title: threaded ? 'threads' : 'one thread' });
    store.emitEvent(id, {
      type: 'session.configured',
      payload: { model: MODEL, max_tokens: 1024, system: threaded ? 'You coordinate.' : 'You work alone.' },
    });
    if (threaded)
      store.emitEvent(id, {
        type: 'session.roster_set',
        payload: { agents: [{ name: 'worker', system: 'You work.' }], self_copies: false },
      });
    // When each request start was appended (performance.now), by seq.
    const starts = new Map<number, number>();
    const stop = store.subscribe(id, (event) => {
      if (event.type === 'span.model_request_start') starts.set(event.seq, performance.now());
    });
    const idle = new Promise<void>((resolve) => {
      const off = store.subscribe(id, (event) => {
        if (event.type === 'session.status_idle') {
          off();
          resolve();
        }
      });
    });
    const started = performance.now();
    harness.send(id, 'Go.');
    await idle;
    const wallMs = performance.now() - started;
    stop();
    return { wallMs, events: store.getEvents(id, { limit: 100_000 }), starts, ...timing };
  } finally {
    await harness.close();
    store.close();
    await model.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Per thread turn: the wall time from one request start of a thread to its next, less the model's and the tool's durations;
 * and of that, the time in the durable commits that hold the thread's own events, less the one committed after its request was
 * sent (the result and the request's start: session-run.ts `sendPrepared`), whose fsync is inside the model's time.
 */
function overheads({ events, starts, commitBySeq }: Run): { overhead: number; commits: number }[] {
  const byThread = new Map<string, StoredEvent[]>();
  for (const event of events) {
    const thread = (event.payload as { session_thread_id?: string }).session_thread_id;
    if (thread === undefined) continue;
    byThread.set(thread, [...(byThread.get(thread) ?? []), event]);
  }
  const out: { overhead: number; commits: number }[] = [];
  for (const own of byThread.values()) {
    let from: number | null = null;
    let inside = 0;
    let commits = 0;
    // The commit the last event was part of (its time, keyed by its first event's seq).
    let last = 0;
    for (const event of own) {
      if (event.type === 'span.model_request_start') {
        const at = starts.get(event.seq);
        // A start committed with the result before it is committed once its request is sent: that fsync is inside the model's time.
        const sentFirst = !commitBySeq.has(event.seq);
        if (at !== undefined && from !== null) out.push({ overhead: at - from - inside, commits: commits - (sentFirst ? last : 0) });
        from = at ?? null;
        inside = 0;
        commits = 0;
        continue;
      }
      const took = commitBySeq.get(event.seq);
      if (took !== undefined) last = took;
      commits += took ?? 0;
      if (event.type === 'span.model_request_end') inside += event.payload.duration_ms;
      else if (event.type === 'agent.tool_result') inside += event.payload.duration_ms ?? 0;
    }
  }
  return out;
}

/** The serial run's events as one thread's (its primary thread's events carry no session_thread_id). */
const asThread = (event: StoredEvent): StoredEvent =>
  ({ ...event, payload: { ...event.payload, session_thread_id: 'primary' } }) as StoredEvent;

export async function benchThreads(log: Log): Promise<Figure[]> {
  // A warm-up of each (module loading, SQLite, the SDK's first connection).
  await runSession(true);
  await runSession(false);
  const parallel = await runSession(true);
  const serial = await runSession(false);
  const ratio = serial.wallMs / parallel.wallMs;
  const turns = overheads(parallel);
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  const p50 = median(turns.map((turn) => turn.overhead));
  const ownCommits = median(turns.map((turn) => turn.commits));
  const alone = median(overheads({ ...serial, events: serial.events.map(asThread) }).map((turn) => turn.overhead));
  const threadTurns = parallel.events.filter((event) => event.type === 'agent.tool_result' && 'session_thread_id' in event.payload).length;
  log(
    `  ${THREADS} threads × ${TURNS} tool turns: ${parallel.wallMs.toFixed(0)} ms; 1 thread × ${THREADS * TURNS}: ${serial.wallMs.toFixed(0)} ms ` +
      `(${ratio.toFixed(1)}× faster; model ${MODEL_DELAY_MS} ms a reply; ${threadTurns} thread tool results)`,
  );
  log(
    `  harness overhead per thread turn: p50 ${p50.toFixed(2)} ms over ${turns.length} turns, of which its own durable commits ` +
      `p50 ${ownCommits.toFixed(2)} ms (those not hidden behind a model request); one thread of ${THREADS * TURNS} turns alone (the serial run): p50 ${alone.toFixed(2)} ms`,
  );
  log(
    `  in the store: ${parallel.commitMs.toFixed(0)} ms appending (${parallel.commits} durable commits, ${parallel.events.length} events), ` +
      `${parallel.readMs.toFixed(0)} ms reading (${parallel.reads} reads); ` +
      `serial run: ${serial.commitMs.toFixed(0)} ms appending (${serial.commits} commits), ${serial.readMs.toFixed(0)} ms reading (${serial.reads} reads)`,
  );
  return [
    {
      name: `threads: ${THREADS} threads × ${TURNS} tool turns vs 1 × ${THREADS * TURNS} (wall time)`,
      value: parallel.wallMs,
      unit: 'ms',
      baseline: { name: `1 thread × ${THREADS * TURNS} turns`, value: serial.wallMs },
      ratio,
      target: '≥ 5× faster',
      pass: ratio >= 5 && threadTurns === THREADS * TURNS,
    },
    {
      name: 'threads: harness overhead per thread turn (p50)',
      value: p50,
      unit: 'ms',
      target: '≤ 2 ms',
      pass: p50 <= 2,
    },
  ];
}
