/**
 * The model server's reply side of the wire format: a scripted message as the SSE frames the real
 * API sends (message_start, content blocks and their deltas, message_delta, message_stop), streamed
 * or folded into one JSON message, plus the model list and error bodies, with real-shaped ids.
 *
 * It must never answer in a shape the real API would not: a streamed reply and the whole message
 * are built from the same frames, so they cannot disagree.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Reply, ScriptedMessage } from './script.ts';

// ---------------------------------------------------------------------------------------------
// Replies

interface Frame {
  event: string;
  data: Record<string, unknown>;
}

/** The SSE frames the real API would send for this message; the whole message is their sum. */
export function messageFrames(script: ScriptedMessage, model: string, estimatedInput: number): Frame[] {
  const usage = {
    input_tokens: script.usage?.input_tokens ?? estimatedInput,
    cache_creation_input_tokens: script.usage?.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: script.usage?.cache_read_input_tokens ?? 0,
    cache_creation: {
      ephemeral_5m_input_tokens: script.usage?.cache_creation_input_tokens ?? 0,
      ephemeral_1h_input_tokens: 0,
    },
    output_tokens: 1,
    service_tier: 'standard',
  };
  const frames: Frame[] = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: {
          id: newId('msg_'),
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage,
        },
      },
    },
    { event: 'ping', data: { type: 'ping' } },
  ];
  const blockStart = (index: number, block: Record<string, unknown>): Frame => ({
    event: 'content_block_start',
    data: { type: 'content_block_start', index, content_block: block },
  });
  const delta = (index: number, payload: Record<string, unknown>): Frame => ({
    event: 'content_block_delta',
    data: { type: 'content_block_delta', index, delta: payload },
  });

  let outputChars = 0;
  for (const [index, block] of script.content.entries()) {
    switch (block.type) {
      case 'text':
        frames.push(blockStart(index, { type: 'text', text: '' }));
        for (const text of wordChunks(block.text)) frames.push(delta(index, { type: 'text_delta', text }));
        outputChars += block.text.length;
        break;
      case 'thinking':
        frames.push(blockStart(index, { type: 'thinking', thinking: '', signature: '' }));
        for (const thinking of wordChunks(block.thinking)) frames.push(delta(index, { type: 'thinking_delta', thinking }));
        frames.push(delta(index, { type: 'signature_delta', signature: block.signature }));
        outputChars += block.thinking.length;
        break;
      case 'redacted_thinking':
        frames.push(blockStart(index, { type: 'redacted_thinking', data: block.data }));
        outputChars += block.data.length;
        break;
      case 'tool_use': {
        const json = JSON.stringify(block.input);
        frames.push(blockStart(index, { type: 'tool_use', id: block.id ?? newId('toolu_'), name: block.name, input: {} }));
        for (const partial_json of jsonPieces(json)) frames.push(delta(index, { type: 'input_json_delta', partial_json }));
        outputChars += json.length;
        break;
      }
    }
    frames.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  }
  frames.push(
    {
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: script.stop_reason, stop_sequence: script.stop_sequence ?? null },
        usage: { output_tokens: script.usage?.output_tokens ?? Math.max(1, Math.ceil(outputChars / 4)) },
      },
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  );
  return frames;
}

/** Folds frames into the complete Message, the way a client accumulating the stream would. */
function wholeMessage(frames: Frame[]): Record<string, unknown> {
  const start = frames[0]?.data['message'] as Record<string, unknown>;
  const message = { ...start, content: [] as Record<string, unknown>[], usage: { ...(start['usage'] as object) } };
  const json = new Map<number, string>();
  for (const { data } of frames) {
    const index = data['index'] as number;
    const delta = data['delta'] as Record<string, string>;
    if (data['type'] === 'content_block_start') message.content[index] = { ...(data['content_block'] as object) };
    if (data['type'] === 'content_block_delta') {
      const block = message.content[index] as Record<string, unknown>;
      if (delta['type'] === 'text_delta') block['text'] = `${block['text'] as string}${delta['text']}`;
      if (delta['type'] === 'thinking_delta') block['thinking'] = `${block['thinking'] as string}${delta['thinking']}`;
      if (delta['type'] === 'signature_delta') block['signature'] = delta['signature'];
      if (delta['type'] === 'input_json_delta') json.set(index, (json.get(index) ?? '') + delta['partial_json']);
    }
    if (data['type'] === 'message_delta') {
      Object.assign(message, data['delta']);
      Object.assign(message.usage, data['usage']);
    }
  }
  for (const [index, text] of json) (message.content[index] as Record<string, unknown>)['input'] = JSON.parse(text);
  return message;
}

