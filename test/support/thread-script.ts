/**
 * The threads tests' model (issue 21), for the local Messages API server: a coordinator that starts
 * two roster agents in parallel (`adder`: one `add` call; `waiter`: one `wait` call), waits until
 * both replied (or every thread is idle), and summarises. Each request is answered from what it
 * holds alone — its system prompt says whose it is — so the script works across crashes and for
 * every thread at once. Tool inputs carry a `marker` (the tool use id) for MathHand's journal.
 */
import type { Roster } from '#shared/threads';
import type { RecordedRequest, Reply } from '#test/support/model-server';

export const COORDINATOR = 'You coordinate.';

export const ROSTER: Roster = {
  agents: [
    { name: 'adder', system: 'You add.', tools: ['add'] },
    { name: 'waiter', system: 'You wait.', model: 'claude-haiku-4-5' },
  ],
  self_copies: false,
};

export const systemOf = (request: RecordedRequest): string => JSON.stringify(request.body.system ?? '');
export const bodyText = (request: RecordedRequest): string => JSON.stringify(request.body.messages);
const hasResult = (request: RecordedRequest): boolean => bodyText(request).includes('"tool_result"');

export const toolUse = (id: string, name: string, input: Record<string, unknown>) => ({ type: 'tool_use' as const, id, name, input });
export const say = (text: string): Reply => ({ kind: 'message', message: { content: [{ type: 'text', text }], stop_reason: 'end_turn' } });
export const use = (...blocks: ReturnType<typeof toolUse>[]): Reply => ({
  kind: 'message',
  message: { content: blocks, stop_reason: 'tool_use' },
});

/** The coordinator and its two threads; the waiter waits `waitMs`. */
export function coordinatorScript(waitMs: number): (request: RecordedRequest) => Reply {
  return (request) => {
    const system = systemOf(request);
    const body = bodyText(request);
    if (system.includes('You add.'))
      return hasResult(request) ? say('The sum is 5.') : use(toolUse('toolu_add', 'add', { a: 2, b: 3, marker: 'toolu_add' }));
    if (system.includes('You wait.'))
      return hasResult(request) ? say('Done waiting.') : use(toolUse('toolu_wait', 'wait', { ms: waitMs, marker: 'toolu_wait' }));
    if (!hasResult(request)) {
      return use(
        toolUse('toolu_s1', 'thread_start', { agent: 'adder', task: 'Add 2 and 3.', hands: [{ hand: 'math', mode: 'shared' }] }),
        toolUse('toolu_s2', 'thread_start', { agent: 'waiter', task: `Wait ${waitMs} ms.`, hands: [{ hand: 'math', mode: 'shared' }] }),
      );
    }
    const replies = body.match(/Message from thread/g)?.length ?? 0;
    if (replies >= 2 || body.includes('every thread is idle or ended')) return say('Summary: the sum is 5 and the wait is done.');
    return use(toolUse(`toolu_w${replies}_${request.body.messages.length}`, 'thread_wait', {}));
  };
}
