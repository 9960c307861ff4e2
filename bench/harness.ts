/**
 * Harness benchmarks: what the brain itself costs per turn, how fast a long session wakes, how it
 * holds up with many sessions at once, and how quickly an interrupt lands. Every figure has a
 * baseline from the same run — the raw SDK streaming the same requests from the same local model
 * server, a direct hand call, a small session, or a single session — so a slow machine moves
 * both sides alike.
 *
 * It must never reach the real API or the network (only test/support's model server on
 * 127.0.0.1), never change harness code paths to make a figure look better (it drives the public
 * Harness API only), and never leave data behind: every store lives in a temp dir removed at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsStreaming } from '@anthropic-ai/sdk/resources/messages';
import type { NewEvent } from '#shared/events';
import type { LiveUpdate } from '#shared/harness';
import { Harness } from '#services/harness/harness';
import { SessionStore } from '#services/session/store';
import { MathHand } from '#test/support/math-hand';
import { startModelServer, type MessagesRequestBody, type RecordedRequest, type Reply } from '#test/support/model-server';
import { rng, type Figure } from './session-store.ts';

export const KEY = 'sk-ant-bench-local';
// Not the harness default (claude-sonnet-4-5): the SDK console.warns a deprecation on every
// request naming it, which would put terminal I/O inside every measured turn.
export const MODEL = 'claude-sonnet-4-6';
const TURN_TIMEOUT_MS = 30_000;

export type Log = (line: string) => void;

// ------------------------------------------------------------------------------------ helpers

/** Nearest-rank percentile (p in 0…1): always a value that was really measured. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

export const p50 = (values: readonly number[]) => percentile(values, 0.5);
export const p95 = (values: readonly number[]) => percentile(values, 0.95);
export const ms = (value: number) => `${value.toFixed(2)} ms`;

function tempDir(label: string): string {
  return mkdtempSync(path.join(tmpdir(), `drover-bench-harness-${label}-`));
}

/** A session configured like the launch form would (a current model), so no SDK warning fires. */
export function newSession(store: SessionStore, title: string): string {
  const { id } = store.createSession({ title });
  store.emitEvent(id, { type: 'session.configured', payload: { model: MODEL, max_tokens: 8192 } });
  return id;
}

/**
 * The reply script of one benchmark turn: a user message gets one `add` tool use, a tool result
 * gets a short text and end_turn. Decided from the request alone, so the raw-SDK baseline that
 * replays the same bodies gets the very same two responses.
 */
function turnReply(body: MessagesRequestBody, frameDelayMs: number): Reply {
  const last = body.messages.at(-1);
  const answered = Array.isArray(last?.content) && last.content.some((block) => block.type === 'tool_result');
  const message: Extract<Reply, { kind: 'message' }>['message'] = answered
    ? { content: [{ type: 'text', text: 'The sum is 5, as the add tool says.' }], stop_reason: 'end_turn' }
    : { content: [{ type: 'tool_use', name: 'add', input: { a: 2, b: 3 } }], stop_reason: 'tool_use' };
  return { kind: 'message', message, frameDelayMs };
}

export interface TurnEnd {
  /** performance.now() when the session.status_idle event was appended (durable). */
  at: number;
  reason: string;
  /** Sum of span.model_request_end.duration_ms: the harness's own record of time inside model calls. */
  modelMs: number;
  /** Sum of agent.tool_result.duration_ms: time inside the hand. */
  toolMs: number;
  /** The turn's events (its user message included) as they were appended: one group per transaction. */
  appends: NewEvent[][];
}


