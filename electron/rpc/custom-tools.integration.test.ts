// Custom tools and system messages through the RPC a UI (or the Managed Agents API) uses: the host
// (dispatcher, handlers, harness) over a real store and the local Messages API server. A custom tool
// is offered to the model; its call waits (requires_action naming the call's event, shown in
// sessions-guardrails) and nothing is asked again until the program's result is recorded; the
// model then receives it. Bad input is refused with nothing recorded; an interrupt while a call
// waits cancels it; forks inherit the definitions; a system message reaches the model's system
// prompt for every later request.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EventOf, StoredEvent } from '#shared/events';
import type { GuardrailsView } from '#shared/guardrails';
import { SessionSummarySchema } from '#shared/sessions';
import { createHost, type Host } from '#rpc/host';
import { SessionStore } from '#services/session/store';
import { startModelServer, type ModelServer, type RecordedRequest, type Reply } from '#test/support/model-server';
import { tempDir } from '#test/support/system';

const API_KEY = 'sk-ant-test-custom-tools';

let dir: string;
let store: SessionStore;
let host: Host;
let model: ModelServer;
let script: Array<(request: RecordedRequest) => Reply> = [];

const done: Reply = { kind: 'message', message: { content: [{ type: 'text', text: 'Done.' }], stop_reason: 'end_turn' } };
const callTool = (name: string, input: Record<string, unknown>): Reply => ({
  kind: 'message',
  message: { content: [{ type: 'tool_use', name, input }], stop_reason: 'tool_use' },
});

