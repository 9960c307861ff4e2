/**
 * Harness benchmark 4: how quickly an interrupt lands, mid-stream and mid-tool, timed to the durable
 * session.status_idle, against the raw SDK abort and a direct hand call's abort.
 *
 * It must never reach the real API or the network, never change harness code paths to make a figure
 * look better, and never leave data behind: every store lives in a temp dir removed at the end.
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsStreaming } from '@anthropic-ai/sdk/resources/messages';
import type { LiveUpdate } from '#shared/harness';
import { Harness } from '#services/harness/harness';
import { SessionStore } from '#services/session/store';
import { MathHand } from '#test/support/math-hand';
import { startModelServer, type Reply } from '#test/support/model-server';
import type { Figure } from '../session-store.ts';
import { KEY, MODEL, type Log, p50, p95, ms, tempDir, newSession, watchTurn, released, WORDS } from './common.ts';

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
      if (result.reason !== 'interrupted' || interruptedAt === 0)
        throw new Error(`an interrupted ${kind} turn ended with "${result.reason}"`);
      await released(harness, sessionId);
      return result.at - interruptedAt;
    };

    /** Baselines: abort the raw SDK stream at its first text delta; abort the hand's wait directly. */
    const rawStreamAbort = async (): Promise<number> => {
      const controller = new AbortController();
      const body: MessageCreateParamsStreaming = {
        model: MODEL,
        max_tokens: 8192,
        stream: true,
        messages: [{ role: 'user', content: 'Tell me a long story.' }],
      };
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
    log(
      `  interrupts: ${samples} samples each after ${warmup} warm-up; interrupt() called from a fresh macrotask, timed to the durable session.status_idle (interrupted)`,
    );
    log(
      `  mid-stream (20 ms frames) p50 ${ms(p50(stream))} p95 ${ms(p95(stream))}; mid-tool (wait 10 s) p50 ${ms(p50(tool))} p95 ${ms(p95(tool))}`,
    );
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
      {
        name: `${name} p50`,
        value: p50(values),
        unit: 'ms',
        baseline: { name: `${baselineName} p50`, value: p50(baseline) },
        target: 'reported',
      },
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
