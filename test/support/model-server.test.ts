// Proves the model server is a faithful stand-in for the Messages API: the real SDK, pointed at
// it, fails, recovers and paginates the way it does against the real service (HTTP errors, auth,
// routes, lifecycle, models); streaming is proved in model-server/wire.test.ts, request
// validation in model-server/request.test.ts.
import Anthropic from '@anthropic-ai/sdk';
import { once } from 'node:events';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, closeServers, fetchRaw, rejection, say, SENTENCE, serve, text } from './model-server/fixtures.ts';

afterEach(closeServers);

describe('errors', () => {
  it('turns an http-error with retry-after into a RateLimitError whose headers carry it', async () => {
    const { server, client } = await serve({
      kind: 'http-error',
      status: 429,
      type: 'rate_limit_error',
      message: 'Number of request tokens has exceeded your per-minute rate limit',
      retryAfterSeconds: 7,
    });
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
    const rawError = await rejection(
      (async () => {
        for await (const _event of raw) {
          // drain
        }
      })(),
    );
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
    const rawError = await rejection(
      (async () => {
        for await (const _event of raw) {
          // drain
        }
      })(),
    );
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
    for (const [method, path] of [
      ['GET', '/v1/nope'],
      ['GET', '/v1/messages'],
      ['POST', '/v1/complete'],
    ] as const) {
      const response = await fetchRaw(`${server.url}${path}`, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
      expect(response.status).toBe(404);
      expect(JSON.parse(response.text)).toMatchObject({
        type: 'error',
        error: { type: 'not_found_error', message: 'Not Found' },
        request_id: expect.stringMatching(/^req_/),
      });
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

describe('lifecycle', () => {
  it('survives a client aborting mid-stream and answers the next request', async () => {
    let turn = 0;
    const { server, client } = await serve(() =>
      turn++ === 0
        ? {
            kind: 'message',
            message: { content: [{ type: 'text', text: `${SENTENCE} ${SENTENCE}` }], stop_reason: 'end_turn' },
            frameDelayMs: 25,
          }
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
      expect(model).toMatchObject({
        type: 'model',
        id: expect.stringMatching(/^claude-/),
        display_name: expect.stringMatching(/^Claude /),
      });
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
