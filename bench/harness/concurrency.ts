/**
 * Harness benchmark 3: how a turn holds up with many sessions running at once, against a single
 * session running the same scripted turns.
 *
 * It must never reach the real API or the network, never change harness code paths to make a figure
 * look better, and never leave data behind: every store lives in a temp dir removed at the end.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Anthropic from '@anthropic-ai/sdk';
import type { NewEvent } from '#shared/events';
import { Harness } from '#services/harness/harness';
import { SessionStore } from '#services/session/store';
import { MathHand } from '#test/support/math-hand';
import { startModelServer, type MessagesRequestBody } from '#test/support/model-server';
import type { Figure } from '../session-store.ts';
import { KEY, type Log, p50, p95, ms, tempDir, newSession, turnReply, harnessTurn, rawTurn } from './common.ts';

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
      return {
        turnsPerSecond: (count * turnsEach) / (elapsed / 1000),
        latencies: results.flatMap((r) => r.latencies),
        script: results[0]?.script ?? [],
      };
    };
    /** `count` loops replaying the single session's turns with the raw SDK; with `durable`, its appends too. */
    const rawPhase = async (count: number, script: ScriptedTurn[], durable: boolean) => {
      const started = performance.now();
      await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const sessionId = durable ? newSession(replayStore, `replay ${i}`) : '';
          for (const turn of script)
            await rawTurn(raw, hand, turn.bodies, durable ? { store: replayStore, sessionId, appends: turn.appends } : undefined);
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
    log(
      `  concurrency: ${rounds} rounds of (1 session alone, ${sessions} sessions at once) × ${turnsEach} turns, SSE frames ${frameDelayMs} ms apart, one Harness`,
    );
    log(
      `  turn latency alone p50 ${ms(p50(single))} p95 ${ms(p95(single))}; ${sessions} at once p50 ${ms(p50(many))} p95 ${ms(p95(many))}`,
    );
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
