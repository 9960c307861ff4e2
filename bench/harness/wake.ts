/**
 * Harness benchmark 2: how fast a long session wakes — the first request of a turn after a log of
 * many events, against a small session on the same machine.
 *
 * It must never reach the real API or the network, never change harness code paths to make a figure
 * look better, and never leave data behind: every store lives in a temp dir removed at the end.
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { NewEvent } from '#shared/events';
import { Harness } from '#services/harness/harness';
import { SessionStore } from '#services/session/store';
import { MathHand } from '#test/support/math-hand';
import { startModelServer, type RecordedRequest, type Reply } from '#test/support/model-server';
import { rng, type Figure } from '../session-store.ts';
import { KEY, MODEL, type Log, p50, p95, ms, tempDir, WORDS } from './common.ts';

// ------------------------------------------------------------------ 2. wake of a long session

/**
 * A realistic log of `count` events: configured, then turns of user message → running → tool
 * rounds (request span, sometimes a text block, a tool use, the end span, a result of a few
 * hundred bytes) → a final text response → idle. The last turn is padded with text blocks so the
 * log has exactly `count` events and ends with session.status_idle.
 */
function historyEvents(count: number, seed: number): NewEvent[] {
  const random = rng(seed);
  const words = (min: number, max: number) =>
    Array.from({ length: min + Math.floor(random() * (max - min)) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');
  const text = (min: number, max: number): NewEvent => ({
    type: 'agent.message',
    payload: { content: [{ type: 'text', text: words(min, max) }] },
  });
  const spanStart: NewEvent = { type: 'span.model_request_start', payload: { model: MODEL, purpose: 'turn' } };
  const spanEnd = (stop: string): NewEvent => ({
    type: 'span.model_request_end',
    payload: {
      model: MODEL,
      purpose: 'turn',
      usage: {
        input_tokens: Math.floor(random() * 2000),
        output_tokens: Math.floor(random() * 800),
        cache_read_input_tokens: Math.floor(random() * 9e4),
        cache_creation_input_tokens: Math.floor(random() * 3000),
      },
      stop_reason: stop,
      is_error: false,
      duration_ms: 500 + Math.round(random() * 9000),
    },
  });
  const out: NewEvent[] = [{ type: 'session.configured', payload: { model: MODEL, max_tokens: 8192 } }];
  let tool = 0;
  while (out.length < count) {
    const room = count - out.length;
    const turn: NewEvent[] = [
      { type: 'user.message', payload: { content: [{ type: 'text', text: words(3, 40) }] } },
      { type: 'session.status_running', payload: {} },
    ];
    const rounds = 1 + Math.floor(random() * 8);
    for (let r = 0; r < rounds; r++) {
      const id = `toolu_bench_${++tool}`;
      const round: NewEvent[] = [spanStart];
      if (random() < 0.5) round.push(text(5, 30));
      round.push(
        {
          type: 'agent.tool_use',
          payload: {
            tool_use_id: id,
            name: random() < 0.5 ? 'add' : 'multiply',
            input: { a: Math.floor(random() * 1e4), b: Math.floor(random() * 1e4) },
          },
        },
        spanEnd('tool_use'),
        {
          type: 'agent.tool_result',
          payload: {
            tool_use_id: id,
            content: [{ type: 'text', text: words(40, 90) }],
            is_error: false,
            duration_ms: Math.round(random() * 3000),
          },
        },
      );
      if (turn.length + round.length + 4 > room) break;
      turn.push(...round);
    }
    const final: NewEvent[] = [spanStart, text(10, 60)];
    // Fewer than a minimal turn's 6 events would be left: spend them as more text blocks of the final response.
    for (let left = room - (turn.length + final.length + 2); left > 0 && left < 6; left--) final.push(text(5, 20));
    turn.push(...final, spanEnd('end_turn'), { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } });
    out.push(...turn);
  }
  if (out.length !== count) throw new Error(`built ${out.length} history events, expected ${count}`);
  return out;
}

/** `next(k)` resolves with the model server's k-th request (register before it can arrive); every reply is a short end_turn. */
function requestWaiter(): { next: (k: number) => Promise<RecordedRequest>; respond: (request: RecordedRequest) => Reply } {
  const waiting = new Map<number, (request: RecordedRequest) => void>();
  return {
    next: (k) => new Promise((resolve) => waiting.set(k, resolve)),
    respond: (request) => {
      waiting.get(request.index)?.(request);
      waiting.delete(request.index);
      return { kind: 'message', message: { content: [{ type: 'text', text: 'Picking up where we left off.' }], stop_reason: 'end_turn' } };
    },
  };
}

export async function benchWake(log: Log): Promise<Figure[]> {
  const dir = tempDir('wake');
  const waiter = requestWaiter();
  const server = await startModelServer({ respond: waiter.respond });
  let store = SessionStore.open({ dataDir: dir });
  const hand = new MathHand();
  const harnessOptions = () => ({ keyProvider: () => KEY, baseURL: server.url, handsFor: () => [hand] });
  try {
    // Base logs ending idle; each sample forks one at its last event and appends the pending user
    // message, so every wake meets a session it has never seen: 10,000 events in the view
    // (base + session.forked + user.message). Built before any harness exists, so nothing wakes early.
    const sizes = [10_000, 10] as const;
    const bases = new Map<number, { id: string; lastSeq: number }>();
    for (const size of sizes) {
      const { id } = store.createSession({ title: `wake base ${size}` });
      const events = historyEvents(size - 2, size);
      for (let i = 0; i < events.length; i += 1000) store.emitEvents(id, events.slice(i, i + 1000));
      bases.set(size, { id, lastSeq: store.getSession(id).lastSeq });
    }

    const pending = (size: number): string => {
      const base = bases.get(size) as { id: string; lastSeq: number };
      const fork = store.fork(base.id, base.lastSeq);
      store.emitEvent(fork.id, {
        type: 'user.message',
        payload: { content: [{ type: 'text', text: 'Carry on with the next failing test.' }] },
      });
      return fork.id;
    };

    /** Time from `start` (just before the wake, or the store open when cold) to the request's first byte. */
    const sample = async (size: number, cold: boolean): Promise<{ ms: number; bytes: number }> => {
      const sessionId = pending(size);
      if (cold) store.close();
      const k = server.requests.length;
      const arrived = waiter.next(k);
      const start = performance.now();
      if (cold) store = SessionStore.open({ dataDir: dir });
      const harness = new Harness({ store, ...harnessOptions() });
      const done = harness.wake(sessionId);
      const request = await arrived;
      const elapsed = request.receivedAt - start;
      await done;
      await harness.close();
      if (store.getEvents(sessionId, { direction: 'backward', limit: 1 })[0]?.type !== 'session.status_idle') {
        throw new Error(`the woken ${size}-event session did not finish its turn`);
      }
      return { ms: elapsed, bytes: Buffer.byteLength(JSON.stringify(request.body)) };
    };

    const warmup = 3;
    const samples = 25;
    const times = new Map<string, number[]>();
    let bigRequestBytes = 0;
    for (let i = 0; i < warmup + samples; i++) {
      // Rotate the order so neither size nor mode always runs first after a reopen.
      const plan: Array<[number, boolean]> = [
        [10_000, false],
        [10, false],
        [10_000, true],
        [10, true],
      ];
      for (let r = 0; r < i % plan.length; r++) plan.push(plan.shift() as [number, boolean]);
      for (const [size, cold] of plan) {
        const result = await sample(size, cold);
        if (size === 10_000) bigRequestBytes = result.bytes;
        if (i < warmup) continue;
        const key = `${size}:${cold ? 'cold' : 'warm'}`;
        times.set(key, [...(times.get(key) ?? []), result.ms]);
      }
    }
    const of = (size: number, mode: string) => times.get(`${size}:${mode}`) ?? [];
    log(
      `  wake: ${samples} samples per size and mode after ${warmup} warm-up; each a fresh fork of a base log plus a pending user.message`,
    );
    log(`  the 10k-event wake sends a ${(bigRequestBytes / 1024).toFixed(0)} KiB request (old tool results cleared to the context budget)`);
    log(
      `  warm = store already open, new Harness (so a new SDK client and connection); cold = SessionStore.open + new Harness inside the timing (OS page cache stays warm)`,
    );
    for (const mode of ['warm', 'cold']) {
      log(
        `  ${mode}: 10k p50 ${ms(p50(of(10_000, mode)))} p95 ${ms(p95(of(10_000, mode)))}; 10 events p50 ${ms(p50(of(10, mode)))} p95 ${ms(p95(of(10, mode)))}`,
      );
    }
    const figures: Figure[] = [];
    for (const mode of ['warm', 'cold']) {
      for (const [label, pick] of [
        ['p50', p50],
        ['p95', p95],
      ] as const) {
        const big = pick(of(10_000, mode));
        const small = pick(of(10, mode));
        figures.push({
          name: `wake() → first request byte, 10k-event session, ${mode} (${label})`,
          value: big,
          unit: 'ms',
          baseline: { name: `10-event session, ${mode} (${label})`, value: small },
          ratio: big / small,
          // The issue gives no percentile; the typical wake (p50) carries the verdict, as for the
          // per-turn overhead. p95 is reported: on a shared machine it follows GC and fsync stalls.
          target: label === 'p50' ? '≤ 50 ms' : 'reported (≤ 50 ms at p50)',
          ...(label === 'p50' ? { pass: big <= 50 } : {}),
        });
      }
    }
    return figures;
  } finally {
    store.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
