/**
 * A session log with threads, as the harness writes one (issue 21's event names): a coordinator
 * (the primary thread) starts two threads — `tester` and `builder` — each makes a model request,
 * uses a tool and reports back; the coordinator summarises. For tests of what READS threads (the
 * cockpit's fold, the API's threads endpoints, the e2e lanes), appended with real store writes.
 * Token counts differ per thread so per-thread cost can be told apart. Also the `math` hand attached
 * with a tool set to ask first, for the harness's thread tests of approvals.
 */
import type { NewEvent } from '#shared/events';
import { DockerHandConfigSchema } from '#shared/hands';

export const TESTER = 'sthr_tester0001';
export const BUILDER = 'sthr_builder001';
export const THREAD_MODEL = 'claude-sonnet-4-5';

function usage(input: number, output: number) {
  return { input_tokens: input, output_tokens: output, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
}

function request(thread: string | undefined, input: number, output: number, stop: string): NewEvent[] {
  const scope = thread === undefined ? {} : { session_thread_id: thread };
  return [
    { type: 'span.model_request_start', payload: { model: THREAD_MODEL, purpose: 'turn', ...scope } },
    {
      type: 'span.model_request_end',
      payload: {
        model: THREAD_MODEL,
        purpose: 'turn',
        usage: usage(input, output),
        stop_reason: stop,
        is_error: false,
        duration_ms: 40,
        ...scope,
      },
    },
  ];
}

const text = (value: string) => [{ type: 'text' as const, text: value }];

/** The coordinator's turn up to starting the threads (primary events only, then the two creations). */
export function coordinatorStart(): NewEvent[] {
  return [
    { type: 'user.message', payload: { content: text('Test and build the project, in parallel.') } },
    { type: 'session.status_running', payload: {} },
    ...request(undefined, 1000, 100, 'tool_use'),
    { type: 'agent.message', payload: { content: text('I will start a tester and a builder.') } },
    {
      type: 'session.thread_created',
      payload: {
        session_thread_id: TESTER,
        agent_name: 'tester',
        task: 'Run the tests and report.',
        hands: [{ hand: 'box', mode: 'shared' }],
      },
    },
    { type: 'session.thread_status_running', payload: { session_thread_id: TESTER } },
    {
      type: 'session.thread_created',
      payload: { session_thread_id: BUILDER, agent_name: 'builder', task: 'Build the project.', hands: [{ hand: 'box', mode: 'fresh' }] },
    },
    { type: 'session.thread_status_running', payload: { session_thread_id: BUILDER } },
  ];
}

/** One thread's turn: a request, a tool call and its result, a final message delivered to the primary. */
export function threadTurn(thread: string, name: string, input: number, output: number): NewEvent[] {
  const toolUseId = `toolu_${name}`;
  return [
    ...request(thread, input, output, 'tool_use'),
    {
      type: 'agent.tool_use',
      payload: {
        tool_use_id: toolUseId,
        name: 'box__bash',
        input: { command: `echo ${name}-ran` },
        hand_id: 'box',
        session_thread_id: thread,
      },
    },
    {
      type: 'agent.tool_result',
      payload: { tool_use_id: toolUseId, content: text(`${name}-ran`), is_error: false, session_thread_id: thread },
    },
    ...request(thread, input, output, 'end_turn'),
    { type: 'agent.message', payload: { content: text(`${name} is done: all good.`), session_thread_id: thread } },
    { type: 'session.thread_status_idle', payload: { session_thread_id: thread, stop_reason: { type: 'end_turn' } } },
    { type: 'agent.thread_message_sent', payload: { session_thread_id: thread, content: text(`${name} is done: all good.`) } },
    { type: 'agent.thread_message_received', payload: { from_thread_id: thread, content: text(`${name} is done: all good.`) } },
  ];
}

/** The coordinator's summary and the session's idle. */
export function coordinatorEnd(): NewEvent[] {
  return [
    ...request(undefined, 3000, 200, 'end_turn'),
    { type: 'agent.message', payload: { content: text('Both threads finished: tests pass and the build is green.') } },
    { type: 'session.thread_status_terminated', payload: { session_thread_id: TESTER, reason: 'ended by the coordinator' } },
    { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } },
  ];
}

/** The whole session: the coordinator starts both threads, they run interleaved, it summarises. */
export function threadSessionEvents(): NewEvent[] {
  const tester = units(threadTurn(TESTER, 'tester', 2000, 300));
  const builder = units(threadTurn(BUILDER, 'builder', 500, 50));
  const interleaved: NewEvent[] = [];
  for (let index = 0; index < Math.max(tester.length, builder.length); index++)
    interleaved.push(...(tester[index] ?? []), ...(builder[index] ?? []));
  return [...coordinatorStart(), ...interleaved, ...coordinatorEnd()];
}

/** Events one by one, except a message's sent/received pair, which is written together. */
function units(events: readonly NewEvent[]): NewEvent[][] {
  const out: NewEvent[][] = [];
  for (const event of events) {
    if (event.type === 'agent.thread_message_received') out.at(-1)?.push(event);
    else out.push([event]);
  }
  return out;
}

/** The in-process `math` hand attached as a Docker hand, so policies can name it (its tools run in the test). */
export function mathHandAttached(): NewEvent {
  return {
    type: 'hand.attached',
    payload: { hand_id: 'math', config: DockerHandConfigSchema.parse({ kind: 'docker', image: 'drover-test/busybox:1' }) },
  };
}

/** The `math` hand attached with `tool` set to ask before each run (a call of it waits for approval). */
export function askBeforeMath(tool: string): NewEvent[] {
  return [mathHandAttached(), { type: 'policy.set', payload: { hand: 'math', tool, policy: 'always_ask' } }];
}
