// Custom tools through the real harness, the real SDK and the local Messages API server: several
// custom calls in one response mixed with a hand tool (which runs at once) and with a call that asks
// for approval; answers in any order (each partial answer records the idle again with the rest, and
// the model is asked nothing until the last); a message sent instead of answering; a custom tool
// that takes a hand tool's name; a log cut between the response and its idle (a crash there) that a
// fresh wake ends with requires_action without asking the model again; and definitions and system
// messages that outlive a compaction. The answers go through the checks the RPC uses
// (customResultEvents against the log's waiting calls, recorded in one commit).
import { afterEach, describe, expect, it } from 'vitest';
import type { CustomTool, EventOf, NewEvent } from '#shared/events';
import { DockerHandConfigSchema } from '#shared/hands';
import type { LiveUpdate } from '#shared/harness';
import { buildContext } from './context.ts';
import { customResultEvents } from './custom-tools.ts';
import { foldLog, guardrailsOfSession } from './fold-log.ts';
import { DEFAULT_SETTINGS } from './models.ts';
import { cleanUpRigs, events, ofType, rig, script, text, waitFor, type Rig } from '#test/support/harness-rig';
import type { RecordedRequest, ScriptedMessage } from '#test/support/model-server';

afterEach(cleanUpRigs);

const LOOKUP: CustomTool = {
  name: 'lookup',
  description: 'Looks a word up in the program’s dictionary.',
  input_schema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
};
const defineTools = (r: Rig, tools: CustomTool[] = [LOOKUP]) =>
  r.store.emitEvent(r.sessionId, { type: 'session.custom_tools_set', payload: { tools } });

function calls(...uses: Array<[string, Record<string, unknown>]>): ScriptedMessage {
  return { content: uses.map(([name, input]) => ({ type: 'tool_use' as const, name, input })), stop_reason: 'tool_use' };
}

const waiting = (r: Rig, after = 0) =>
  waitFor(r, 'session.status_idle', (e) => e.seq > after && e.payload.stop_reason.type === 'requires_action');
const ended = (r: Rig, after = 0) => waitFor(r, 'session.status_idle', (e) => e.seq > after && e.payload.stop_reason.type === 'end_turn');

/** Answers calls as the RPC does (checked against the waiting calls, one commit): the harness wakes on them. */
function answer(r: Rig, ...results: Array<[EventOf<'agent.custom_tool_use'>, string]>) {
  const answers = results.map(([use, value]) => ({
    custom_tool_use_id: use.id,
    content: [{ type: 'text' as const, text: value }],
    is_error: false,
  }));
  return r.store.emitEvents(r.sessionId, customResultEvents(guardrailsOfSession(r.store, r.sessionId).customCalls, answers));
}

/** The tool_result blocks of a request's last message, in order: [tool_use_id, text, is_error]. */
function resultsOf(request: RecordedRequest | undefined): Array<[string, string, boolean]> {
  const last = request?.body.messages.at(-1);
  if (!last || typeof last.content === 'string') return [];
  return (last.content as Array<Record<string, unknown>>)
    .filter((block) => block['type'] === 'tool_result')
    .map((block) => [block['tool_use_id'] as string, JSON.stringify(block['content']), block['is_error'] === true]);
}

