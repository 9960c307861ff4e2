/**
 * Shared parts of the harness benchmarks (bench/harness/*.ts): percentiles, a session set up like the
 * launch form would, a watched harness turn, and the raw-SDK turn every figure is measured against.
 *
 * It must never reach the real API or the network (only test/support's model server on 127.0.0.1),
 * and never change harness code paths to make a figure look better (it drives the public Harness API only).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsStreaming } from '@anthropic-ai/sdk/resources/messages';
import type { NewEvent } from '#shared/events';
import { type Harness } from '#services/harness/harness';
import { type SessionStore } from '#services/session/store';
import { type MathHand } from '#test/support/math-hand';
import { type MessagesRequestBody, type Reply } from '#test/support/model-server';

export const KEY = 'sk-ant-bench-local';
// Not the harness default (claude-sonnet-4-5): the SDK console.warns a deprecation on every
// request naming it, which would put terminal I/O inside every measured turn.
export const MODEL = 'claude-sonnet-4-6';
export const TURN_TIMEOUT_MS = 30_000;

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

export function tempDir(label: string): string {
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
export function turnReply(body: MessagesRequestBody, frameDelayMs: number): Reply {
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
export async function rawStream(client: Anthropic, body: MessagesRequestBody): Promise<number> {
  const stream = await client.messages.create({ ...(body as unknown as MessageCreateParamsStreaming), stream: true });
  let events = 0;
  for await (const _event of stream) events++;
  return events;
}

/** Where a raw turn writes the harness turn's events again (a store no harness watches). */
export interface Replay {
  store: SessionStore;
  sessionId: string;
  appends: readonly NewEvent[][];
}

export interface RawTurn {
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
export async function rawTurn(
  client: Anthropic,
  hand: MathHand,
  bodies: readonly MessagesRequestBody[],
  replay?: Replay,
): Promise<RawTurn> {
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

export const WORDS =
  'the agent ran tests in the container and fixed a failing import then checked the output again before it said done with a short summary of changes'.split(
    ' ',
  );
