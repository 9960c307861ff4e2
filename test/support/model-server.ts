/**
 * A local stand-in for the Anthropic Messages API: an HTTP server on 127.0.0.1 that the real
 * `@anthropic-ai/sdk` talks to through `baseURL`, answering with replies a test scripts. It is
 * the only sanctioned stand-in for the real API in tests, benchmarks and e2e.
 *
 * It must never answer in a shape the real API would not, nor accept a request the real API
 * would refuse: code that passes against it has to be code that could pass against the real
 * service. It never listens beyond 127.0.0.1 and never calls out to the network.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';

export type ScriptedBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string }
  | { type: 'tool_use'; id?: string; name: string; input: Record<string, unknown> };

export interface ScriptedMessage {
  content: ScriptedBlock[];
  stop_reason:
    | 'end_turn'
    | 'max_tokens'
    | 'stop_sequence'
    | 'tool_use'
    | 'pause_turn'
    | 'refusal'
    | 'model_context_window_exceeded';
  stop_sequence?: string;
  usage?: Partial<{
    input_tokens: number;
    output_tokens: number;
    cache_read_input_tokens: number;
    cache_creation_input_tokens: number;
  }>;
}

export type Reply =
  | {
      kind: 'message';
      message: ScriptedMessage;
      /** delay before each SSE frame (default 0); a non-streaming reply waits the sum of them */
      frameDelayMs?: number;
      /**
       * after this many frames, send `event: error` with this error type (e.g. 'overloaded_error',
       * 'api_error') and end the response. A non-streaming request gets that error as its HTTP
       * status instead (overloaded_error → 529, api_error → 500, …), as the real API does.
       * A count beyond the script's frames fires after the last one.
       */
      errorAfterFrames?: { frames: number; type: string; message?: string };
      /**
       * after this many frames, destroy the socket without ending the response (a dropped
       * connection). A non-streaming request is dropped before any response byte.
       */
      dropAfterFrames?: number;
    }
  | { kind: 'http-error'; status: number; type: string; message: string; retryAfterSeconds?: number };

export interface RecordedRequest {
  /** parsed JSON body as received */
  body: MessagesRequestBody;
  headers: Record<string, string | string[] | undefined>;
  /** performance.now() when the request's headers arrived (used by benchmarks: time to first request byte) */
  receivedAt: number;
  /** 0-based position in `ModelServer.requests`: requests refused before `respond` take no index */
  index: number;
}

export interface ModelServerOptions {
  respond: (request: RecordedRequest) => Reply | Promise<Reply>;
  /** ids returned by GET /v1/models, newest first */
  models?: string[];
  /**
   * when set, requests whose x-api-key differs get 401 authentication_error (when unset, any
   * non-empty key is accepted; a missing key is 401)
   */
  apiKey?: string;
}

export interface ModelServer {
  url: string;
  /** every /v1/messages request that reached `respond`, in arrival order */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

// Not claude-sonnet-4-5: the SDK prints a deprecation warning for every request naming it.
const DEFAULT_MODELS = ['claude-sonnet-4-6', 'claude-opus-4-5', 'claude-haiku-4-5'];
// The real API refuses bodies over 32 MB before looking at them.
const MAX_BODY_BYTES = 32 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Request shape. Lenient where the real API is open-ended (unknown fields and block types pass
// through), strict on the fields whose absence or wrong type the real API refuses.

const cacheControl = z.looseObject({ type: z.literal('ephemeral'), ttl: z.enum(['5m', '1h']).optional() }).nullish();

const textBlock = z.looseObject({ type: z.literal('text'), text: z.string(), cache_control: cacheControl });
const toolUseBlock = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string(),
  name: z.string(),
  input: z.record(z.string(), z.unknown()),
  cache_control: cacheControl,
});
const toolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string(),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional(),
  is_error: z.boolean().optional(),
  cache_control: cacheControl,
});
const thinkingBlock = z.looseObject({ type: z.literal('thinking'), thinking: z.string(), signature: z.string() });
const redactedThinkingBlock = z.looseObject({ type: z.literal('redacted_thinking'), data: z.string() });
const KNOWN_BLOCK_TYPES = new Set(['text', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking']);
// Images, documents, server-tool results…: the real API knows many more block types than the
// cross-message rules here need, so they are checked only for having a type. `abort` makes this
// branch fail hard on a known type, so the union reports that type's own schema issues instead.
const otherBlock = z.looseObject({ type: z.string().refine((type) => !KNOWN_BLOCK_TYPES.has(type), { abort: true }) });
const contentBlock = z.union([textBlock, toolUseBlock, toolResultBlock, thinkingBlock, redactedThinkingBlock, otherBlock]);

const messageParam = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(contentBlock)]),
});

