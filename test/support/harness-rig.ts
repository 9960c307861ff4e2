/**
 * The harness integration tests' rig: a real Harness over a real SQLite store in a temp dir, the
 * real SDK against the local model server, and a MathHand; scripted replies; and waits on the
 * session's log. Every rig is torn down by `cleanUpRigs`, which each test file runs after each test.
 *
 * It must never stand in for a part the tests can run: the model server is the only stand-in,
 * and nothing here reaches past 127.0.0.1 or leaves a store behind.
 */
import { rmSync } from 'node:fs';
import type { EventOf, EventType, StoredEvent } from '#shared/events';
import type { LiveUpdate } from '#shared/harness';
import { Harness, type HarnessOptions } from '#services/harness/harness';
import type { Hand } from '#services/hands/hand';
import { SessionStore } from '#services/session/store';
import { MathHand } from '#test/support/math-hand';
import { startModelServer, type ModelServer, type RecordedRequest, type Reply, type ScriptedMessage } from '#test/support/model-server';
import { tempDir } from '#test/support/system';
import { waitForEvent } from '#test/support/wait-for-event';

export const KEY = 'sk-ant-test-key';
const cleanups: Array<() => Promise<void> | void> = [];

/** Runs `cleanup` after the current test, before the rigs made earlier are torn down. */
export function cleanUpLater(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

/** Closes every rig's harness, store and server, and removes its folder; each test file calls it in afterEach. */
export async function cleanUpRigs(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

export interface Rig {
  server: ModelServer;
  store: SessionStore;
  harness: Harness;
  sessionId: string;
  live: LiveUpdate[];
  hand: MathHand;
  dir: string;
}

export type Respond = (request: RecordedRequest) => Reply | Promise<Reply>;

export async function rig(respond: Respond, options: Partial<HarnessOptions> & { hands?: Hand[]; hand?: MathHand } = {}): Promise<Rig> {
  const server = await startModelServer({ respond, apiKey: KEY, models: ['claude-sonnet-4-6', 'claude-opus-4-5', 'claude-haiku-4-5'] });
  const dir = tempDir('drover-harness-');
  const store = SessionStore.open({ dataDir: dir });
  const hand = options.hand ?? new MathHand();
  const live: LiveUpdate[] = [];
  const harness = new Harness({
    store,
    keyProvider: () => KEY,
    baseURL: server.url,
    handsFor: () => options.hands ?? [hand],
    onLive: (_id, update) => live.push(update),
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    log: () => undefined,
    ...options,
  });
  cleanups.push(async () => {
    await harness.close();
    store.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { id } = store.createSession({ title: 'test' });
  return { server, store, harness, sessionId: id, live, hand, dir };
}

/** Replies in order; a request beyond the script fails the test loudly. */
export function script(...replies: Array<ScriptedMessage | Reply>): Respond {
  const queue = [...replies];
  return () => {
    const next = queue.shift();
    if (!next) return { kind: 'http-error', status: 500, type: 'api_error', message: 'the test script has no more replies' };
    return 'kind' in next ? next : { kind: 'message', message: next };
  };
}

export const text = (value: string, stop: ScriptedMessage['stop_reason'] = 'end_turn'): ScriptedMessage => ({
  content: [{ type: 'text', text: value }],
  stop_reason: stop,
});

/** Resolves with the first event (already logged or to come) matching `match`. */
export function waitFor<K extends EventType>(
  r: Rig,
  type: K,
  match: (event: EventOf<K>) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<EventOf<K>> {
  return waitForEvent(r.store, r.sessionId, type, match, timeoutMs);
}

export const idle = (r: Rig) => waitFor(r, 'session.status_idle');
export const events = (r: Rig): StoredEvent[] => r.store.getEvents(r.sessionId);
export const types = (r: Rig): string[] => events(r).map((event) => event.type);
export const ofType = <K extends EventType>(r: Rig, type: K): Array<EventOf<K>> =>
  events(r).filter((e): e is EventOf<K> => e.type === type);
