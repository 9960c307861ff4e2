/**
 * What the model server's own tests share: servers started for one test (closed by
 * `closeServers`, which every such test file runs after each test), the real SDK pointed at them,
 * scripted replies, raw requests the SDK would not send, and SSE parsing.
 *
 * It must never stand in for the SDK where the SDK can make the request: raw requests are only for
 * what the SDK refuses to send.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { Socket } from 'node:net';
import { expect } from 'vitest';
import {
  startModelServer,
  type ModelServer,
  type ModelServerOptions,
  type Reply,
  type ScriptedBlock,
  type ScriptedMessage,
} from '../model-server.ts';

// Not claude-sonnet-4-5: the SDK warns on every request naming a deprecated model.
export const MODEL = 'claude-haiku-4-5';
const servers: ModelServer[] = [];

/** Closes every server `serve` started; each test file calls it in afterEach. */
export async function closeServers(): Promise<void> {
  await Promise.all(servers.splice(0).map((server) => server.close()));
}

export async function serve(
  respond: ModelServerOptions['respond'] | Reply,
  extra: Omit<ModelServerOptions, 'respond'> & { clientKey?: string } = {},
): Promise<{ server: ModelServer; client: Anthropic }> {
  const server = await startModelServer({ ...extra, respond: typeof respond === 'function' ? respond : () => respond });
  servers.push(server);
  const client = new Anthropic({ apiKey: extra.clientKey ?? extra.apiKey ?? 'test-key', baseURL: server.url, maxRetries: 0 });
  return { server, client };
}

export function say(content: ScriptedBlock[], stop_reason: ScriptedMessage['stop_reason'] = 'end_turn'): Reply {
  return { kind: 'message', message: { content, stop_reason } };
}

export function ask(overrides: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}): Anthropic.MessageCreateParamsNonStreaming {
  return { model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: 'Hello' }], ...overrides };
}

/** Sends a body the SDK's types would refuse, so the server's own validation is what answers. */
export function askRaw(body: Record<string, unknown>): Anthropic.MessageCreateParamsNonStreaming {
  return body as unknown as Anthropic.MessageCreateParamsNonStreaming;
}

export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/** A request made by hand, for what the SDK will not send (bad JSON, missing headers). */
export async function fetchRaw(
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

export async function text(socket: Socket): Promise<string> {
  let all = '';
  for await (const chunk of socket) all += String(chunk);
  return all;
}

export function sseFrames(text: string): { event: string; data: Record<string, unknown> }[] {
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

export const SENTENCE = 'The quick brown fox jumps over the lazy dog, then naps in the warm afternoon sun for a while.';
