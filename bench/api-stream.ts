/**
 * The Managed Agents API's event stream, measured with the official SDK as the client (the same
 * process, over 127.0.0.1): how long from an event being durable (the store's first listener,
 * right after its commit) to its SSE frame coming out of the SDK's stream iterator, one event at a
 * time; and 50 SDK clients each streaming its own session while all 50 sessions append at once
 * (events delivered per second, and the same latency's p95 under that load).
 *
 * The baseline is the durable append itself (emitEvent until its commit, fsync included), the
 * cost every event pays before any stream can see it. With all sessions appending, delivery is
 * bounded by the appends (one fsync per batch of 10), not by the streams. It never reaches the network, and leaves nothing
 * behind (the rig's temp dir is removed).
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsStreamSessionEvents } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { externalId } from '#api/ids';
import { API_TOKEN, apiRig } from '#test/support/api-rig';
import type { Figure } from './session-store.ts';
import { p50, p95, type Log } from './harness/common.ts';

const SINGLE_EVENTS = 1000;
const CLIENTS = 50;
const ROUNDS = 20;
const BATCH = 10;

type Frames = AsyncIterator<BetaManagedAgentsStreamSessionEvents>;

async function openStream(client: Anthropic, sessionId: string): Promise<{ frames: Frames; close: () => void }> {
  const stream = await client.beta.sessions.events.stream(externalId('session', sessionId));
  return { frames: stream[Symbol.asyncIterator](), close: () => stream.controller.abort() };
}

export async function benchApiStream(log: Log): Promise<Figure[]> {
  const rig = await apiRig();
  try {
    // ---- one event at a time: durable → the SDK's iterator
    const { id } = rig.store.createSession({ title: 'bench stream' });
    const durableAt = new Map<string, number>();
    const notified: number[] = [];
    // Registered before the stream's own subscription: the store calls it first, right after the commit.
    const unsubscribe = rig.store.subscribe(id, (event) => {
      durableAt.set(externalId('event', event.id), performance.now());
    });
    const stream = await openStream(rig.client, id);
    const latencies: number[] = [];
    for (let index = 0; index < SINGLE_EVENTS; index++) {
      const before = performance.now();
      rig.store.emitEvent(id, { type: 'agent.message', payload: { content: [{ type: 'text', text: `event ${index}` }] } });
      const next = await stream.frames.next();
      const received = performance.now();
      if (next.done === true || !('id' in next.value) || typeof next.value.id !== 'string') throw new Error('the stream ended early');
      const durable = durableAt.get(next.value.id);
      if (durable === undefined) throw new Error('a frame for an event never appended');
      latencies.push(received - durable);
      notified.push(durable - before);
    }
    stream.close();
    unsubscribe();
    const single = { p50: p50(latencies), p95: p95(latencies) };
    log(`API stream: durable → SDK frame p50 ${single.p50.toFixed(3)} ms, p95 ${single.p95.toFixed(3)} ms over ${SINGLE_EVENTS} events`);

    // ---- 50 SDK clients, 50 sessions appending at once
    const sessions = Array.from({ length: CLIENTS }, (_, index) => rig.store.createSession({ title: `bench ${index}` }).id);
    const stamps = new Map<string, number>();
    const unsubscribes = sessions.map((session) =>
      rig.store.subscribe(session, (event) => {
        stamps.set(externalId('event', event.id), performance.now());
      }),
    );
    const clients = sessions.map(() => new Anthropic({ baseURL: rig.api.baseURL, apiKey: API_TOKEN, maxRetries: 0 }));
    const streams = await Promise.all(sessions.map((session, index) => openStream(clients[index] as Anthropic, session)));
    const expected = ROUNDS * BATCH;
    const loadLatencies: number[] = [];
    const readers = streams.map(async ({ frames }) => {
      for (let count = 0; count < expected; count++) {
        const next = await frames.next();
        const received = performance.now();
        if (next.done === true || !('id' in next.value) || typeof next.value.id !== 'string') throw new Error('a stream ended early');
        const stamp = stamps.get(next.value.id);
        if (stamp !== undefined) loadLatencies.push(received - stamp);
      }
    });
    const started = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      for (const session of sessions) {
        rig.store.emitEvents(
          session,
          Array.from({ length: BATCH }, (_, index) => ({
            type: 'agent.message' as const,
            payload: { content: [{ type: 'text' as const, text: `round ${round} event ${index}` }] },
          })),
        );
        // The writers share this process with the clients: let the frames out between batches.
        await nextMacrotask();
      }
    }
    await Promise.all(readers);
    const seconds = (performance.now() - started) / 1000;
    for (const { close } of streams) close();
    for (const each of unsubscribes) each();
    const total = CLIENTS * expected;
    const rate = total / seconds;
    const loadP95 = p95(loadLatencies);
    log(
      `API stream: ${CLIENTS} SDK clients × ${expected} events: ${Math.round(rate)} events/s, durable → frame p95 ${loadP95.toFixed(2)} ms`,
    );

    return [
      {
        name: 'API stream: event durable → SSE frame out of the SDK client, p50',
        value: single.p50,
        unit: 'ms',
        baseline: { name: 'appending the event durably (emitEvent → committed), p50', value: p50(notified) },
        ratio: single.p50 / Math.max(p50(notified), 1e-6),
        target: 'p50 ≤ 5 ms',
        pass: single.p50 <= 5,
      },
      { name: 'API stream: event durable → SSE frame out of the SDK client, p95', value: single.p95, unit: 'ms' },
      { name: `API stream: ${CLIENTS} SDK clients streaming ${CLIENTS} sessions at once, delivered`, value: rate, unit: 'events/s' },
      { name: `API stream: ${CLIENTS} SDK clients streaming at once, durable → frame p95`, value: loadP95, unit: 'ms' },
    ];
  } finally {
    await rig.close();
  }
}
