// Proves the model server is a faithful stand-in for the Messages API: the real SDK, pointed at
// it, streams, accumulates, paginates and fails the way it does against the real service.
import Anthropic from '@anthropic-ai/sdk';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import {
  startModelServer,
  type ModelServer,
  type ModelServerOptions,
  type Reply,
  type ScriptedBlock,
  type ScriptedMessage,
} from './model-server.ts';

// Not claude-sonnet-4-5: the SDK warns on every request naming a deprecated model.
const MODEL = 'claude-haiku-4-5';
const servers: ModelServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(
  respond: ModelServerOptions['respond'] | Reply,
  extra: Omit<ModelServerOptions, 'respond'> & { clientKey?: string } = {},
): Promise<{ server: ModelServer; client: Anthropic }> {
  const server = await startModelServer({ ...extra, respond: typeof respond === 'function' ? respond : () => respond });
  servers.push(server);
  const client = new Anthropic({ apiKey: extra.clientKey ?? extra.apiKey ?? 'test-key', baseURL: server.url, maxRetries: 0 });
  return { server, client };
}

function say(content: ScriptedBlock[], stop_reason: ScriptedMessage['stop_reason'] = 'end_turn'): Reply {
  return { kind: 'message', message: { content, stop_reason } };
}

function ask(overrides: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}): Anthropic.MessageCreateParamsNonStreaming {
  return { model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: 'Hello' }], ...overrides };
}

