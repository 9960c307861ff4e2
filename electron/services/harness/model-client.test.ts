// The stream client against a raw SSE endpoint that misbehaves in ways the faithful model server
// never does (an "Anthropic-compatible" endpoint is a trust boundary).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelCallError, streamMessage } from './model-client.ts';

let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** An endpoint that answers every request with these SSE frames. */
async function endpoint(frames: Array<[string, unknown]>): Promise<Anthropic> {
  server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const [event, data] of frames) response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    response.end();
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return new Anthropic({ apiKey: 'k', baseURL: `http://127.0.0.1:${port}`, maxRetries: 0 });
}

const start: [string, unknown] = [
  'message_start',
  {
    type: 'message_start',
    message: { id: 'm', type: 'message', role: 'assistant', content: [], model: 'x', usage: { input_tokens: 5, output_tokens: 1 } },
  },
];
const textStart: [string, unknown] = [
  'content_block_start',
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
];
const params = { model: 'x', max_tokens: 10, messages: [{ role: 'user' as const, content: 'hi' }], stream: true as const };

async function failure(client: Anthropic): Promise<ModelCallError> {
  try {
    await streamMessage(client, params, { signal: new AbortController().signal });
  } catch (error) {
    if (error instanceof ModelCallError) return error;
    throw error;
  }
  throw new Error('the stream was accepted');
}

describe('streamMessage', () => {
  it('refuses a malformed delta instead of storing it', async () => {
    const client = await endpoint([
      start,
      textStart,
      ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 42 } }],
    ]);
    expect(await failure(client)).toMatchObject({ kind: 'fatal', errorType: 'invalid_response' });
  });

  it('refuses a frame with a missing field', async () => {
    const client = await endpoint([start, ['content_block_start', { type: 'content_block_start', content_block: { type: 'text' } }]]);
    expect(await failure(client)).toMatchObject({ kind: 'fatal', errorType: 'invalid_response' });
  });

  it('treats a stream that ends without message_stop as incomplete (retryable)', async () => {
    const client = await endpoint([
      start,
      textStart,
      ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'partial' } }],
    ]);
    const error = await failure(client);
    expect(error).toMatchObject({ kind: 'retryable', errorType: 'incomplete_response' });
    expect(error.partial.blocks).toEqual([{ type: 'text', text: 'partial' }]);
  });

  it('ignores frame types it does not use and reports a tool input that is not JSON', async () => {
    const client = await endpoint([
      start,
      ['some_future_frame', { type: 'some_future_frame', detail: 1 }],
      [
        'content_block_start',
        { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'add', input: {} } },
      ],
      ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"a": 1,' } }],
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 7 } }],
      ['message_stop', { type: 'message_stop' }],
    ]);
    const response = await streamMessage(client, params, { signal: new AbortController().signal });
    expect(response.stopReason).toBe('tool_use');
    expect(response.usage).toMatchObject({ input_tokens: 5, output_tokens: 7 });
    expect(response.blocks).toEqual([
      { type: 'tool_use', id: 'toolu_1', name: 'add', input: {}, inputError: expect.stringMatching(/not valid JSON/) },
    ]);
  });
});
