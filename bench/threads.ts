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
import { startModelServer, type RecordedRequest, type Reply } from '#test/support/model-server';
import type { Figure } from './session-store.ts';

type Log = (line: string) => void;

const KEY = 'sk-ant-bench-local';
const MODEL = 'claude-sonnet-4-6';
const MODEL_DELAY_MS = 50;
const THREADS = 10;
const TURNS = 10;

const toolResults = (request: RecordedRequest): number => JSON.stringify(request.body.messages).split('"tool_result"').length - 1;
const reply = (content: Extract<Reply, { kind: 'message' }>['message']['content'], stop: 'tool_use' | 'end_turn'): Reply => ({
  kind: 'message',
  message: { content, stop_reason: stop },
});

/** The coordinator starts THREADS workers and waits; each worker (and the single agent) makes `turns` add calls, then answers. */
function script(turnsPerWorker: number) {
  let ids = 0;
  return async (request: RecordedRequest): Promise<Reply> => {
    await new Promise((resolve) => setTimeout(resolve, MODEL_DELAY_MS));
    const system = JSON.stringify(request.body.system ?? '');
    const done = toolResults(request);
    if (system.includes('You work.') || system.includes('You work alone.')) {
      if (done < turnsPerWorker)
        return reply([{ type: 'tool_use', id: `toolu_b${ids++}`, name: 'add', input: { a: done, b: 1 } }], 'tool_use');
      return reply([{ type: 'text', text: 'Done.' }], 'end_turn');
    }
    if (done === 0) {
      const starts = Array.from({ length: THREADS }, (_, i) => ({
        type: 'tool_use' as const,
        id: `toolu_start${i}`,
        name: 'thread_start',
        input: { agent: 'worker', task: `Part ${i}: add ${turnsPerWorker} times.` },
      }));
      return reply(starts, 'tool_use');
    }
    if (JSON.stringify(request.body.messages).includes('every thread is idle or ended'))
      return reply([{ type: 'text', text: 'All done.' }], 'end_turn');
    return reply([{ type: 'tool_use', id: `toolu_wait${ids++}`, name: 'thread_wait', input: {} }], 'tool_use');
  };
}

/** Runs one session to its idle; returns the wall time and the log. */
async function runSession(
  threaded: boolean,
): Promise<{ wallMs: number; events: StoredEvent[]; starts: Map<number, number>; commitMs: number; readMs: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'drover-bench-threads-'));
  const server = await startModelServer({ respond: script(threaded ? TURNS : THREADS * TURNS) });
  const store = SessionStore.open({ dataDir: dir });
  // Time inside the store (durable commits, reads), measured around its public methods.
  const timing = { commitMs: 0, readMs: 0 };
  const timed = <A extends unknown[], R>(method: (...args: A) => R, key: 'commitMs' | 'readMs') =>
    function (this: SessionStore, ...args: A): R {
      const started = performance.now();
      try {
        return method.apply(this, args);
      } finally {
        timing[key] += performance.now() - started;
      }
    };
  store.emitEvent = timed(store.emitEvent, 'commitMs');
  store.emitEvents = timed(store.emitEvents, 'commitMs');
  store.getEvents = timed(store.getEvents, 'readMs');
  const hand = new MathHand();
  const harness = new Harness({ store, keyProvider: () => KEY, baseURL: server.url, handsFor: () => [hand], log: () => undefined });
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
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Per thread turn: the wall time from one request start of a thread to its next, less the model's and the tool's durations. */
function overheads(events: readonly StoredEvent[], starts: Map<number, number>): number[] {
  const byThread = new Map<string, StoredEvent[]>();
  for (const event of events) {
    const thread = (event.payload as { session_thread_id?: string }).session_thread_id;
    if (thread === undefined) continue;
    byThread.set(thread, [...(byThread.get(thread) ?? []), event]);
  }
  const out: number[] = [];
  for (const own of byThread.values()) {
    let from: number | null = null;
    let inside = 0;
    for (const event of own) {
      if (event.type === 'span.model_request_start') {
        const at = starts.get(event.seq);
        if (at !== undefined && from !== null) out.push(at - from - inside);
        from = at ?? null;
        inside = 0;
      } else if (event.type === 'span.model_request_end') inside += event.payload.duration_ms;
      else if (event.type === 'agent.tool_result') inside += event.payload.duration_ms ?? 0;
    }
  }
  return out;
}

export async function benchThreads(log: Log): Promise<Figure[]> {
  // A warm-up of each (module loading, SQLite, the SDK's first connection).
  await runSession(true);
  await runSession(false);
  const parallel = await runSession(true);
  const serial = await runSession(false);
  const ratio = serial.wallMs / parallel.wallMs;
  const turns = overheads(parallel.events, parallel.starts).sort((a, b) => a - b);
  const p50 = turns[Math.floor(turns.length / 2)] ?? Number.NaN;
  const threadTurns = parallel.events.filter((event) => event.type === 'agent.tool_result' && 'session_thread_id' in event.payload).length;
  log(
    `  ${THREADS} threads × ${TURNS} tool turns: ${parallel.wallMs.toFixed(0)} ms; 1 thread × ${THREADS * TURNS}: ${serial.wallMs.toFixed(0)} ms ` +
      `(${ratio.toFixed(1)}× faster; model ${MODEL_DELAY_MS} ms a reply; ${threadTurns} thread tool results)`,
  );
  log(`  harness overhead per thread turn: p50 ${p50.toFixed(2)} ms over ${turns.length} turns`);
  const commits = parallel.events.length;
  log(
    `  in the store: ${parallel.commitMs.toFixed(0)} ms appending (durable commits, ${commits} events), ${parallel.readMs.toFixed(0)} ms reading; ` +
      `serial run: ${serial.commitMs.toFixed(0)} ms appending, ${serial.readMs.toFixed(0)} ms reading`,
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
