// The API's HTTP layer on its own (a small route table of its own): auth as the SDK sends it,
// errors in the service's shape with the statuses the SDK maps to its classes, size and JSON
// limits, and what a web page gets. Raw HTTP only for what the SDK would never send.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import { ApiError } from './errors.ts';
import { MAX_BODY_BYTES, startApiServer, type RunningApi } from './server.ts';

const TOKEN = 'api-server-test-token-0123456789';
let api: RunningApi;
let token = TOKEN;
const logged: string[] = [];

beforeAll(async () => {
  api = await startApiServer({
    host: '127.0.0.1',
    port: 0,
    token: () => token,
    log: (line) => logged.push(line),
    routes: [
      { method: 'POST', path: '/v1/echo', handler: (request) => ({ body: { body: request.body, id: request.requestId } }) },
      { method: 'GET', path: '/v1/things/:thing_id', handler: (request) => ({ body: { id: request.params['thing_id'] } }) },
      {
        method: 'GET',
        path: '/v1/fail/:how',
        handler: (request) => {
          if (request.params['how'] === 'app') throw new AppError('not-found', 'No such thing here.');
          if (request.params['how'] === 'conflict') throw new ApiError('conflict_error', 'It changed meanwhile.');
          throw new Error('a bug with a secret detail');
        },
      },
    ],
  });
});

afterAll(async () => {
  await api.close();
});

const client = () => new Anthropic({ baseURL: api.baseURL, apiKey: token, maxRetries: 0 });

async function raw(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: { type?: string; error?: { type: string; message: string }; request_id?: string } }> {
  const response = await fetch(`${api.baseURL}${path}`, init);
  return { status: response.status, body: (await response.json()) as never };
}

describe('the API server', () => {
  it('takes the token as the SDK sends it (Bearer) and as x-api-key, with any anthropic-beta', async () => {
    expect(await client().post('/v1/echo', { body: { a: 1 }, headers: { 'anthropic-beta': 'whatever-2099-01-01' } })).toMatchObject({
      body: { a: 1 },
    });
    expect((await raw('/v1/things/x1', { headers: { 'x-api-key': TOKEN } })).body).toEqual({ id: 'x1' });
  });

  it('maps its errors to the SDK error classes, in the service shape with a request id', async () => {
    const wrong = new Anthropic({ baseURL: api.baseURL, apiKey: 'wrong-token-0123456789abcdef', maxRetries: 0 });
    await expect(wrong.get('/v1/things/a')).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(client().get('/v1/nothing/here')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    await expect(client().get('/v1/fail/app')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    await expect(client().get('/v1/fail/conflict')).rejects.toBeInstanceOf(Anthropic.ConflictError);
    const error = await client()
      .get('/v1/fail/bug')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    const message = (error as Error).message;
    expect(message).toMatch(/reference [0-9a-f]{8}/);
    expect(message).not.toContain('secret detail');
    expect(logged.some((line) => line.includes('reference'))).toBe(true);
    const shaped = await raw('/v1/things/a', { headers: { authorization: 'Bearer nope' } });
    expect(shaped.status).toBe(401);
    expect(shaped.body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(shaped.body.request_id).toMatch(/^req_/);
    expect(shaped.body.error?.message).toMatch(/Settings → Local API/);
  });

  it('answers bad input in words: not JSON, too large, a wrong method, a web page', async () => {
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const notJson = await raw('/v1/echo', { method: 'POST', headers, body: '{"a":' });
    expect(notJson).toMatchObject({
      status: 400,
      body: { error: { type: 'invalid_request_error', message: 'The request body is not valid JSON.' } },
    });
    const big = await raw('/v1/echo', { method: 'POST', headers, body: `"${'x'.repeat(MAX_BODY_BYTES)}"` });
    expect(big).toMatchObject({ status: 413, body: { error: { type: 'request_too_large' } } });
    const method = await raw('/v1/echo', { headers });
    expect(method.status).toBe(405);
    expect(method.body.error?.message).toMatch(/use POST/);
    const page = await raw('/v1/things/a', { headers: { ...headers, origin: 'https://evil.example' } });
    expect(page).toMatchObject({ status: 403, body: { error: { type: 'permission_error' } } });
    const percent = await raw('/v1/things/%E0%A4%A', { headers });
    expect(percent.status).toBe(400);
  });

  it('applies a rotated token at once', async () => {
    token = 'rotated-token-abcdefghijklmnop';
    try {
      await expect(new Anthropic({ baseURL: api.baseURL, apiKey: TOKEN, maxRetries: 0 }).get('/v1/things/a')).rejects.toBeInstanceOf(
        Anthropic.AuthenticationError,
      );
      expect(await client().get('/v1/things/b')).toEqual({ id: 'b' });
    } finally {
      token = TOKEN;
    }
  });
});