const thinkingConfig = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('enabled'),
    budget_tokens: z.number().int().min(1024, 'Input should be greater than or equal to 1024'),
  }),
  z.looseObject({ type: z.literal('disabled') }),
  z.looseObject({ type: z.literal('adaptive') }),
  z.looseObject({ type: z.literal('between_tools') }),
]);

const messagesRequestBody = z.looseObject({
  model: z.string(),
  max_tokens: z.number().int().min(1, 'Input should be greater than or equal to 1'),
  messages: z.array(messageParam).min(1, 'at least one message is required'),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  tools: z.array(z.looseObject({ name: z.string(), type: z.string().optional(), cache_control: cacheControl })).optional(),
  tool_choice: z.looseObject({ type: z.string() }).optional(),
  thinking: thinkingConfig.optional(),
  stream: z.boolean().optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  metadata: z.looseObject({}).optional(),
});

export type MessagesRequestBody = z.infer<typeof messagesRequestBody>;
type ContentBlockParam = z.infer<typeof contentBlock>;

// ---------------------------------------------------------------------------------------------

export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const models = options.models ?? DEFAULT_MODELS;
  const requests: RecordedRequest[] = [];
  // One per response in flight, so close() can stop their frame timers instead of waiting them out.
  const inFlight = new Set<AbortController>();

  const server = createServer((req, res) => {
    const receivedAt = performance.now();
    const gone = new AbortController();
    inFlight.add(gone);
    res.on('close', () => {
      gone.abort();
      inFlight.delete(gone);
    });
    handle(req, res, receivedAt, gone.signal).catch((error: unknown) => {
      // A bug here must show up in the test that hit it, not as a hung request.
      if (gone.signal.aborted) return;
      if (!res.headersSent) {
        sendError(res, 500, 'api_error', `model-server failed: ${errorText(error)}`);
      } else {
        res.destroy();
      }
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, receivedAt: number, gone: AbortSignal): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = `${req.method} ${url.pathname}`;
    if (route !== 'POST /v1/messages' && route !== 'GET /v1/models') {
      return sendError(res, 404, 'not_found_error', 'Not Found');
    }
    if (raw === null) {
      return sendError(res, 413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes.');
    }
    const key = apiKeyOf(req);
    if (!key) return sendError(res, 401, 'authentication_error', 'x-api-key header is required');
    if (options.apiKey !== undefined && key !== options.apiKey) {
      return sendError(res, 401, 'authentication_error', 'invalid x-api-key');
    }
    if (!header(req, 'anthropic-version')) {
      return sendError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    }
    if (route === 'GET /v1/models') return sendModels(res, models, url.searchParams);

    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (error) {
      return sendError(res, 400, 'invalid_request_error', `There was an issue with your request body: ${errorText(error)}`);
    }
    const parsed = parseRequestBody(json);
    if (!parsed.ok) return sendError(res, 400, 'invalid_request_error', parsed.message);

    const recorded: RecordedRequest = {
      body: parsed.body,
      headers: { ...req.headers },
      receivedAt,
      index: requests.length,
    };
    requests.push(recorded);
    let reply: Reply;
    try {
      reply = await options.respond(recorded);
    } catch (error) {
      return sendError(res, 500, 'api_error', `model-server respond() threw: ${errorText(error)}`);
    }
    if (gone.aborted) return;

    if (reply.kind === 'http-error') {
      return sendError(res, reply.status, reply.type, reply.message, reply.retryAfterSeconds);
    }
    const estimatedInput = Math.max(1, Math.ceil(raw.length / 4));
    const frames = messageFrames(reply.message, parsed.body.model, estimatedInput);
    if (parsed.body.stream === true) {
      await streamFrames(res, frames, reply, gone);
    } else {
      await sendWhole(res, frames, reply, gone);
    }
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const response of inFlight) response.abort();
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Validation

type Parsed = { ok: true; body: MessagesRequestBody } | { ok: false; message: string };

function parseRequestBody(json: unknown): Parsed {
  const result = messagesRequestBody.safeParse(json, { reportInput: true });
  if (!result.success) return { ok: false, message: formatIssue(result.error.issues) };
  const message = crossFieldProblem(result.data);
  return message === null ? { ok: true, body: result.data } : { ok: false, message };
}

/** The first problem, worded like the real API: `path.to.field: what is wrong`. */
function formatIssue(issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[] = []): string {
  const issue = issues[0];
  if (!issue) return 'invalid request';
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union') {
    // A union fails in every branch; the one worth reporting is the branch of the right kind
    // (an array, not a string) and the right block `type`.
    const wrongKind = (e: z.core.$ZodIssue) => (e.path.length === 0 && e.code === 'invalid_type') || (e.path.length === 1 && e.path[0] === 'type');
    const branch = issue.errors.find((errors) => errors.length > 0 && !errors.some(wrongKind));
    if (branch) return formatIssue(branch, path);
  }
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  const where = path.length > 0 ? `${path.map(String).join('.')}: ` : '';
  return `${where}${missing ? 'Field required' : issue.message}`;
}

function crossFieldProblem(body: MessagesRequestBody): string | null {
  if (body.thinking?.type === 'enabled' && body.thinking.budget_tokens >= body.max_tokens) {
    return '`max_tokens` must be greater than `thinking.budget_tokens`';
  }
  const choiceProblem = toolChoiceProblem(body);
  if (choiceProblem !== null) return choiceProblem;
  const cached = countCacheControl(body);
  if (cached > 4) return `A maximum of 4 blocks with cache_control may be provided. Found ${cached}.`;
  return turnProblem(body.messages) ?? toolPairingProblem(body.messages.map((m) => blocksOf(m.content)));
}

/**
 * The real API's tool_choice rules: it needs tools; `tool` must name one of them; and forcing tool
 * use (`any` or `tool`) is refused while thinking is on (enabled or adaptive).
 */
function toolChoiceProblem(body: MessagesRequestBody): string | null {
  const choice = body.tool_choice;
  if (!choice) return null;
  if (!['auto', 'any', 'tool', 'none'].includes(choice.type)) return `tool_choice.type: Input tag '${choice.type}' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'`;
  if (choice.type !== 'none' && (body.tools ?? []).length === 0) return 'tool_choice may only be specified while providing tools.';
  if (choice.type === 'tool') {
    const name = (choice as { name?: unknown }).name;
    if (typeof name !== 'string') return 'tool_choice.tool.name: Field required';
    if (!(body.tools ?? []).some((tool) => tool.name === name)) return `tool_choice.tool.name: Tool '${name}' not found in the provided tools`;
  }
  const thinking = body.thinking?.type === 'enabled' || body.thinking?.type === 'adaptive';
  if (thinking && (choice.type === 'any' || choice.type === 'tool')) return 'Thinking may not be enabled when tool_choice forces tool use.';
  return null;
}

function countCacheControl(body: MessagesRequestBody): number {
  let count = 0;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (typeof value !== 'object' || value === null) return;
    const record = value as Record<string, unknown>;
    if (record['cache_control'] != null) count++;
    // Blocks inside a tool_result can carry their own breakpoints.
    if (Array.isArray(record['content'])) visit(record['content']);
  };
  visit(body.tools);
  visit(body.system);
  for (const message of body.messages) visit(message.content);
  return count;
}

function turnProblem(messages: MessagesRequestBody['messages']): string | null {
  if (messages[0]?.role !== 'user') return 'messages: first message must use the "user" role';
  for (let i = 1; i < messages.length; i++) {
    const role = messages[i]?.role;
    if (role === messages[i - 1]?.role) {
      return `messages: roles must alternate between "user" and "assistant", but found multiple "${role}" roles in a row`;
    }
  }
  return null;
}

/**
 * Every tool_use is answered, first thing, by the next message; every tool_result answers a
 * tool_use of the message just before it. Roles already alternate, so "next" is the other side.
 */
function toolPairingProblem(turns: ContentBlockParam[][]): string | null {
  const seen = new Set<string>();
  for (const [i, blocks] of turns.entries()) {
    for (const [j, block] of blocks.entries()) {
      if (!isToolUse(block)) continue;
      if (seen.has(block.id)) return `messages.${i}.content.${j}: \`tool_use\` ids must be unique`;
      seen.add(block.id);
    }

    const askedBefore = new Set((turns[i - 1] ?? []).filter(isToolUse).map((b) => b.id));
    let otherContentSeen = false;
    for (const [j, block] of blocks.entries()) {
      if (!isToolResult(block)) {
        otherContentSeen = true;
        continue;
      }
      if (!askedBefore.has(block.tool_use_id)) {
        return `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${block.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
      if (otherContentSeen) {
        return `messages.${i}.content.${j}: \`tool_result\` blocks must come first in the message content, before any other content`;
      }
    }

    const answered = new Set((turns[i + 1] ?? []).filter(isToolResult).map((b) => b.tool_use_id));
    const unanswered = blocks.filter(isToolUse).map((b) => b.id).filter((id) => !answered.has(id));
    if (unanswered.length > 0) {
      return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${unanswered.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
    }
  }
  return null;
}

function blocksOf(content: string | ContentBlockParam[]): ContentBlockParam[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

function isToolUse(block: ContentBlockParam): block is z.infer<typeof toolUseBlock> {
  return block.type === 'tool_use';
}

function isToolResult(block: ContentBlockParam): block is z.infer<typeof toolResultBlock> {
  return block.type === 'tool_result';
}

// ---------------------------------------------------------------------------------------------
// Replies

interface Frame {
  event: string;
  data: Record<string, unknown>;
}

/** The SSE frames the real API would send for this message; the whole message is their sum. */
function messageFrames(script: ScriptedMessage, model: string, estimatedInput: number): Frame[] {
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

async function streamFrames(res: ServerResponse, frames: Frame[], reply: Extract<Reply, { kind: 'message' }>, gone: AbortSignal): Promise<void> {
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

async function sendWhole(res: ServerResponse, frames: Frame[], reply: Extract<Reply, { kind: 'message' }>, gone: AbortSignal): Promise<void> {
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

function sendModels(res: ServerResponse, ids: string[], query: URLSearchParams): void {
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
    const end = Math.max(0, all.findIndex((m) => m.id === beforeId));
    page = all.slice(Math.max(0, end - limit), end);
    hasMore = end - limit > 0;
  } else {
    const start = afterId === null ? 0 : all.findIndex((m) => m.id === afterId) + 1;
    page = start === 0 && afterId !== null ? [] : all.slice(start, start + limit);
    hasMore = start + limit < all.length;
  }
  sendJson(res, 200, { data: page, has_more: hasMore, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null });
}

function sendError(res: ServerResponse, status: number, type: string, message: string, retryAfterSeconds?: number): void {
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

// ---------------------------------------------------------------------------------------------
// Helpers

/** Null when the body is over the real API's size limit. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Keep reading so the connection stays usable, but stop holding on to the bytes.
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8');
}

/** The SDK (1.x) sends its key as `Authorization: Bearer …`; older clients and curl use x-api-key. */
function apiKeyOf(req: IncomingMessage): string | undefined {
  const bearer = /^Bearer (.+)$/i.exec(header(req, 'authorization') ?? '');
  return header(req, 'x-api-key') || bearer?.[1];
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
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

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
