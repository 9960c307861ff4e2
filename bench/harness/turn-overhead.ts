/**
 * Harness benchmark 1: what the brain itself costs per plain turn (a tool round and a text reply),
 * against the raw SDK streaming the same requests from the same local model server and replaying
 * the same appends into a store no harness watches.
 *
 * It must never reach the real API or the network, never change harness code paths to make a figure
 * look better, and never leave data behind: every store lives in a temp dir removed at the end.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { Harness } from '#services/harness/harness';
import { SessionStore } from '#services/session/store';
import { MathHand } from '#test/support/math-hand';
import { startModelServer } from '#test/support/model-server';
import type { Figure } from '../session-store.ts';
import {
  KEY,
  type Log,
  p50,
  p95,
  ms,
  tempDir,
  newSession,
  turnReply,
  type TurnRecord,
  harnessTurn,
  type RawTurn,
  rawTurn,
} from './common.ts';

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
    log(
      `  harness turns: ${measured} turns (user → add tool_use → tool → text end_turn → idle) after ${warmup} warm-up, ${TURNS_PER_SESSION} turns per session`,
    );
    log(
      `  durable appends are included in the overhead: ${events} events in ${transactions} transactions per turn (SQLite WAL, synchronous=FULL: an fsync each)`,
    );
    log(`  the same appends made directly, within the raw turn: p50 ${ms(p50(appendMs))}, p95 ${ms(p95(appendMs))} per turn`);
    log(
      `  overhead p50 ${ms(p50(overhead))}, p95 ${ms(p95(overhead))}; turn wall p50 ${ms(p50(wall))} vs raw SDK + direct tool p50 ${ms(p50(rawWall))}`,
    );

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
