// Proves the model server streams like the Messages API: the real SDK, pointed at it, streams and
// accumulates the same message the script describes, frame by frame in the real API's order.
import type Anthropic from '@anthropic-ai/sdk';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, closeServers, fetchRaw, MODEL, say, SENTENCE, serve, sseFrames } from './fixtures.ts';
import type { ScriptedBlock, ScriptedMessage } from '../model-server.ts';

afterEach(closeServers);

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

    expect(frames.at(-2)?.data).toMatchObject({
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: expect.any(Number) },
    });
  });

  it('streams thinking as thinking deltas then one signature, and passes redacted thinking whole', async () => {
    const script: ScriptedBlock[] = [
      {
        type: 'thinking',
        thinking: 'The user greets me, so a short friendly answer fits best here.',
        signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h',
      },
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
            content: [
              ...ids.map((id) => ({ type: 'tool_result' as const, tool_use_id: id, content: 'ok' })),
              { type: 'text', text: 'Thanks' },
            ],
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
    const { server, client } = await serve(() => ({
      kind: 'message',
      message: { content: [{ type: 'text', text: SENTENCE }], stop_reason: 'end_turn', usage },
    }));

    usage = { input_tokens: 1234, output_tokens: 56, cache_read_input_tokens: 700, cache_creation_input_tokens: 300 };
    const stream = client.messages.stream(ask());
    const startUsage: Anthropic.Usage[] = [];
    stream.on('streamEvent', (event) => {
      // A copy: the SDK accumulates later usage into this very object.
      if (event.type === 'message_start') startUsage.push({ ...event.message.usage });
    });
    const scripted = await stream.finalMessage();
    expect(startUsage[0]).toMatchObject({
      input_tokens: 1234,
      output_tokens: 1,
      cache_read_input_tokens: 700,
      cache_creation_input_tokens: 300,
    });
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