const WEATHER = {
  name: 'get_weather',
  description: 'The weather in a city, from the program.',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

beforeAll(async () => {
  dir = tempDir('drover-custom-tools-rpc-');
  model = await startModelServer({ apiKey: API_KEY, respond: (request) => (script.shift() ?? (() => done))(request) });
  store = SessionStore.open({ dataDir: dir });
  host = createHost({
    store,
    info: { version: 'test', dataDir: dir, platform: process.platform },
    baseURL: model.url,
    keyProvider: () => API_KEY,
    push: () => undefined,
    log: () => undefined,
  });
}, 60_000);

beforeEach(() => {
  script = [];
});

afterAll(async () => {
  await host.close();
  store.close();
  await model.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call<T = unknown>(name: string, arg?: unknown): Promise<T> {
  const outcome = await host.dispatch(name, arg);
  if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
  return outcome.result as T;
}

/** The refusal's message, after checking the call recorded nothing (in `sessionId`'s log, or no new session). */
async function refused(sessionId: string | null, name: string, arg: unknown): Promise<string> {
  const before = sessionId === null ? store.listSessions().length : store.getEvents(sessionId).length;
  const outcome = await host.dispatch(name, arg);
  if (outcome.ok) throw new Error(`${name} was expected to be refused`);
  expect(sessionId === null ? store.listSessions().length : store.getEvents(sessionId).length).toBe(before);
  return outcome.error.message;
}

/** Resolves with the session's next idle (after `after` idles in its log). */
async function nextIdle(sessionId: string, after: number): Promise<EventOf<'session.status_idle'>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const idles = store.getEvents(sessionId, { types: ['session.status_idle'] });
    if (idles.length > after) return idles[after] as EventOf<'session.status_idle'>;
    if (Date.now() > deadline)
      throw new Error(`no idle: ${JSON.stringify(store.getEvents(sessionId, { direction: 'backward', limit: 6 }))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const ofType = <K extends StoredEvent['type']>(sessionId: string, type: K): Array<EventOf<K>> =>
  store.getEvents(sessionId, { types: [type] }) as Array<EventOf<K>>;

async function launchWaiting(title: string): Promise<{ id: string; use: EventOf<'agent.custom_tool_use'>; requests: number }> {
  const requests = model.requests.length;
  script = [() => callTool('get_weather', { city: 'Oslo' })];
  const { id } = SessionSummarySchema.parse(await call('sessions-launch', { title, custom_tools: [WEATHER], message: 'Weather in Oslo?' }));
  const stop = await nextIdle(id, 0);
  const [use] = ofType(id, 'agent.custom_tool_use');
  expect(use?.payload).toMatchObject({ name: 'get_weather', input: { city: 'Oslo' } });
  expect(stop.payload.stop_reason).toMatchObject({ type: 'requires_action', event_ids: [use!.id] });
  expect(stop.payload.stop_reason.message).toMatch(/get_weather.*waits for your program's result/);
  return { id, use: use!, requests };
}

/** The tool_result blocks of a request's last message. */
function toolResults(request: RecordedRequest | undefined): Array<Record<string, unknown>> {
  const last = request?.body.messages.at(-1);
  if (!last || typeof last.content === 'string') return [];
  return (last.content as Array<Record<string, unknown>>).filter((block) => block['type'] === 'tool_result');
}

describe('custom tools through the RPC', () => {
  it('a call waits for the program (requires_action, the guardrails view) without asking the model again; its answer reaches the model', async () => {
    const { id, use, requests } = await launchWaiting('weather');
    // The model was offered the tool as defined.
    const offered = model.requests[requests]?.body.tools as Array<Record<string, unknown>> | undefined;
    expect(offered).toEqual([
      expect.objectContaining({ name: 'get_weather', description: WEATHER.description, input_schema: WEATHER.input_schema }),
    ]);
    expect(model.requests).toHaveLength(requests + 1);

    const view = await call<GuardrailsView>('sessions-guardrails', { sessionId: id });
    expect(view.pending).toEqual([]);
    expect(view.custom_pending).toEqual([
      { event_id: use.id, seq: use.seq, tool_use_id: use.payload.tool_use_id, name: 'get_weather', input: { city: 'Oslo' } },
    ]);
    await host.harness.wake(id); // a wake finds it waiting: it asks nothing
    expect(model.requests).toHaveLength(requests + 1);

    const recorded = await call<StoredEvent[]>('sessions-custom-tool-result', {
      sessionId: id,
      results: [{ custom_tool_use_id: use.id, content: [{ type: 'text', text: 'Sunny, 21 °C' }] }],
    });
    expect(recorded).toEqual([
      expect.objectContaining({
        type: 'user.custom_tool_result',
        payload: { custom_tool_use_id: use.id, content: [{ type: 'text', text: 'Sunny, 21 °C' }], is_error: false },
      }),
    ]);
    const end = await nextIdle(id, 1);
    expect(end.payload.stop_reason.type).toBe('end_turn');
    expect(toolResults(model.requests[requests + 1])).toEqual([
      expect.objectContaining({
        type: 'tool_result',
        tool_use_id: use.payload.tool_use_id,
        content: [{ type: 'text', text: 'Sunny, 21 °C' }],
      }),
    ]);
    expect(toolResults(model.requests[requests + 1])[0]).not.toHaveProperty('is_error');
    expect((await call<GuardrailsView>('sessions-guardrails', { sessionId: id })).custom_pending).toEqual([]);
  });

  it('bad answers and bad definitions are refused in words, recording nothing', async () => {
    const { id, use } = await launchWaiting('refusals');
    expect(
      await refused(id, 'sessions-custom-tool-result', { sessionId: id, results: [{ custom_tool_use_id: 'nope', content: [] }] }),
    ).toMatch(/no custom tool call "nope"/);
    expect(
      await refused(id, 'sessions-custom-tool-result', {
        sessionId: id,
        results: [
          { custom_tool_use_id: use.id, content: [] },
          { custom_tool_use_id: use.payload.tool_use_id, content: [] },
        ],
      }),
    ).toMatch(/answered twice in this request/);
    expect(
      await refused(id, 'sessions-custom-tool-result', {
        sessionId: id,
        results: [{ custom_tool_use_id: use.id, content: [], extra: true }],
      }),
    ).toMatch(/extra/);
    expect(await refused(id, 'sessions-custom-tool-result', { sessionId: id, results: [] })).toMatch(/at least one/);

    // Answered (by its tool_use_id): a second answer is refused, naming the event that answered it.
    await call('sessions-custom-tool-result', {
      sessionId: id,
      results: [{ custom_tool_use_id: use.payload.tool_use_id, content: [{ type: 'text', text: 'rain' }], is_error: false }],
    });
    await nextIdle(id, 1);
    expect(
      await refused(id, 'sessions-custom-tool-result', { sessionId: id, results: [{ custom_tool_use_id: use.id, content: [] }] }),
    ).toMatch(/already has its result/);

    const bad = [
      [{ ...WEATHER, name: 'box__bash' }, /may not contain "__"/],
      [{ ...WEATHER, name: 'has space' }, /letters, digits, underscores and hyphens/],
      [{ ...WEATHER, input_schema: { type: 'string' } }, /JSON schema of an object/],
      [{ ...WEATHER, type: 'custom' }, /type/],
    ] as const;
    for (const [tool, message] of bad)
      expect(await refused(id, 'sessions-set-custom-tools', { sessionId: id, tools: [tool] })).toMatch(message);
    expect(await refused(id, 'sessions-set-custom-tools', { sessionId: id, tools: [WEATHER, WEATHER] })).toMatch(/same name/);
    expect(await refused(null, 'sessions-launch', { title: 'twice', custom_tools: [WEATHER, WEATHER], message: 'hi' })).toMatch(
      /same name/,
    );
    expect(await refused(id, 'sessions-system-message', { sessionId: id, text: '   ' })).toMatch(/empty/);
  });

  it('an interrupt while a call waits cancels it: the session stops, a late answer is refused, the model is told', async () => {
    const { id, use, requests } = await launchWaiting('interrupt');
    await call('sessions-interrupt', { sessionId: id });
    const stop = await nextIdle(id, 1);
    expect(stop.payload.stop_reason.type).toBe('interrupted');
    const [cancel] = ofType(id, 'user.custom_tool_result');
    expect(cancel?.payload).toMatchObject({ custom_tool_use_id: use.id, is_error: true });
    expect(JSON.stringify(cancel?.payload.content)).toMatch(/Cancelled: the user interrupted/);
    expect(model.requests).toHaveLength(requests + 1);
    expect(
      await refused(id, 'sessions-custom-tool-result', { sessionId: id, results: [{ custom_tool_use_id: use.id, content: [] }] }),
    ).toMatch(/already has its result/);

    await call('sessions-send', { sessionId: id, text: 'Never mind.' });
    await nextIdle(id, 2);
    const [result] = toolResults(model.requests[requests + 1]);
    expect(result).toMatchObject({ tool_use_id: use.payload.tool_use_id, is_error: true });
  });

  it('a fork inherits the definitions; a new set replaces them from the next request', async () => {
    const { id, use } = await launchWaiting('fork');
    await call('sessions-custom-tool-result', {
      sessionId: id,
      results: [{ custom_tool_use_id: use.id, content: [{ type: 'text', text: 'ok' }] }],
    });
    await nextIdle(id, 1);
    const fork = SessionSummarySchema.parse(await call('sessions-fork', { sessionId: id, atSeq: store.getEvents(id).length }));
    const before = model.requests.length;
    await call('sessions-send', { sessionId: fork.id, text: 'And in Bergen?' });
    await nextIdle(fork.id, 2);
    expect((model.requests[before]?.body.tools as Array<{ name: string }>).map((tool) => tool.name)).toEqual(['get_weather']);

    const replaced = { ...WEATHER, name: 'get_forecast' };
    expect(await call('sessions-set-custom-tools', { sessionId: fork.id, tools: [replaced] })).toEqual([replaced]);
    await call('sessions-send', { sessionId: fork.id, text: 'Tomorrow?' });
    await nextIdle(fork.id, 3);
    expect((model.requests[before + 1]?.body.tools as Array<{ name: string }>).map((tool) => tool.name)).toEqual(['get_forecast']);
    // The parent keeps its own.
    expect(ofType(id, 'session.custom_tools_set').map((event) => event.payload.tools.map((tool) => tool.name))).toEqual([['get_weather']]);
  });

  it('a system message reaches the model after the session’s system prompt, in this request and every later one', async () => {
    const { id } = SessionSummarySchema.parse(await call('sessions-launch', { title: 'system', settings: { system: 'You are terse.' } }));
    const event = await call<StoredEvent>('sessions-system-message', { sessionId: id, text: 'The user is a pilot; use aviation units.' });
    expect(event).toMatchObject({
      type: 'system.message',
      payload: { content: [{ type: 'text', text: 'The user is a pilot; use aviation units.' }] },
    });
    expect(store.getEvents(id, { types: ['session.status_running'] })).toEqual([]); // it does not wake the session
    const before = model.requests.length;
    await call('sessions-send', { sessionId: id, text: 'How high is the cloud base?' });
    await nextIdle(id, 0);
    await call('sessions-send', { sessionId: id, text: 'And the wind?' });
    await nextIdle(id, 1);
    for (const request of model.requests.slice(before, before + 2)) {
      const system = request.body.system as Array<{ text: string }>;
      expect(system.map((block) => block.text)).toEqual(['You are terse.', 'The user is a pilot; use aviation units.']);
      // Not part of the conversation: the messages are the user's and Claude's only.
      expect(JSON.stringify(request.body.messages)).not.toContain('aviation units');
    }
  });
});
