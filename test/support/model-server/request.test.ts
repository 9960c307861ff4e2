// Proves the model server refuses what the Messages API refuses and accepts what it accepts, with
// the real API's wording, so code that passes against it could pass against the real service.
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, askRaw, closeServers, fetchRaw, MODEL, rejection, say, serve } from './fixtures.ts';

afterEach(closeServers);

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
    [
      'a text block without text',
      { ...ask(), messages: [{ role: 'user', content: [{ type: 'text' }] }] },
      /^messages\.0\.content\.0\.text: Field required$/,
    ],
    [
      'first message from the assistant',
      {
        ...ask(),
        messages: [
          { role: 'assistant', content: 'hi' },
          { role: 'user', content: 'hi' },
        ],
      },
      /^messages: first message must use the "user" role$/,
    ],
    [
      'two user turns in a row',
      {
        ...ask(),
        messages: [
          { role: 'user', content: 'a' },
          { role: 'user', content: 'b' },
        ],
      },
      /roles must alternate between "user" and "assistant", but found multiple "user" roles in a row/,
    ],
    [
      'two assistant turns in a row',
      {
        ...ask(),
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
          { role: 'assistant', content: 'c' },
        ],
      },
      /found multiple "assistant" roles/,
    ],
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
      {
        ...ask(),
        messages: [{ role: 'user', content: 'a' }, toolTurn('toolu_1'), { role: 'user', content: [result('toolu_1'), result('toolu_9')] }],
      },
      /^messages\.2\.content\.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_9\./,
    ],
    [
      'a tool_result with no tool_use before it',
      { ...ask(), messages: [{ role: 'user', content: [result('toolu_1')] }] },
      /^messages\.0\.content\.0: unexpected `tool_use_id`/,
    ],
    [
      'a tool_result after other content',
      {
        ...ask(),
        messages: [
          { role: 'user', content: 'a' },
          toolTurn('toolu_1'),
          { role: 'user', content: [{ type: 'text', text: 'here:' }, result('toolu_1')] },
        ],
      },
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
    [
      'a thinking budget under 1024',
      { ...ask(), thinking: { type: 'enabled', budget_tokens: 1000 } },
      /^thinking\.budget_tokens: Input should be greater than or equal to 1024$/,
    ],
    [
      'a thinking budget not under max_tokens',
      { ...ask({ max_tokens: 2048 }), thinking: { type: 'enabled', budget_tokens: 2048 } },
      /^`max_tokens` must be greater than `thinking\.budget_tokens`$/,
    ],
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
    [
      'a tool_choice without tools',
      { ...ask(), tool_choice: { type: 'any' } },
      /^tool_choice may only be specified while providing tools\.$/,
    ],
    [
      'a forced tool that is not among the tools',
      { ...ask(), tools: [{ name: 'a', input_schema: { type: 'object' } }], tool_choice: { type: 'tool', name: 'b' } },
      /^tool_choice\.tool\.name: Tool 'b' not found/,
    ],
    [
      'a forced tool while thinking is on',
      {
        ...ask({ max_tokens: 4096 }),
        thinking: { type: 'enabled', budget_tokens: 1024 },
        tools: [{ name: 'a', input_schema: { type: 'object' } }],
        tool_choice: { type: 'tool', name: 'a' },
      },
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
    expect(JSON.parse(notJson.text)).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringMatching(/^There was an issue with your request body/) },
    });

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
      tools: [
        {
          name: 'get_weather',
          description: 'weather',
          input_schema: { type: 'object' as const },
          cache_control: { type: 'ephemeral' as const },
        },
      ],
      thinking: { type: 'enabled' as const, budget_tokens: 1024 },
      metadata: { user_id: 'u-1' },
      service_tier: 'auto' as const,
      messages: [
        {
          role: 'user' as const,
          content: [
            { type: 'image' as const, source: { type: 'url' as const, url: 'https://example.com/a.png' } },
            cached('what is this?'),
          ],
        },
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