/** Resolves when the session next records session.status_idle, with the turn's recorded spans. */
export function watchTurn(store: SessionStore, sessionId: string): Promise<TurnEnd> {
  return new Promise((resolve, reject) => {
    let modelMs = 0;
    let toolMs = 0;
    const appends: NewEvent[][] = [];
    let response: NewEvent[] | null = null;
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`session ${sessionId} did not go idle within ${TURN_TIMEOUT_MS} ms`));
    }, TURN_TIMEOUT_MS);
    const unsubscribe = store.subscribe(sessionId, (event) => {
      // One transaction notifies its events in one synchronous burst (after its commit), so a
      // burst is a transaction: regroup them that way, so a replay makes the same fsyncs.
      const copy = { type: event.type, payload: event.payload } as NewEvent;
      if (!response) {
        appends.push((response = []));
        queueMicrotask(() => (response = null));
      }
      response.push(copy);
      if (event.type === 'span.model_request_end') modelMs += event.payload.duration_ms;
      else if (event.type === 'agent.tool_result') toolMs += event.payload.duration_ms ?? 0;
      else if (event.type === 'session.status_idle') {
        const at = performance.now();
        clearTimeout(timer);
        unsubscribe();
        resolve({ at, reason: event.payload.stop_reason.type, modelMs, toolMs, appends });
      }
    });
  });
}

/**
 * Waits until the harness has let go of the session. The next message then starts a new wake:
 * a message appended one microtask after a turn's idle event wakes nothing (the run has stopped
 * following the log but is not yet out of the run table), and a real caller arrives in a later
 * macrotask anyway.
 */
export async function released(harness: Harness, sessionId: string): Promise<void> {
  while (harness.isRunning(sessionId)) await nextMacrotask();
}

export interface TurnRecord {
  wallMs: number;
  modelMs: number;
  toolMs: number;
  appends: NewEvent[][];
}

/** One user turn through the harness: send() until the idle event is durable. */
export async function harnessTurn(harness: Harness, store: SessionStore, sessionId: string, text: string): Promise<TurnRecord> {
  const end = watchTurn(store, sessionId); // subscribed first: it sees the user.message too
  const started = performance.now();
  harness.send(sessionId, text);
  const result = await end;
  if (result.reason !== 'end_turn') throw new Error(`a benchmark turn ended with "${result.reason}" instead of end_turn`);
  await released(harness, sessionId);
  return { wallMs: result.at - started, modelMs: result.modelMs, toolMs: result.toolMs, appends: result.appends };
}

/** Streams one request with the plain SDK and consumes every event, as any client must. */
async function rawStream(client: Anthropic, body: MessagesRequestBody): Promise<number> {
  const stream = await client.messages.create({ ...(body as unknown as MessageCreateParamsStreaming), stream: true });
  let events = 0;
  for await (const _event of stream) events++;
  return events;
}

/** Where a raw turn writes the harness turn's events again (a store no harness watches). */
interface Replay {
  store: SessionStore;
  sessionId: string;
  appends: readonly NewEvent[][];
}

interface RawTurn {
  /** The raw turn without the replayed appends: two SDK streams and the direct tool call. */
  wallMs: number;
  modelMs: number;
  /** Time inside the replayed appends (0 without a replay). */
  appendMs: number;
}

/**
 * The baseline of one turn: the same two requests with the raw SDK and the tool called directly.
 * With a replay it also writes the harness turn's events, in the same transactions and at the
 * same points of the turn — the least any durable brain must do — timed apart from the rest.
 */
async function rawTurn(client: Anthropic, hand: MathHand, bodies: readonly MessagesRequestBody[], replay?: Replay): Promise<RawTurn> {
  if (bodies.length !== 2) throw new Error(`a turn made ${bodies.length} model requests, expected 2`);
  const queue = [...bodies];
  let modelMs = 0;
  let appendMs = 0;
  const stream = async () => {
    const started = performance.now();
    await rawStream(client, queue.shift() as MessagesRequestBody);
    modelMs += performance.now() - started;
  };
  const tool = () => hand.execute('add', { a: 2, b: 3 }, { signal: new AbortController().signal });
  const started = performance.now();
  if (!replay) {
    await stream();
    await tool();
    await stream();
  } else {
    for (const group of replay.appends) {
      const types = new Set(group.map((event) => event.type));
      if (types.has('agent.tool_result')) await tool();
      const before = performance.now();
      if (group.length === 1) replay.store.emitEvent(replay.sessionId, group[0] as NewEvent);
      else replay.store.emitEvents(replay.sessionId, group);
      appendMs += performance.now() - before;
      if (types.has('span.model_request_start')) await stream();
    }
    if (queue.length > 0) throw new Error('the replayed turn did not make both model requests');
  }
  return { wallMs: performance.now() - started - appendMs, modelMs, appendMs };
}