/** Sends a body the SDK's types would refuse, so the server's own validation is what answers. */
function askRaw(body: Record<string, unknown>): Anthropic.MessageCreateParamsNonStreaming {
  return body as unknown as Anthropic.MessageCreateParamsNonStreaming;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/** A request made by hand, for what the SDK will not send (bad JSON, missing headers). */
async function fetchRaw(
  url: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(url, {
    method: init.method ?? 'POST',
    headers: init.headers ?? { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function text(socket: Socket): Promise<string> {
  let all = '';
  for await (const chunk of socket) all += String(chunk);
  return all;
}

function sseFrames(text: string): { event: string; data: Record<string, unknown> }[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim() !== '')
    .map((frame) => {
      const [eventLine, dataLine, ...rest] = frame.split('\n');
      expect(rest).toEqual([]);
      expect(eventLine).toMatch(/^event: \w+$/);
      expect(dataLine).toMatch(/^data: /);
      return { event: eventLine!.slice('event: '.length), data: JSON.parse(dataLine!.slice('data: '.length)) };
    });
}

const SENTENCE = 'The quick brown fox jumps over the lazy dog, then naps in the warm afternoon sun for a while.';

describe('streaming', () => {
  it('streams text in several deltas and the final message equals the script', async () => {
    const { server, client } = await serve(say([{ type: 'text', text: SENTENCE }]));
    const before = performance.now();
    const stream = client.messages.stream(ask());
    const deltas: string[] = [];
    stream.on('text', (delta) => deltas.push(delta));
    const final = await stream.finalMessage();

    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(SENTENCE);
    expect(final.content).toEqual([{ type: 'text', text: SENTENCE }]);
    expect(final).toMatchObject({ type: 'message', role: 'assistant', model: MODEL, stop_reason: 'end_turn', stop_sequence: null });
    expect(final.id).toMatch(/^msg_01\w{22}$/);
    expect(stream.request_id).toMatch(/^req_/);

    expect(server.requests).toHaveLength(1);
    const [recorded] = server.requests;
    expect(recorded?.index).toBe(0);
    expect(recorded?.body).toMatchObject({ model: MODEL, max_tokens: 1024, stream: true, messages: [{ role: 'user', content: 'Hello' }] });
    expect(recorded?.headers['anthropic-version']).toBeTruthy();
    expect(recorded?.receivedAt).toBeGreaterThanOrEqual(before);
    expect(recorded?.receivedAt).toBeLessThanOrEqual(performance.now());
  });

  it('sends every frame with an event line, in the order the real API does', async () => {
    const { server } = await serve(
      say(
        [
          { type: 'thinking', thinking: 'Let me think about the weather in Paris today.', signature: 'sig-1' },
          { type: 'text', text: 'Checking now.' },
          { type: 'tool_use', name: 'get_weather', input: { city: 'Paris', units: 'celsius' } },
        ],
        'tool_use',
      ),
    );
    const response = await fetchRaw(`${server.url}/v1/messages`, {
      body: JSON.stringify({ ...ask(), stream: true }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const frames = sseFrames(response.text);
    for (const frame of frames) expect(frame.data['type']).toBe(frame.event);

    const collapsed = frames.map((f) => f.event).filter((event, i, all) => event !== all[i - 1]);
    expect(collapsed).toEqual([
      'message_start',
      'ping',
      ...['content_block_start', 'content_block_delta', 'content_block_stop'],
      ...['content_block_start', 'content_block_delta', 'content_block_stop'],
      ...['content_block_start', 'content_block_delta', 'content_block_stop'],
      'message_delta',
      'message_stop',
    ]);
    expect(frames[0]?.data['message']).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    });

    const starts = frames.filter((f) => f.event === 'content_block_start').map((f) => f.data['content_block']);
    expect(starts[0]).toEqual({ type: 'thinking', thinking: '', signature: '' });
    expect(starts[1]).toEqual({ type: 'text', text: '' });
    expect(starts[2]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: {} });

    const deltas = frames.filter((f) => f.event === 'content_block_delta').map((f) => f.data['delta'] as Record<string, string>);
    const thinking = deltas.filter((d) => d.type === 'thinking_delta');
    expect(thinking.length).toBeGreaterThan(1);
    expect(deltas[thinking.length]).toEqual({ type: 'signature_delta', signature: 'sig-1' });
    const json = deltas.filter((d) => d.type === 'input_json_delta').map((d) => d.partial_json);
    expect(json[0]).toBe('');
    expect(json.length).toBeGreaterThan(2);
    expect(JSON.parse(json.join(''))).toEqual({ city: 'Paris', units: 'celsius' });

    expect(frames.at(-2)?.data).toMatchObject({ delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: expect.any(Number) } });
  });

  it('streams thinking as thinking deltas then one signature, and passes redacted thinking whole', async () => {
    const script: ScriptedBlock[] = [
      { type: 'thinking', thinking: 'The user greets me, so a short friendly answer fits best here.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' },
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP' },
      { type: 'text', text: 'Hello to you too!' },
    ];
    const { client } = await serve(say(script));
    const stream = client.messages.stream(ask({ max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 2048 } }));
    const thinkingDeltas: string[] = [];
    const signatures: string[] = [];
    stream.on('thinking', (delta) => thinkingDeltas.push(delta));
    stream.on('signature', (signature) => signatures.push(signature));
    const final = await stream.finalMessage();

    expect(thinkingDeltas.length).toBeGreaterThan(1);
    expect(thinkingDeltas.join('')).toBe(script[0]?.type === 'thinking' ? script[0].thinking : '');
    expect(signatures).toEqual(['EqQBCgIYAhIM1gbcDa9GJwZA2b3h']);
    expect(final.content).toEqual(script);
  });

  it('streams two tool_use blocks whose inputs the SDK parses, ids defaulting to toolu_…', async () => {
    const weatherInput = { city: 'Paris', days: 3, detail: { hourly: true, units: ['celsius', 'kph'] } };
    const { server, client } = await serve(
      say(
        [
          { type: 'text', text: 'Let me look both up.' },
          { type: 'tool_use', name: 'get_weather', input: weatherInput },
          { type: 'tool_use', id: 'toolu_01FixedIdForTheTest0', name: 'get_time', input: { timezone: 'Europe/Paris' } },
        ],
        'tool_use',
      ),
    );
    const stream = client.messages.stream(ask());
    let jsonDeltas = 0;
    stream.on('inputJson', () => jsonDeltas++);
    const final = await stream.finalMessage();

    expect(final.stop_reason).toBe('tool_use');
    expect(jsonDeltas).toBeGreaterThan(4);
    const [, weather, time] = final.content;
    expect(weather).toMatchObject({ type: 'tool_use', name: 'get_weather', input: weatherInput });
    expect(weather?.type === 'tool_use' && weather.id).toMatch(/^toolu_01\w{22}$/);
    expect(time).toEqual({ type: 'tool_use', id: 'toolu_01FixedIdForTheTest0', name: 'get_time', input: { timezone: 'Europe/Paris' } });

    // The conversation the SDK hands back is one the server accepts as the next turn.
    const ids = final.content.flatMap((block) => (block.type === 'tool_use' ? [block.id] : []));
    const next = await client.messages.create(
      ask({
        messages: [
          { role: 'user', content: 'Weather and time in Paris?' },
          { role: 'assistant', content: final.content },
          {
            role: 'user',
            content: [...ids.map((id) => ({ type: 'tool_result' as const, tool_use_id: id, content: 'ok' })), { type: 'text', text: 'Thanks' }],
          },
        ],
      }),
    );
    expect(next.stop_reason).toBe('tool_use');
    expect(server.requests[1]?.body.messages[1]?.content).toEqual(final.content);
  });

  it('round-trips every stop_reason, streamed and not', async () => {
    const reasons: ScriptedMessage['stop_reason'][] = [
      'end_turn',
      'max_tokens',
      'stop_sequence',
      'tool_use',
      'pause_turn',
      'refusal',
      'model_context_window_exceeded',
    ];
    let current: ScriptedMessage['stop_reason'] = 'end_turn';
    const { client } = await serve(() => ({
      kind: 'message',
      message: {
        content: [{ type: 'text', text: 'Partial answer' }],
        stop_reason: current,
        ...(current === 'stop_sequence' ? { stop_sequence: '###' } : {}),
      },
    }));
    for (const reason of reasons) {
      current = reason;
      const streamed = await client.messages.stream(ask()).finalMessage();
      const whole = await client.messages.create(ask());
      for (const message of [streamed, whole]) {
        expect(message.stop_reason).toBe(reason);
        expect(message.stop_sequence).toBe(reason === 'stop_sequence' ? '###' : null);
      }
    }
  });

  it('reports scripted usage, and estimates what the script leaves out', async () => {
    let usage: ScriptedMessage['usage'];
    const { server, client } = await serve(() => ({ kind: 'message', message: { content: [{ type: 'text', text: SENTENCE }], stop_reason: 'end_turn', usage } }));

    usage = { input_tokens: 1234, output_tokens: 56, cache_read_input_tokens: 700, cache_creation_input_tokens: 300 };
    const stream = client.messages.stream(ask());
    const startUsage: Anthropic.Usage[] = [];
    stream.on('streamEvent', (event) => {
      // A copy: the SDK accumulates later usage into this very object.
      if (event.type === 'message_start') startUsage.push({ ...event.message.usage });
    });
    const scripted = await stream.finalMessage();
    expect(startUsage[0]).toMatchObject({ input_tokens: 1234, output_tokens: 1, cache_read_input_tokens: 700, cache_creation_input_tokens: 300 });
    expect(scripted.usage).toMatchObject(usage);
    expect((await client.messages.create(ask())).usage).toMatchObject(usage);

    usage = undefined;
    const estimated = await client.messages.stream(ask()).finalMessage();
    const bodyLength = JSON.stringify(server.requests.at(-1)?.body).length;
    expect(estimated.usage.input_tokens).toBe(Math.ceil(bodyLength / 4));
    expect(estimated.usage.output_tokens).toBe(Math.ceil(SENTENCE.length / 4));
    expect(estimated.usage).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
  });

  it('answers without stream: true with the whole message, the same one the stream builds', async () => {
    const script: ScriptedMessage = {
      content: [
        { type: 'thinking', thinking: 'Short thought.', signature: 'sig' },
        { type: 'text', text: SENTENCE },
        { type: 'tool_use', id: 'toolu_01abc', name: 'lookup', input: { q: 'fox', n: 2 } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 40 },
    };
    const { client } = await serve({ kind: 'message', message: script });
    const whole = await client.messages.create(ask());
    const streamed = await client.messages.stream(ask()).finalMessage();

    expect(whole.content).toEqual(script.content);
    const { id: wholeId, ...wholeRest } = whole;
    const { id: streamedId, parsed_output: _parsed, ...streamedRest } = streamed;
    expect(wholeId).not.toBe(streamedId);
    expect({ ...wholeRest }).toEqual({ ...streamedRest });
  });
});

describe('errors', () => {
  it('turns an http-error with retry-after into a RateLimitError whose headers carry it', async () => {
    const { server, client } = await serve({ kind: 'http-error', status: 429, type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit', retryAfterSeconds: 7 });
    const error = await rejection(client.messages.create(ask()));
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const rateLimit = error as InstanceType<typeof Anthropic.RateLimitError>;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.headers.get('retry-after')).toBe('7');
    expect(rateLimit.type).toBe('rate_limit_error');
    expect(rateLimit.apiMessage).toBe('Number of request tokens has exceeded your per-minute rate limit');
    expect(rateLimit.requestID).toMatch(/^req_/);
    expect(rateLimit.error).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' },
      request_id: rateLimit.requestID,
    });
    expect(server.requests).toHaveLength(1);

    const streamed = await rejection(client.messages.stream(ask()).finalMessage());
    expect(streamed).toBeInstanceOf(Anthropic.RateLimitError);
  });

  it('gives an overloaded error sent mid-stream to the SDK as an APIError of that type, with no status', async () => {
    const { client } = await serve({
      kind: 'message',
      message: { content: [{ type: 'text', text: SENTENCE }], stop_reason: 'end_turn' },
      errorAfterFrames: { frames: 5, type: 'overloaded_error' },
    });
    const stream = client.messages.stream(ask());
    const deltas: string[] = [];
    stream.on('text', (delta) => deltas.push(delta));
    const error = await rejection(stream.finalMessage());

    // message_start, ping, content_block_start, then two text deltas arrived before the error.
    expect(deltas).toHaveLength(2);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error).not.toBeInstanceOf(Anthropic.InternalServerError);
    const apiError = error as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.status).toBeUndefined();
    expect(apiError.type).toBe('overloaded_error');
    expect(apiError.error).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });

    // The raw stream iterator throws the same.
    const raw = await client.messages.create({ ...ask(), stream: true });
    const rawError = await rejection((async () => {
      for await (const _event of raw) {
        // drain
      }
    })());
    expect(rawError).toBeInstanceOf(Anthropic.APIError);
    expect((rawError as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error');

    // Without streaming there is no mid-response frame to carry it: it is the HTTP status.
    const whole = await rejection(client.messages.create(ask()));
    expect(whole).toBeInstanceOf(Anthropic.OverloadedError);
    expect((whole as InstanceType<typeof Anthropic.OverloadedError>).status).toBe(529);
  });

  it('makes a dropped connection fail the SDK the way a real one does', async () => {
    const { server, client } = await serve({
      kind: 'message',
      message: { content: [{ type: 'text', text: SENTENCE }], stop_reason: 'end_turn' },
      dropAfterFrames: 4,
    });

    // The MessageStream helper wraps undici's `TypeError: terminated` in a plain AnthropicError.
    const streamed = await rejection(client.messages.stream(ask()).finalMessage());
    expect(streamed).toBeInstanceOf(Anthropic.AnthropicError);
    expect(streamed).not.toBeInstanceOf(Anthropic.APIError);
    expect((streamed as Error).message).toBe('terminated');
    expect((streamed as Error).cause).toBeInstanceOf(TypeError);

    // The raw stream iterator lets undici's TypeError through unwrapped.
    const raw = await client.messages.create({ ...ask(), stream: true });
    const rawError = await rejection((async () => {
      for await (const _event of raw) {
        // drain
      }
    })());
    expect(rawError).toBeInstanceOf(TypeError);
    expect(rawError).not.toBeInstanceOf(Anthropic.AnthropicError);
    expect((rawError as Error).message).toBe('terminated');

    // Without streaming the drop comes before any response byte: a connection error.
    const whole = await rejection(client.messages.create(ask()));
    expect(whole).toBeInstanceOf(Anthropic.APIConnectionError);
    expect((whole as InstanceType<typeof Anthropic.APIConnectionError>).status).toBeUndefined();

    expect(server.requests).toHaveLength(3);
    const after = await fetchRaw(`${server.url}/v1/models`, { method: 'GET' });
    expect(after.status).toBe(200);
  });

  it('refuses a wrong or missing key with 401 authentication_error, before calling respond', async () => {
    const { server, client } = await serve(say([{ type: 'text', text: 'hi' }]), { apiKey: 'sk-right', clientKey: 'sk-wrong' });
    const error = await rejection(client.messages.create(ask()));
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((error as InstanceType<typeof Anthropic.AuthenticationError>).type).toBe('authentication_error');
    expect((error as InstanceType<typeof Anthropic.AuthenticationError>).apiMessage).toBe('invalid x-api-key');
    expect(await rejection(client.models.list())).toBeInstanceOf(Anthropic.AuthenticationError);

    const missing = await fetchRaw(`${server.url}/v1/messages`, {
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify(ask()),
    });
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.text)).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(server.requests).toHaveLength(0);

    // The right key is accepted both as the SDK sends it (Authorization: Bearer) and as x-api-key.
    const right = new Anthropic({ apiKey: 'sk-right', baseURL: server.url, maxRetries: 0 });
    expect((await right.messages.create(ask())).content).toEqual([{ type: 'text', text: 'hi' }]);
    const byHeader = await fetchRaw(`${server.url}/v1/messages`, {
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-right' },
      body: JSON.stringify(ask()),
    });
    expect(byHeader.status).toBe(200);
  });

  it('answers 404 not_found_error for unknown routes', async () => {
    const { server, client } = await serve(say([{ type: 'text', text: 'hi' }]));
    for (const [method, path] of [['GET', '/v1/nope'], ['GET', '/v1/messages'], ['POST', '/v1/complete']] as const) {
      const response = await fetchRaw(`${server.url}${path}`, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
      expect(response.status).toBe(404);
      expect(JSON.parse(response.text)).toMatchObject({ type: 'error', error: { type: 'not_found_error', message: 'Not Found' }, request_id: expect.stringMatching(/^req_/) });
    }
    expect(await rejection(client.get('/v1/nope'))).toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('answers 500 api_error when the script itself throws', async () => {
    const { client } = await serve(() => {
      throw new Error('no reply scripted for this turn');
    });
    const error = await rejection(client.messages.create(ask()));
    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    expect((error as Error).message).toContain('no reply scripted for this turn');
  });
});

describe('validation', () => {
  const toolTurn = (id: string): Anthropic.MessageParam => ({
    role: 'assistant',
    content: [{ type: 'tool_use', id, name: 'get_weather', input: { city: 'Paris' } }],
  });
  const result = (id: string): Anthropic.ToolResultBlockParam => ({ type: 'tool_result', tool_use_id: id, content: 'sunny' });
  const cached = (text: string): Anthropic.TextBlockParam => ({ type: 'text', text, cache_control: { type: 'ephemeral' } });

  const invalid: [string, Record<string, unknown>, RegExp][] = [
    ['model missing', { max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, /^model: Field required$/],
    ['model not a string', { ...ask(), model: 42 }, /^model: /],
    ['max_tokens missing', { model: MODEL, messages: [{ role: 'user', content: 'hi' }] }, /^max_tokens: Field required$/],
    ['max_tokens zero', { ...ask(), max_tokens: 0 }, /^max_tokens: Input should be greater than or equal to 1$/],
    ['max_tokens fractional', { ...ask(), max_tokens: 1.5 }, /^max_tokens: /],
    ['messages empty', { ...ask(), messages: [] }, /^messages: at least one message is required$/],
    ['messages not an array', { ...ask(), messages: 'hi' }, /^messages: /],
    ['a role that does not exist', { ...ask(), messages: [{ role: 'system', content: 'hi' }] }, /^messages\.0\.role: /],
    ['a text block without text', { ...ask(), messages: [{ role: 'user', content: [{ type: 'text' }] }] }, /^messages\.0\.content\.0\.text: Field required$/],
    ['first message from the assistant', { ...ask(), messages: [{ role: 'assistant', content: 'hi' }, { role: 'user', content: 'hi' }] }, /^messages: first message must use the "user" role$/],
    ['two user turns in a row', { ...ask(), messages: [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }] }, /roles must alternate between "user" and "assistant", but found multiple "user" roles in a row/],
    ['two assistant turns in a row', { ...ask(), messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'assistant', content: 'c' }] }, /found multiple "assistant" roles/],
    [
      'a tool_use left unanswered',
      { ...ask(), messages: [{ role: 'user', content: 'a' }, toolTurn('toolu_1'), { role: 'user', content: 'b' }] },
      /^messages\.2: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1\./,
    ],
    [
      'a tool_use as the last message',
      { ...ask(), messages: [{ role: 'user', content: 'a' }, toolTurn('toolu_1')] },
      /`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1/,
    ],
    [
      'one of two tool_uses answered',
      {
        ...ask(),
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: [...(toolTurn('toolu_1').content as object[]), ...(toolTurn('toolu_2').content as object[])] },
          { role: 'user', content: [result('toolu_1')] },
        ],
      },
      /immediately after: toolu_2\./,
    ],
    [
      'a tool_result for another id',
      { ...ask(), messages: [{ role: 'user', content: 'a' }, toolTurn('toolu_1'), { role: 'user', content: [result('toolu_1'), result('toolu_9')] }] },
      /^messages\.2\.content\.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_9\./,
    ],
    ['a tool_result with no tool_use before it', { ...ask(), messages: [{ role: 'user', content: [result('toolu_1')] }] }, /^messages\.0\.content\.0: unexpected `tool_use_id`/],
    [
      'a tool_result after other content',
      { ...ask(), messages: [{ role: 'user', content: 'a' }, toolTurn('toolu_1'), { role: 'user', content: [{ type: 'text', text: 'here:' }, result('toolu_1')] }] },
      /^messages\.2\.content\.1: `tool_result` blocks must come first/,
    ],
    [
      'a tool_result answering a tool_use two turns back',
      {
        ...ask(),
        messages: [
          { role: 'user', content: 'a' },
          toolTurn('toolu_1'),
          { role: 'user', content: [result('toolu_1')] },
          { role: 'assistant', content: 'done' },
          { role: 'user', content: [result('toolu_1')] },
        ],
      },
      /^messages\.4\.content\.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_1/,
    ],
    [
      'a tool_use id used twice',
      {
        ...ask(),
        messages: [
          { role: 'user', content: 'a' },
          toolTurn('toolu_1'),
          { role: 'user', content: [result('toolu_1')] },
          toolTurn('toolu_1'),
          { role: 'user', content: [result('toolu_1')] },
        ],
      },
      /^messages\.3\.content\.0: `tool_use` ids must be unique$/,
    ],
    ['a thinking budget under 1024', { ...ask(), thinking: { type: 'enabled', budget_tokens: 1000 } }, /^thinking\.budget_tokens: Input should be greater than or equal to 1024$/],
    ['a thinking budget not under max_tokens', { ...ask({ max_tokens: 2048 }), thinking: { type: 'enabled', budget_tokens: 2048 } }, /^`max_tokens` must be greater than `thinking\.budget_tokens`$/],
    ['a thinking type that does not exist', { ...ask(), thinking: { type: 'sometimes' } }, /^thinking/],
    [
      'five cache_control blocks across tools, system and messages',
      {
        ...ask(),
        tools: [{ name: 'a', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } }],
        system: [cached('sys 1'), cached('sys 2')],
        messages: [
          { role: 'user', content: [cached('question')] },
          { role: 'assistant', content: [cached('answer')] },
          { role: 'user', content: 'again' },
        ],
      },
      /^A maximum of 4 blocks with cache_control may be provided\. Found 5\.$/,
    ],
    ['a tool_choice without tools', { ...ask(), tool_choice: { type: 'any' } }, /^tool_choice may only be specified while providing tools\.$/],
    [
      'a forced tool that is not among the tools',
      { ...ask(), tools: [{ name: 'a', input_schema: { type: 'object' } }], tool_choice: { type: 'tool', name: 'b' } },
      /^tool_choice\.tool\.name: Tool 'b' not found/,
    ],
    [
      'a forced tool while thinking is on',
      { ...ask({ max_tokens: 4096 }), thinking: { type: 'enabled', budget_tokens: 1024 }, tools: [{ name: 'a', input_schema: { type: 'object' } }], tool_choice: { type: 'tool', name: 'a' } },
      /^Thinking may not be enabled when tool_choice forces tool use\.$/,
    ],
    [
      'tool_choice any while thinking adaptively',
      { ...ask(), thinking: { type: 'adaptive' }, tools: [{ name: 'a', input_schema: { type: 'object' } }], tool_choice: { type: 'any' } },
      /^Thinking may not be enabled when tool_choice forces tool use\.$/,
    ],
  ];

  it.each(invalid)('refuses %s with 400 invalid_request_error, without calling respond', async (_name, body, message) => {
    const { server, client } = await serve(say([{ type: 'text', text: 'hi' }]));
    const error = await rejection(client.messages.create(askRaw(body)));
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const badRequest = error as InstanceType<typeof Anthropic.BadRequestError>;
    expect(badRequest.type).toBe('invalid_request_error');
    expect(badRequest.apiMessage).toMatch(message);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a body that is not JSON, and a request without anthropic-version', async () => {
    const { server } = await serve(say([{ type: 'text', text: 'hi' }]));
    const notJson = await fetchRaw(`${server.url}/v1/messages`, { body: '{"model": ' });
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.text)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/^There was an issue with your request body/) } });

    const noVersion = await fetchRaw(`${server.url}/v1/messages`, {
      headers: { 'content-type': 'application/json', 'x-api-key': 'k' },
      body: JSON.stringify(ask()),
    });
    expect(noVersion.status).toBe(400);
    expect(JSON.parse(noVersion.text).error.message).toBe('anthropic-version: header is required');
    expect(server.requests).toHaveLength(0);
  });

  it('accepts what the real API accepts: four breakpoints, answered tools, unknown blocks and fields', async () => {
    const { server, client } = await serve(say([{ type: 'text', text: 'fine' }]));
    const body = {
      ...ask({ max_tokens: 2048 }),
      system: [cached('sys')],
      tools: [{ name: 'get_weather', description: 'weather', input_schema: { type: 'object' as const }, cache_control: { type: 'ephemeral' as const } }],
      thinking: { type: 'enabled' as const, budget_tokens: 1024 },
      metadata: { user_id: 'u-1' },
      service_tier: 'auto' as const,
      messages: [
        { role: 'user' as const, content: [{ type: 'image' as const, source: { type: 'url' as const, url: 'https://example.com/a.png' } }, cached('what is this?')] },
        {
          role: 'assistant' as const,
          content: [
            { type: 'thinking' as const, thinking: 'hmm', signature: 'sig' },
            { type: 'tool_use' as const, id: 'toolu_a', name: 'get_weather', input: {} },
            { type: 'tool_use' as const, id: 'toolu_b', name: 'get_weather', input: { city: 'Oslo' } },
          ],
        },
        {
          role: 'user' as const,
          content: [
            { type: 'tool_result' as const, tool_use_id: 'toolu_b', content: [cached('rain')] },
            { type: 'tool_result' as const, tool_use_id: 'toolu_a', is_error: true, content: 'no city' },
            { type: 'text' as const, text: 'and now?' },
          ],
        },
      ],
    };
    expect((await client.messages.create(body)).content).toEqual([{ type: 'text', text: 'fine' }]);
    expect(server.requests[0]?.body).toMatchObject({ service_tier: 'auto', metadata: { user_id: 'u-1' } });
    expect(server.requests[0]?.body.messages[0]?.content).toContainEqual(expect.objectContaining({ type: 'image' }));
  });
});

describe('lifecycle', () => {
  it('survives a client aborting mid-stream and answers the next request', async () => {
    let turn = 0;
    const { server, client } = await serve(() =>
      turn++ === 0
        ? { kind: 'message', message: { content: [{ type: 'text', text: `${SENTENCE} ${SENTENCE}` }], stop_reason: 'end_turn' }, frameDelayMs: 25 }
        : say([{ type: 'text', text: 'still here' }]),
    );
    const controller = new AbortController();
    const stream = client.messages.stream(ask(), { signal: controller.signal });
    stream.on('text', () => controller.abort());
    const error = await rejection(stream.finalMessage());
    expect(error).toBeInstanceOf(Anthropic.APIUserAbortError);
    expect(stream.aborted).toBe(true);

    expect(await client.messages.stream(ask()).finalText()).toBe('still here');
    expect(server.requests.map((r) => r.index)).toEqual([0, 1]);
  });

  it('closes promptly with a slow stream in flight, failing that stream', async () => {
    const { server, client } = await serve({
      kind: 'message',
      message: { content: [{ type: 'text', text: SENTENCE }], stop_reason: 'end_turn' },
      frameDelayMs: 60_000,
    });
    const stream = client.messages.stream(ask());
    const failed = rejection(stream.finalMessage());
    await new Promise<void>((resolve) => stream.on('connect', () => resolve()));
    const started = performance.now();
    await server.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await failed).toBeInstanceOf(Anthropic.AnthropicError);
  });

  it('records receivedAt when the headers arrive, before a slow body is read', async () => {
    const { server } = await serve(say([{ type: 'text', text: 'ok' }]));
    const body = JSON.stringify(ask());
    const { port } = new URL(server.url);
    // By hand on a socket: fetch holds a streamed body's headers back until its first chunk.
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    const headersSentAt = performance.now();
    socket.write(
      'POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n' +
        `x-api-key: k\r\nanthropic-version: 2023-06-01\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.end(body);
    const response = (await text(socket)).split('\r\n')[0];
    expect(response).toBe('HTTP/1.1 200 OK');
    expect((server.requests[0]?.receivedAt ?? Infinity) - headersSentAt).toBeLessThan(100);
  });
});