describe('custom tools in the harness', () => {
  it('two custom calls and a hand tool in one response: the hand tool runs, the calls wait; answered in reverse order, the model gets all three', async () => {
    const r = await rig(script(calls(['lookup', { q: 'first' }], ['add', { a: 1, b: 2 }], ['lookup', { q: 'second' }]), text('Done.')));
    defineTools(r);
    r.harness.send(r.sessionId, 'look both up and add');
    const first = await waiting(r);
    const [a, b] = ofType(r, 'agent.custom_tool_use');
    const [add] = ofType(r, 'agent.tool_use');
    expect(first.payload.stop_reason).toMatchObject({ type: 'requires_action', event_ids: [a?.id, b?.id] });
    expect(r.hand.runs.map((run) => run.name)).toEqual(['add']);
    // The model was offered the hand's tools and the custom tool.
    expect((r.server.requests[0]?.body.tools as Array<{ name: string }>).map((tool) => tool.name)).toEqual([
      'add',
      'multiply',
      'wait',
      'lookup',
    ]);

    await answer(r, [b!, 'B-result']);
    const second = await waiting(r, first.seq);
    expect(second.payload.stop_reason).toMatchObject({ type: 'requires_action', event_ids: [a?.id] });
    expect(r.server.requests).toHaveLength(1); // nothing is asked until every call is answered

    await answer(r, [a!, 'A-result']);
    await ended(r);
    const results = resultsOf(r.server.requests[1]);
    // In the order of the tool uses, whatever the order of the answers.
    expect(results.map(([id]) => id)).toEqual([a?.payload.tool_use_id, add?.payload.tool_use_id, b?.payload.tool_use_id]);
    expect(results[0]?.[1]).toContain('A-result');
    expect(results[1]?.[1]).toContain('3');
    expect(results[2]?.[1]).toContain('B-result');
    await r.harness.wake(r.sessionId);
    expect(r.server.requests).toHaveLength(2);
    expect(r.hand.runs).toHaveLength(1);
  });

  it('mixed with a call that asks for approval: one idle names both; the answer and the approval, in either order, continue the turn', async () => {
    const r = await rig(script(calls(['multiply', { a: 3, b: 4 }], ['lookup', { q: 'x' }]), text('Done.')));
    r.store.emitEvents(r.sessionId, [
      {
        type: 'hand.attached',
        payload: { hand_id: 'math', config: DockerHandConfigSchema.parse({ kind: 'docker', image: 'drover-test/busybox:1' }) },
      },
      { type: 'policy.set', payload: { hand: 'math', tool: null, policy: 'always_ask' } },
    ]);
    defineTools(r);
    r.harness.send(r.sessionId, 'multiply and look up');
    const first = await waiting(r);
    const [multiply] = ofType(r, 'agent.tool_use');
    const [lookup] = ofType(r, 'agent.custom_tool_use');
    expect(first.payload.stop_reason).toMatchObject({ event_ids: [multiply?.id, lookup?.id] });
    expect(first.payload.stop_reason.message).toBe(
      "A tool call waits for your approval. A custom tool call (lookup) waits for your program's result.",
    );

    await answer(r, [lookup!, 'found']);
    const second = await waiting(r, first.seq);
    expect(second.payload.stop_reason).toMatchObject({ event_ids: [multiply?.id], message: 'A tool call waits for your approval.' });
    expect(r.hand.runs).toEqual([]);
    r.store.emitEvent(r.sessionId, {
      type: 'user.tool_confirmation',
      payload: { tool_use_id: multiply!.payload.tool_use_id, result: 'allow' },
    });
    await ended(r);
    expect(r.hand.runs.map((run) => run.name)).toEqual(['multiply']);
    expect(resultsOf(r.server.requests[1]).map(([id, value]) => [id, value.includes('12') || value.includes('found')])).toEqual([
      [multiply?.payload.tool_use_id, true],
      [lookup?.payload.tool_use_id, true],
    ]);
  });

  it('a message sent instead of an answer cancels the waiting call; the model reads both', async () => {
    const r = await rig(script(calls(['lookup', { q: 'x' }]), text('Understood.')));
    defineTools(r);
    r.harness.send(r.sessionId, 'look it up');
    const first = await waiting(r);
    r.harness.send(r.sessionId, 'Forget it, no lookup.');
    await ended(r, first.seq);
    const [use] = ofType(r, 'agent.custom_tool_use');
    const [cancel] = ofType(r, 'user.custom_tool_result');
    expect(cancel?.payload).toMatchObject({ custom_tool_use_id: use?.id, is_error: true });
    const last = r.server.requests[1]?.body.messages.at(-1);
    expect(JSON.stringify(last?.content)).toContain('Forget it, no lookup.');
    expect(resultsOf(r.server.requests[1])).toEqual([[use?.payload.tool_use_id, expect.stringContaining('new message'), true]]);
  });

  it('a response cut by an interrupt after a custom call: Drover answers the call itself, so the model later reads a whole conversation', async () => {
    const r = await rig(
      script(
        {
          kind: 'message',
          message: {
            content: [
              { type: 'tool_use', name: 'lookup', input: { q: 'x' } },
              { type: 'text', text: 'and then '.repeat(300) },
            ],
            stop_reason: 'tool_use',
          },
          frameDelayMs: 10,
        },
        text('Stopped, as you asked.'),
      ),
    );
    defineTools(r);
    const textStarted = new Promise<void>((resolve) => {
      const original = r.live.push.bind(r.live);
      r.live.push = (...updates: LiveUpdate[]) => {
        if (updates.some((update) => update.type === 'block_start' && update.block === 'text')) resolve();
        return original(...updates);
      };
    });
    r.harness.send(r.sessionId, 'look it up');
    await textStarted;
    r.harness.interrupt(r.sessionId);
    const stop = await waitFor(r, 'session.status_idle');
    expect(stop.payload.stop_reason.type).toBe('interrupted');
    const [use] = ofType(r, 'agent.custom_tool_use');
    const [cancel] = ofType(r, 'user.custom_tool_result');
    expect(cancel?.payload).toMatchObject({ custom_tool_use_id: use?.id, is_error: true });
    expect(JSON.stringify(cancel?.payload.content)).toContain('interrupted the response');
    expect(cancel!.seq).toBeLessThan(stop.seq);

    r.harness.send(r.sessionId, 'ok, go on');
    await ended(r, stop.seq);
    expect(resultsOf(r.server.requests[1])).toEqual([[use?.payload.tool_use_id, expect.stringContaining('interrupted'), true]]);
  });

  it('a custom tool with a hand tool’s name stops the turn in words before any request', async () => {
    const r = await rig(script(text('never')));
    defineTools(r, [{ ...LOOKUP, name: 'add' }]);
    r.harness.send(r.sessionId, 'add');
    const stop = await waitFor(r, 'session.status_idle');
    expect(stop.payload.stop_reason).toMatchObject({
      type: 'error',
      message: expect.stringMatching(/custom tool "add" has the name of a tool of the hand math/),
    });
    expect(r.server.requests).toHaveLength(0);
  });

  it('a log cut between the response and its idle (a crash there): a fresh wake records requires_action and asks nothing', async () => {
    const r = await rig(script(text('after the answer')));
    defineTools(r);
    const usage = { input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
    const stored = r.store.emitEvents(r.sessionId, [
      { type: 'user.message', payload: { content: [{ type: 'text', text: 'look it up' }] } },
      { type: 'session.status_running', payload: {} },
      { type: 'span.model_request_start', payload: { model: DEFAULT_SETTINGS.model, purpose: 'turn' } },
      { type: 'agent.custom_tool_use', payload: { tool_use_id: 'toolu_cut', name: 'lookup', input: { q: 'x' } } },
      {
        type: 'span.model_request_end',
        payload: { model: DEFAULT_SETTINGS.model, purpose: 'turn', usage, stop_reason: 'tool_use', is_error: false, duration_ms: 5 },
      },
    ] satisfies NewEvent[]);
    const use = stored.find((event) => event.type === 'agent.custom_tool_use') as EventOf<'agent.custom_tool_use'>;
    expect(r.harness.resumeInterrupted()).toEqual([r.sessionId]);
    const stop = await waiting(r);
    expect(stop.payload.stop_reason).toMatchObject({ event_ids: [use.id] });
    await r.harness.wake(r.sessionId);
    expect(r.server.requests).toHaveLength(0);
    await answer(r, [use, 'late but fine']);
    await ended(r);
    expect(resultsOf(r.server.requests[0])).toEqual([['toolu_cut', expect.stringContaining('late but fine'), false]]);
  });

  it('definitions and system messages outlive a compaction: the fold still offers them and the system prompt still has them', async () => {
    const r = await rig(script());
    defineTools(r);
    r.store.emitEvents(r.sessionId, [
      { type: 'system.message', payload: { content: [{ type: 'text', text: 'Answer in French.' }] } },
      { type: 'user.message', payload: { content: [{ type: 'text', text: 'hello' }] } },
    ]);
    const through = events(r).at(-1)!.seq;
    r.store.emitEvent(r.sessionId, {
      type: 'agent.thread_context_compacted',
      payload: { summary: 'They said hello.', through_seq: through },
    });
    const { events: view, state } = foldLog(r.store, r.sessionId);
    expect(state.customTools).toEqual([LOOKUP]);
    const context = buildContext({ events: view, settings: { ...DEFAULT_SETTINGS, system: 'Be brief.' }, tools: [], budget: 100_000 });
    expect((context.params.system as Array<{ text: string }> | undefined)?.map((block) => block.text)).toEqual([
      'Be brief.',
      'Answer in French.',
    ]);
    expect(JSON.stringify(context.params.messages)).toContain('They said hello.');
    expect(JSON.stringify(context.params.messages)).not.toContain('Answer in French.');
  });
});