export async function streamFrames(
  res: ServerResponse,
  frames: Frame[],
  reply: Extract<Reply, { kind: 'message' }>,
  gone: AbortSignal,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': newId('req_'),
  });
  // Headers go out at once, as the real API's do, so a client sees the 200 before any frame.
  res.flushHeaders();
  const errorAt = reply.errorAfterFrames && Math.min(reply.errorAfterFrames.frames, frames.length);
  const dropAt = reply.dropAfterFrames === undefined ? undefined : Math.min(reply.dropAfterFrames, frames.length);
  try {
    for (let sent = 0; sent <= frames.length; sent++) {
      if (sent === dropAt) {
        res.socket?.destroy();
        return;
      }
      let frame = frames[sent];
      if (sent === errorAt && reply.errorAfterFrames) {
        const { type, message } = reply.errorAfterFrames;
        frame = { event: 'error', data: { type: 'error', error: { type, message: message ?? defaultErrorMessage(type) } } };
      }
      if (!frame) break;
      if (reply.frameDelayMs) await sleep(reply.frameDelayMs, undefined, { signal: gone });
      if (gone.aborted) return;
      if (!res.write(`event: ${frame.event}\ndata: ${JSON.stringify(frame.data)}\n\n`)) {
        await once(res, 'drain', { signal: gone });
      }
      if (frame.event === 'error') break;
    }
    res.end();
  } catch (error) {
    // The client went away mid-stream (an SDK abort): nothing left to write to.
    if (!gone.aborted) throw error;
  }
}

export async function sendWhole(
  res: ServerResponse,
  frames: Frame[],
  reply: Extract<Reply, { kind: 'message' }>,
  gone: AbortSignal,
): Promise<void> {
  const faultAt = Math.min(reply.dropAfterFrames ?? reply.errorAfterFrames?.frames ?? frames.length, frames.length);
  try {
    if (reply.frameDelayMs) await sleep(reply.frameDelayMs * faultAt, undefined, { signal: gone });
  } catch (error) {
    if (gone.aborted) return;
    throw error;
  }
  if (reply.dropAfterFrames !== undefined) {
    res.socket?.destroy();
    return;
  }
  if (reply.errorAfterFrames) {
    const { type, message } = reply.errorAfterFrames;
    return sendError(res, STATUS_OF_ERROR_TYPE[type] ?? 500, type, message ?? defaultErrorMessage(type));
  }
  sendJson(res, 200, wholeMessage(frames));
}

export function sendModels(res: ServerResponse, ids: string[], query: URLSearchParams): void {
  const all = ids.map((id, i) => ({
    type: 'model',
    id,
    display_name: displayName(id),
    // Newest first, like the real list: each older model a month before the one above it.
    created_at: new Date(Date.UTC(2025, 8, 29) - i * 30 * 86_400_000).toISOString(),
  }));
  const limit = Number(query.get('limit') ?? 20);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    return sendError(res, 400, 'invalid_request_error', 'limit: Input should be between 1 and 1000');
  }
  const afterId = query.get('after_id');
  const beforeId = query.get('before_id');
  let page: typeof all;
  let hasMore: boolean;
  if (beforeId !== null) {
    const end = Math.max(
      0,
      all.findIndex((m) => m.id === beforeId),
    );
    page = all.slice(Math.max(0, end - limit), end);
    hasMore = end - limit > 0;
  } else {
    const start = afterId === null ? 0 : all.findIndex((m) => m.id === afterId) + 1;
    page = start === 0 && afterId !== null ? [] : all.slice(start, start + limit);
    hasMore = start + limit < all.length;
  }
  sendJson(res, 200, { data: page, has_more: hasMore, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null });
}

export function sendError(res: ServerResponse, status: number, type: string, message: string, retryAfterSeconds?: number): void {
  const requestId = newId('req_');
  const headers: Record<string, string> = { 'request-id': requestId };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  sendJson(res, status, { type: 'error', error: { type, message }, request_id: requestId }, headers);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'request-id': newId('req_'),
    ...headers,
  });
  res.end(text);
}

// The statuses the real API pairs with its error types.
const STATUS_OF_ERROR_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

function defaultErrorMessage(type: string): string {
  if (type === 'overloaded_error') return 'Overloaded';
  if (type === 'api_error') return 'Internal server error';
  return type;
}

/** Runs of about three words, whitespace kept, so the pieces join back to the exact text. */
function wordChunks(text: string): string[] {
  const words = text.match(/\s*\S+\s*/g) ?? (text ? [text] : []);
  const chunks: string[] = [];
  for (let i = 0; i < words.length; i += 3) chunks.push(words.slice(i, i + 3).join(''));
  return chunks;
}

/** The real API opens a tool input with an empty piece, then sends the JSON in slices. */
function jsonPieces(json: string): string[] {
  const size = Math.max(1, Math.ceil(json.length / 3));
  const pieces = [''];
  for (let i = 0; i < json.length; i += size) pieces.push(json.slice(i, i + size));
  return pieces;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Ids shaped like the real ones: a prefix, '01', then 22 base-62 characters. */
function newId(prefix: string): string {
  const bytes = randomBytes(22);
  let id = `${prefix}01`;
  for (const byte of bytes) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return id;
}

function displayName(id: string): string {
  // 'claude-sonnet-4-5' → 'Claude Sonnet 4.5'; a trailing date stamp is not part of the name.
  const words = id.replace(/-\d{8}$/, '').split('-');
  const name = words.filter((w) => !/^\d+$/.test(w)).map((w) => w[0]?.toUpperCase() + w.slice(1));
  const version = words.filter((w) => /^\d+$/.test(w)).join('.');
  return version ? `${name.join(' ')} ${version}` : name.join(' ');
}