describe('models', () => {
  it('lists realistic default ids', async () => {
    const { client } = await serve(say([]));
    const models: Anthropic.ModelInfo[] = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models.length).toBeGreaterThanOrEqual(3);
    for (const model of models) {
      expect(model).toMatchObject({ type: 'model', id: expect.stringMatching(/^claude-/), display_name: expect.stringMatching(/^Claude /) });
      expect(Number.isNaN(Date.parse(model.created_at))).toBe(false);
    }
    const created = models.map((m) => Date.parse(m.created_at));
    expect(created).toEqual([...created].sort((a, b) => b - a));
  });

  it('returns the configured ids, newest first, across pages', async () => {
    const ids = ['claude-opus-4-7', 'claude-sonnet-4-6', 'claude-opus-4-5', 'claude-haiku-4-5', 'claude-haiku-4-5-20251001'];
    const { client } = await serve(say([]), { models: ids });
    const all: string[] = [];
    for await (const model of client.models.list()) all.push(model.id);
    expect(all).toEqual(ids);

    const paged: string[] = [];
    for await (const model of client.models.list({ limit: 2 })) paged.push(model.id);
    expect(paged).toEqual(ids);

    const first = await client.models.list({ limit: 2 });
    expect(first.data.map((m) => m.id)).toEqual(ids.slice(0, 2));
    expect(first).toMatchObject({ has_more: true, first_id: ids[0], last_id: ids[1] });
    expect((await client.models.list({ after_id: ids[3]! })).data.map((m) => m.id)).toEqual([ids[4]]);
    expect((await client.models.list({ before_id: ids[3]!, limit: 2 })).data.map((m) => m.id)).toEqual([ids[1], ids[2]]);
    expect((await client.models.list()).data[3]?.display_name).toBe('Claude Haiku 4.5');
  });
});
