/**
 * Harness benchmark 5: how quickly an approved tool starts — from the `user.tool_confirmation`
 * being stored (its durable commit, seen by a store listener) to the hand's `execute` starting,
 * through the real path: the harness wakes on the answer, carries on the fold its last wake of the
 * session kept (session state and guardrails) with the events since, records the tool's durable
 * `span.tool_run_start`, then runs it. Measured in a session whose log grows turn by turn (each
 * sample is a fresh ask in the same session) and in one with 10k events of history, against the
 * floor any approval must pay: one durable append followed by a direct hand call.
 *
 * It must never reach the real API or the network, never change harness code paths to make a figure
 * look better, and never leave data behind: every store lives in a temp dir removed at the end.
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DockerHandConfigSchema } from '#shared/hands';
import { pendingApprovals } from '#services/harness/approvals';
import { guardrailsOfSession } from '#services/harness/fold-log';
import { Harness } from '#services/harness/harness';
import { SessionStore } from '#services/session/store';
import { MathHand } from '#test/support/math-hand';
import { startModelServer } from '#test/support/model-server';
import type { Figure } from '../session-store.ts';
import { KEY, type Log, p50, p95, ms, tempDir, newSession, turnReply, watchTurn, released } from './common.ts';

// ------------------------------------------------------------------ 5. approval → tool start

export async function benchApprovals(log: Log): Promise<Figure[]> {
  const dir = tempDir('approvals');
  const server = await startModelServer({ respond: (request) => turnReply(request.body, 0) });
  const store = SessionStore.open({ dataDir: dir });
  let onToolStart: (() => void) | undefined;
  const hand = new MathHand({ onStart: () => onToolStart?.() });
  const harness = new Harness({ store, keyProvider: () => KEY, baseURL: server.url, handsFor: () => [hand] });
  try {
    /** A session whose hand is attached in the log as a Docker hand the user set to ask for everything; `history` events of earlier text before it. */
    const askingSession = (title: string, history: number): string => {
      const id = newSession(store, title);
      for (let done = 0; done < history; done += 1000) {
        const batch = Array.from({ length: Math.min(1000, history - done) }, (_, i) => ({
          type: 'agent.message' as const,
          payload: { content: [{ type: 'text' as const, text: `earlier answer ${done + i}: the sum is ${done + i}.` }] },
        }));
        store.emitEvents(id, batch);
      }
      store.emitEvents(id, [
        {
          type: 'hand.attached',
          payload: { hand_id: 'math', config: DockerHandConfigSchema.parse({ kind: 'docker', image: 'drover-bench/none:1' }) },
        },
        { type: 'policy.set', payload: { hand: 'math', tool: null, policy: 'always_ask' } },
      ]);
      return id;
    };

    /** One ask in `sessionId`, answered: stored confirmation → tool start (ms). */
    const approve = async (sessionId: string): Promise<number> => {
      const asked = watchTurn(store, sessionId);
      harness.send(sessionId, 'Add 2 and 3, please.');
      const stop = await asked;
      if (stop.reason !== 'requires_action') throw new Error(`the ask ended with "${stop.reason}", not requires_action`);
      await released(harness, sessionId);
      const [waiting] = pendingApprovals(guardrailsOfSession(store, sessionId));
      if (waiting === undefined) throw new Error('nothing waits for approval');
      let storedAt = 0;
      let startedAt = 0;
      const started = new Promise<void>((resolve) => {
        onToolStart = () => {
          startedAt = performance.now();
          resolve();
        };
      });
      const stopListening = store.subscribe(sessionId, (event) => {
        if (event.type === 'user.tool_confirmation' && storedAt === 0) storedAt = performance.now();
      });
      const ended = watchTurn(store, sessionId);
      store.emitEvent(sessionId, {
        type: 'user.tool_confirmation',
        payload: { tool_use_id: waiting.event.payload.tool_use_id, result: 'allow' },
      });
      await started;
      stopListening();
      onToolStart = undefined;
      const end = await ended;
      if (end.reason !== 'end_turn') throw new Error(`the approved turn ended with "${end.reason}"`);
      await released(harness, sessionId);
      return startedAt - storedAt;
    };

    /** The floor: one durable append (an event like the run-start span), then a direct hand call. */
    const baseline = async (): Promise<number> => {
      const floor = newSession(store, 'floor');
      let startedAt = 0;
      onToolStart = () => (startedAt = performance.now());
      const from = performance.now();
      store.emitEvent(floor, { type: 'span.tool_run_start', payload: { tool_use_id: 'toolu_floor' } });
      await hand.execute('add', { a: 2, b: 3 }, { signal: new AbortController().signal });
      onToolStart = undefined;
      return startedAt - from;
    };

    const warmup = 3;
    const samples = 40;
    const sessionId = askingSession('approvals', 0);
    const values: number[] = [];
    const floors: number[] = [];
    for (let i = 0; i < warmup + samples; i++) {
      const value = await approve(sessionId);
      const floor = await baseline();
      if (i < warmup) continue;
      values.push(value);
      floors.push(floor);
    }
    // The same figure in a session with 10k events of history (a wake does not fold it all again).
    const longSession = askingSession('approvals, long', 10_000);
    const long: number[] = [];
    for (let i = 0; i < warmup + 15; i++) {
      const value = await approve(longSession);
      if (i >= warmup) long.push(value);
    }
    const events = store.getEvents(sessionId, { direction: 'backward', limit: 1 })[0]?.seq ?? 0;
    log(
      `  approvals: ${samples} samples after ${warmup} warm-up, in one session (its log grew to ${events} events); timed from the confirmation's durable commit to the hand's execute`,
    );
    log(
      `  approval → tool start p50 ${ms(p50(values))} p95 ${ms(p95(values))}; baseline (durable append + direct hand call) p50 ${ms(p50(floors))}`,
    );
    log(
      `  in a session with 10k events of history: p50 ${ms(p50(long))} p95 ${ms(p95(long))} (a new process's first wake folds it all: see the wake figure)`,
    );
    return [
      {
        name: 'approval stored → tool starts p50',
        value: p50(values),
        unit: 'ms',
        baseline: { name: 'durable append + direct hand call p50', value: p50(floors) },
        ratio: p50(values) / p50(floors),
        target: '≤ 5 ms p50',
        pass: p50(values) <= 5,
      },
      {
        name: 'approval stored → tool starts p95',
        value: p95(values),
        unit: 'ms',
        baseline: { name: 'durable append + direct hand call p95', value: p95(floors) },
        target: 'reported',
      },
      {
        name: 'approval stored → tool starts p50, 10k-event session',
        value: p50(long),
        unit: 'ms',
        baseline: { name: 'the same in a short session p50', value: p50(values) },
        target: 'reported',
      },
    ];
  } finally {
    await harness.close();
    store.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
