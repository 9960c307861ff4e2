/**
 * The threads bench's model, run in a child process (bench/threads.ts): the local Messages API
 * server answering each request after MODEL_DELAY_MS. The real API runs elsewhere, so its parsing
 * and framing must not take the harness's event loop — in the bench's own process they did
 * (≈ 1.4 ms of CPU a request, ten requests arriving together). Prints `listening <url>`; runs until
 * killed. Usage: `model.ts <threads> <turns per worker>`.
 */
import { startModelServer, type RecordedRequest, type Reply } from '#test/support/model-server';

export const MODEL_DELAY_MS = 50;

const toolResults = (request: RecordedRequest): number => JSON.stringify(request.body.messages).split('"tool_result"').length - 1;
const reply = (content: Extract<Reply, { kind: 'message' }>['message']['content'], stop: 'tool_use' | 'end_turn'): Reply => ({
  kind: 'message',
  message: { content, stop_reason: stop },
});

/** The coordinator starts `threads` workers and waits; each worker (and the single agent) makes `turns` add calls, then answers. */
function script(threads: number, turnsPerWorker: number) {
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
      const starts = Array.from({ length: threads }, (_, i) => ({
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

if (process.argv[1]?.endsWith('model.ts')) {
  const [threads, turns] = process.argv.slice(2).map(Number);
  if (!Number.isInteger(threads) || !Number.isInteger(turns)) {
    console.error('usage: model.ts <threads> <turns per worker>');
    process.exit(2);
  }
  const server = await startModelServer({ respond: script(threads as number, turns as number) });
  console.log(`listening ${server.url}`);
}