// -------------------------------------------------------------- 1. overhead of a plain turn

const TURNS_PER_SESSION = 10;

export async function benchTurnOverhead(log: Log): Promise<Figure[]> {
  const dir = tempDir('turn');
  const server = await startModelServer({ respond: (request) => turnReply(request.body, 0) });
  const store = SessionStore.open({ dataDir: path.join(dir, 'harness') });
  // A second store on the same disk for the baseline's appends: a user.message in the harness's
  // own store would wake the harness.
  const replayStore = SessionStore.open({ dataDir: path.join(dir, 'replay') });
  const hand = new MathHand();
  const harness = new Harness({ store, keyProvider: () => KEY, baseURL: server.url, handsFor: () => [hand] });
  const raw = new Anthropic({ baseURL: server.url, apiKey: KEY, maxRetries: 0 });
  try {
    const warmup = 30;
    const measured = 200;
    const turns: TurnRecord[] = [];
    const baselines: RawTurn[] = [];
    let sessionId = '';
    let replaySessionId = '';
    for (let i = 0; i < warmup + measured; i++) {
      // Sessions of ten turns: the request grows turn by turn as it does in use, without one
      // session's history growing through the whole run and skewing the last samples.
      if (i % TURNS_PER_SESSION === 0) {
        sessionId = newSession(store, `turns ${i}`);
        replaySessionId = newSession(replayStore, `replay ${i}`);
      }
      const first = server.requests.length;
      const turn = await harnessTurn(harness, store, sessionId, `Please add 2 and 3 (turn ${i}).`);
      const bodies = server.requests.slice(first).map((request) => request.body);
      // Right after the harness turn (same disk weather), with the exact request bodies it sent
      // and the events it appended.
      const baseline = await rawTurn(raw, hand, bodies, { store: replayStore, sessionId: replaySessionId, appends: turn.appends });
      if (i < warmup) continue;
      turns.push(turn);
      baselines.push(baseline);
    }

    const overhead = turns.map((turn) => turn.wallMs - turn.modelMs - turn.toolMs);
    const appendMs = baselines.map((baseline) => baseline.appendMs);
    const beyondAppends = overhead.map((value, i) => value - (appendMs[i] ?? Number.NaN));
    const wall = turns.map((turn) => turn.wallMs);
    const recordedModel = turns.map((turn) => turn.modelMs);
    const rawWall = baselines.map((baseline) => baseline.wallMs);
    const rawModel = baselines.map((baseline) => baseline.modelMs);
    const difference = turns.map((turn, i) => turn.wallMs - (rawWall[i] ?? Number.NaN));
    const events = p50(turns.map((turn) => turn.appends.flat().length));
    const transactions = p50(turns.map((turn) => turn.appends.length));
    log(`  harness turns: ${measured} turns (user → add tool_use → tool → text end_turn → idle) after ${warmup} warm-up, ${TURNS_PER_SESSION} turns per session`);
    log(`  durable appends are included in the overhead: ${events} events in ${transactions} transactions per turn (SQLite WAL, synchronous=FULL: an fsync each)`);
    log(`  the same appends made directly, within the raw turn: p50 ${ms(p50(appendMs))}, p95 ${ms(p95(appendMs))} per turn`);
    log(`  overhead p50 ${ms(p50(overhead))}, p95 ${ms(p95(overhead))}; turn wall p50 ${ms(p50(wall))} vs raw SDK + direct tool p50 ${ms(p50(rawWall))}`);

    const overheadP50 = p50(overhead);
    const appendsName = `the same ${transactions} durable appends made directly`;
    return [
      {
        name: 'harness overhead per turn p50 (wall − recorded model and tool time; durable appends included)',
        value: overheadP50,
        unit: 'ms',
        baseline: { name: `${appendsName} (p50)`, value: p50(appendMs) },
        ratio: overheadP50 / p50(appendMs),
        target: '≤ 2 ms p50',
        pass: overheadP50 <= 2,
      },
      {
        name: 'harness overhead per turn p95',
        value: p95(overhead),
        unit: 'ms',
        baseline: { name: `${appendsName} (p95)`, value: p95(appendMs) },
        ratio: p95(overhead) / p95(appendMs),
        target: 'reported',
      },
      {
        name: 'harness overhead beyond its durable appends, p50 of per-turn (overhead − direct appends)',
        value: p50(beyondAppends),
        unit: 'ms',
        target: `reported (p95 ${ms(p95(beyondAppends))}; an estimate: two different fsyncs per pair)`,
      },
      {
        name: 'recorded model time per turn p50 (sum of span.model_request_end.duration_ms)',
        value: p50(recordedModel),
        unit: 'ms',
        baseline: { name: 'raw SDK streaming the same two requests', value: p50(rawModel) },
        ratio: p50(recordedModel) / p50(rawModel),
        target: 'reported (inside the span: SDK, frame checks, block assembly, live updates)',
      },
      {
        name: 'turn wall time p50 (send → idle durable)',
        value: p50(wall),
        unit: 'ms',
        baseline: { name: 'raw SDK, same two requests + direct MathHand.execute', value: p50(rawWall) },
        ratio: p50(wall) / p50(rawWall),
        target: 'reported',
      },
      {
        name: 'turn wall time − raw baseline, p50 of per-turn differences',
        value: p50(difference),
        unit: 'ms',
        target: `reported (p95 ${ms(p95(difference))})`,
      },
    ];
  } finally {
    await harness.close();
    store.close();
    replayStore.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ 2. wake of a long session

const WORDS =
  'the agent ran tests in the container and fixed a failing import then checked the output again before it said done with a short summary of changes'.split(' ');

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
  const text = (min: number, max: number): NewEvent => ({ type: 'agent.message', payload: { content: [{ type: 'text', text: words(min, max) }] } });
  const spanStart: NewEvent = { type: 'span.model_request_start', payload: { model: MODEL, purpose: 'turn' } };
  const spanEnd = (stop: string): NewEvent => ({
    type: 'span.model_request_end',
    payload: {
      model: MODEL,
      purpose: 'turn',
      usage: { input_tokens: Math.floor(random() * 2000), output_tokens: Math.floor(random() * 800), cache_read_input_tokens: Math.floor(random() * 9e4), cache_creation_input_tokens: Math.floor(random() * 3000) },
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
        { type: 'agent.tool_use', payload: { tool_use_id: id, name: random() < 0.5 ? 'add' : 'multiply', input: { a: Math.floor(random() * 1e4), b: Math.floor(random() * 1e4) } } },
        spanEnd('tool_use'),
        { type: 'agent.tool_result', payload: { tool_use_id: id, content: [{ type: 'text', text: words(40, 90) }], is_error: false, duration_ms: Math.round(random() * 3000) } },
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
      store.emitEvent(fork.id, { type: 'user.message', payload: { content: [{ type: 'text', text: 'Carry on with the next failing test.' }] } });
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
    log(`  wake: ${samples} samples per size and mode after ${warmup} warm-up; each a fresh fork of a base log plus a pending user.message`);
    log(`  the 10k-event wake sends a ${(bigRequestBytes / 1024).toFixed(0)} KiB request (old tool results cleared to the context budget)`);
    log(`  warm = store already open, new Harness (so a new SDK client and connection); cold = SessionStore.open + new Harness inside the timing (OS page cache stays warm)`);
    for (const mode of ['warm', 'cold']) {
      log(`  ${mode}: 10k p50 ${ms(p50(of(10_000, mode)))} p95 ${ms(p95(of(10_000, mode)))}; 10 events p50 ${ms(p50(of(10, mode)))} p95 ${ms(p95(of(10, mode)))}`);
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

// ------------------------------------------------------------------- 3. concurrent sessions

interface ScriptedTurn {
  bodies: MessagesRequestBody[];
  appends: NewEvent[][];
}

export async function benchConcurrency(log: Log): Promise<Figure[]> {
  const dir = tempDir('concurrency');
  // ~3 ms between SSE frames: each response takes a few tens of ms, like a short real reply.
  const frameDelayMs = 3;
  const server = await startModelServer({ respond: (request) => turnReply(request.body, frameDelayMs) });
  const store = SessionStore.open({ dataDir: path.join(dir, 'harness') });
  const replayStore = SessionStore.open({ dataDir: path.join(dir, 'replay') });
  const hand = new MathHand();
  // One harness for all sessions, as in the app: one process, one event loop.
  const harness = new Harness({ store, keyProvider: () => KEY, baseURL: server.url, handsFor: () => [hand] });
  const raw = new Anthropic({ baseURL: server.url, apiKey: KEY, maxRetries: 0 });
  const sessions = 20;
  const turnsEach = 10;
  try {
    const runSession = async (label: string): Promise<{ latencies: number[]; script: ScriptedTurn[] }> => {
      const sessionId = newSession(store, label);
      const latencies: number[] = [];
      // Each turn's requests and appends (meaningful when the session runs alone: then every
      // request the server sees is its own).
      const script: ScriptedTurn[] = [];
      for (let t = 0; t < turnsEach; t++) {
        const first = server.requests.length;
        const turn = await harnessTurn(harness, store, sessionId, `Please add 2 and 3 (turn ${t}).`);
        latencies.push(turn.wallMs);
        script.push({ bodies: server.requests.slice(first).map((request) => request.body), appends: turn.appends });
      }
      return { latencies, script };
    };
    const phase = async (count: number, label: string) => {
      const started = performance.now();
      const results = await Promise.all(Array.from({ length: count }, (_, i) => runSession(`${label} ${i}`)));
      const elapsed = performance.now() - started;
      return { turnsPerSecond: (count * turnsEach) / (elapsed / 1000), latencies: results.flatMap((r) => r.latencies), script: results[0]?.script ?? [] };
    };
    /** `count` loops replaying the single session's turns with the raw SDK; with `durable`, its appends too. */
    const rawPhase = async (count: number, script: ScriptedTurn[], durable: boolean) => {
      const started = performance.now();
      await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const sessionId = durable ? newSession(replayStore, `replay ${i}`) : '';
          for (const turn of script) await rawTurn(raw, hand, turn.bodies, durable ? { store: replayStore, sessionId, appends: turn.appends } : undefined);
        }),
      );
      return (count * script.length) / ((performance.now() - started) / 1000);
    };

    await phase(1, 'warm-up');
    const rounds = 4;
    const single: number[] = [];
    const many: number[] = [];
    const singleRate: number[] = [];
    const manyRate: number[] = [];
    const rawRate: number[] = [];
    const durableRawRate: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const one = async () => {
        const result = await phase(1, `alone ${round}`);
        single.push(...result.latencies);
        singleRate.push(result.turnsPerSecond);
        return result.script;
      };
      const all = async () => {
        const result = await phase(sessions, `concurrent ${round}`);
        many.push(...result.latencies);
        manyRate.push(result.turnsPerSecond);
      };
      // Alternate which phase goes first, so drift in disk or CPU speed hits both alike.
      let script: ScriptedTurn[];
      if (round % 2 === 0) {
        script = await one();
        await all();
      } else {
        await all();
        script = await one();
      }
      // The same turns replayed by 20 concurrent raw-SDK loops: what the server, the SDK and
      // one event loop allow without a harness — and with the same durable appends on top.
      rawRate.push(await rawPhase(sessions, script, false));
      durableRawRate.push(await rawPhase(sessions, script, true));
    }
    const addedP95 = p95(many) - p95(single);
    log(`  concurrency: ${rounds} rounds of (1 session alone, ${sessions} sessions at once) × ${turnsEach} turns, SSE frames ${frameDelayMs} ms apart, one Harness`);
    log(`  turn latency alone p50 ${ms(p50(single))} p95 ${ms(p95(single))}; ${sessions} at once p50 ${ms(p50(many))} p95 ${ms(p95(many))}`);
    log(
      `  turns/s (median of rounds): alone ${p50(singleRate).toFixed(1)}, ${sessions} harness sessions ${p50(manyRate).toFixed(1)}, ` +
        `${sessions} raw SDK loops ${p50(rawRate).toFixed(1)}, ${sessions} raw SDK loops + the same durable appends ${p50(durableRawRate).toFixed(1)}`,
    );
    return [
      {
        name: `throughput, ${sessions} concurrent sessions (${turnsEach} turns each)`,
        value: p50(manyRate),
        unit: 'turns/s',
        baseline: { name: '1 session alone, same turns', value: p50(singleRate) },
        ratio: p50(manyRate) / p50(singleRate),
        target: `reported (${sessions}× would be ideal: model time dominates a turn)`,
      },
      {
        name: `throughput, ${sessions} concurrent sessions vs raw SDK`,
        value: p50(manyRate),
        unit: 'turns/s',
        baseline: { name: `${sessions} concurrent raw SDK loops replaying the same requests + direct tool`, value: p50(rawRate) },
        ratio: p50(manyRate) / p50(rawRate),
        target: 'reported',
      },
      {
        name: `throughput, ${sessions} concurrent sessions vs raw SDK with the same durable appends`,
        value: p50(manyRate),
        unit: 'turns/s',
        baseline: { name: `${sessions} raw SDK loops that also make the harness's appends`, value: p50(durableRawRate) },
        ratio: p50(manyRate) / p50(durableRawRate),
        target: 'reported',
      },
      {
        name: `p95 turn latency added by ${sessions}-way concurrency`,
        value: addedP95,
        unit: 'ms',
        baseline: { name: 'p95 turn latency of 1 session alone', value: p95(single) },
        ratio: p95(many) / p95(single),
        target: `reported (ratio: p95 at ${sessions} / p95 alone)`,
      },
    ];
  } finally {
    await harness.close();
    store.close();
    replayStore.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------- 4. interrupts

const LONG_TEXT = Array.from({ length: 600 }, (_, i) => WORDS[i % WORDS.length]).join(' ');

export async function benchInterrupts(log: Log): Promise<Figure[]> {
  const dir = tempDir('interrupt');
  // Slow streams (20 ms a frame, a ~4 s reply) and a 10 s tool: an interrupt that is not honoured shows.
  const server = await startModelServer({
    respond: (request) => {
      const text = JSON.stringify(request.body.messages.at(-1)?.content ?? '');
      const message: Extract<Reply, { kind: 'message' }>['message'] = text.includes('wait please')
        ? { content: [{ type: 'tool_use', name: 'wait', input: { ms: 10_000 } }], stop_reason: 'tool_use' }
        : { content: [{ type: 'text', text: LONG_TEXT }], stop_reason: 'end_turn' };
      return { kind: 'message', message, frameDelayMs: 20 };
    },
  });
  const store = SessionStore.open({ dataDir: dir });
  let onToolStart: (() => void) | undefined;
  const hand = new MathHand({
    onStart: () => {
      onToolStart?.();
    },
  });
  const liveHandlers = new Map<string, (update: LiveUpdate) => void>();
  const harness = new Harness({
    store,
    keyProvider: () => KEY,
    baseURL: server.url,
    handsFor: () => [hand],
    onLive: (sessionId, update) => liveHandlers.get(sessionId)?.(update),
  });
  const raw = new Anthropic({ baseURL: server.url, apiKey: KEY, maxRetries: 0 });
  try {
    /** Interrupt (from a later macrotask, as an RPC call would arrive) and time it until the idle event. */
    const interruptTurn = async (kind: 'stream' | 'tool'): Promise<number> => {
      const sessionId = newSession(store, `interrupt ${kind}`);
      const end = watchTurn(store, sessionId);
      let interruptedAt = 0;
      const interrupt = () =>
        setImmediate(() => {
          interruptedAt = performance.now();
          harness.interrupt(sessionId);
        });
      if (kind === 'stream') {
        let fired = false;
        liveHandlers.set(sessionId, (update) => {
          if (fired || update.type !== 'delta' || update.kind !== 'text') return;
          fired = true;
          interrupt();
        });
      } else {
        onToolStart = interrupt;
      }
      harness.send(sessionId, kind === 'tool' ? 'Run the wait tool, wait please.' : 'Tell me a long story.');
      const result = await end;
      liveHandlers.delete(sessionId);
      onToolStart = undefined;
      if (result.reason !== 'interrupted' || interruptedAt === 0) throw new Error(`an interrupted ${kind} turn ended with "${result.reason}"`);
      await released(harness, sessionId);
      return result.at - interruptedAt;
    };

    /** Baselines: abort the raw SDK stream at its first text delta; abort the hand's wait directly. */
    const rawStreamAbort = async (): Promise<number> => {
      const controller = new AbortController();
      const body: MessageCreateParamsStreaming = { model: MODEL, max_tokens: 8192, stream: true, messages: [{ role: 'user', content: 'Tell me a long story.' }] };
      const stream = await raw.messages.create(body, { signal: controller.signal });
      let abortedAt = 0;
      try {
        for await (const event of stream) {
          if (abortedAt === 0 && event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
            setImmediate(() => {
              abortedAt = performance.now();
              controller.abort();
            });
            abortedAt = -1;
          }
        }
      } catch (error) {
        if (!(error instanceof Anthropic.APIUserAbortError)) throw error;
      }
      if (abortedAt <= 0) throw new Error('the raw stream ended before it was aborted');
      return performance.now() - abortedAt;
    };
    const rawToolAbort = async (): Promise<number> => {
      const controller = new AbortController();
      let abortedAt = 0;
      onToolStart = () =>
        setImmediate(() => {
          abortedAt = performance.now();
          controller.abort();
        });
      await hand.execute('wait', { ms: 10_000 }, { signal: controller.signal });
      onToolStart = undefined;
      return performance.now() - abortedAt;
    };

    const warmup = 3;
    const samples = 25;
    const stream: number[] = [];
    const tool: number[] = [];
    const rawStreamTimes: number[] = [];
    const rawToolTimes: number[] = [];
    for (let i = 0; i < warmup + samples; i++) {
      const s = await interruptTurn('stream');
      const rs = await rawStreamAbort();
      const t = await interruptTurn('tool');
      const rt = await rawToolAbort();
      if (i < warmup) continue;
      stream.push(s);
      rawStreamTimes.push(rs);
      tool.push(t);
      rawToolTimes.push(rt);
    }
    log(`  interrupts: ${samples} samples each after ${warmup} warm-up; interrupt() called from a fresh macrotask, timed to the durable session.status_idle (interrupted)`);
    log(`  mid-stream (20 ms frames) p50 ${ms(p50(stream))} p95 ${ms(p95(stream))}; mid-tool (wait 10 s) p50 ${ms(p50(tool))} p95 ${ms(p95(tool))}`);
    const figure = (name: string, values: number[], baselineName: string, baseline: number[]): Figure[] => [
      {
        name: `${name} p95`,
        value: p95(values),
        unit: 'ms',
        baseline: { name: `${baselineName} p95`, value: p95(baseline) },
        ratio: p95(values) / p95(baseline),
        target: '≤ 200 ms p95',
        pass: p95(values) <= 200,
      },
      { name: `${name} p50`, value: p50(values), unit: 'ms', baseline: { name: `${baselineName} p50`, value: p50(baseline) }, target: 'reported' },
    ];
    return [
      ...figure('interrupt mid-stream → idle', stream, 'raw SDK stream abort → loop exits', rawStreamTimes),
      ...figure('interrupt mid-tool → idle', tool, 'MathHand wait abort → execute resolves', rawToolTimes),
    ];
  } finally {
    await harness.close();
    store.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every harness figure, in order. */
export async function benchHarness(log: Log): Promise<Figure[]> {
  return [...(await benchTurnOverhead(log)), ...(await benchWake(log)), ...(await benchConcurrency(log)), ...(await benchInterrupts(log))];
}
