import { randomUUID } from 'node:crypto';
/**
 * One streamed model call through `@anthropic-ai/sdk`: turns the SSE frames into completed blocks,
 * reports live deltas, and classifies failures (retry, fix the key, give up, user abort) so the
 * harness can record them. Stream frames are checked with zod: an Anthropic-compatible endpoint
 * is a trust boundary.
 *
 * It must never retry by itself (the harness records each retry in the log) and never store
 * anything.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsStreaming } from '@anthropic-ai/sdk/resources/messages';
import { z } from 'zod';
import type { Usage } from '#shared/events';
import type { LiveUpdate } from '#shared/harness';

export type CompletedBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown>; inputError?: string };

export interface ModelResponse {
  blocks: CompletedBlock[];
  /**
   * Beside each block, the id its stored event will have (text and thinking: the id the live
   * `block_start` promised, so an API client's preview and the stored event are one event).
   */
  eventIds?: Array<string | undefined>;
  stopReason: string | null;
  usage: Usage;
}

export type FailureKind = 'retryable' | 'authentication' | 'fatal' | 'aborted';

/** A failed call, with what had completed before it failed (kept when the user interrupted). */
export class ModelCallError extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly errorType: string,
    message: string,
    readonly partial: ModelResponse,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ModelCallError';
  }
}

const usageFields = {
  input_tokens: z.number().int().nonnegative().nullish(),
  output_tokens: z.number().int().nonnegative().nullish(),
  cache_read_input_tokens: z.number().int().nonnegative().nullish(),
  cache_creation_input_tokens: z.number().int().nonnegative().nullish(),
};
const UsageFrame = z.looseObject(usageFields);

const StreamFrame = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('message_start'), message: z.looseObject({ usage: UsageFrame }) }),
  z.looseObject({
    type: z.literal('content_block_start'),
    index: z.number().int().nonnegative(),
    content_block: z.looseObject({ type: z.string(), id: z.string().optional(), name: z.string().optional(), data: z.string().optional() }),
  }),
  z.looseObject({
    type: z.literal('content_block_delta'),
    index: z.number().int().nonnegative(),
    delta: z.looseObject({
      type: z.string(),
      text: z.string().optional(),
      thinking: z.string().optional(),
      signature: z.string().optional(),
      partial_json: z.string().optional(),
    }),
  }),
  z.looseObject({ type: z.literal('content_block_stop'), index: z.number().int().nonnegative() }),
  z.looseObject({
    type: z.literal('message_delta'),
    delta: z.looseObject({ stop_reason: z.string().nullish() }),
    usage: UsageFrame.nullish(),
  }),
  z.looseObject({ type: z.literal('message_stop') }),
  z.looseObject({ type: z.literal('ping') }),
]);

interface OpenBlock {
  type: string;
  text: string;
  signature: string;
  json: string;
  id: string;
  name: string;
  done: boolean;
  /** Text and thinking blocks: the id promised in the live `block_start`. */
  eventId: string | undefined;
}

export interface StreamOptions {
  signal: AbortSignal;
  onLive?: (update: LiveUpdate) => void;
}

/** Streams one response to completion, or throws a ModelCallError. */
export async function streamMessage(
  client: Anthropic,
  params: MessageCreateParamsStreaming,
  options: StreamOptions,
): Promise<ModelResponse> {
  const live = options.onLive ?? (() => undefined);
  const blocks = new Map<number, OpenBlock>();
  const usage: Usage = { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
  let stopReason: string | null = null;
  let stopped = false;
  const snapshot = (final: boolean): ModelResponse => ({
    ...completedBlocks(blocks, final, stopReason),
    stopReason,
    usage: { ...usage },
  });

  try {
    const stream = await client.messages.create(params, { signal: options.signal });
    live({ type: 'response_start', model: params.model });
    for await (const raw of stream) {
      // Deltas are nearly every frame: checked by hand (same rules as the schema), the rest by zod.
      const delta = deltaFrame(raw);
      if (delta !== null) {
        const block = blocks.get(delta.index);
        if (block) applyDelta(block, delta, live);
        continue;
      }
      const parsed = StreamFrame.safeParse(raw);
      if (!parsed.success) {
        const type = (raw as { type?: unknown }).type;
        if (typeof type === 'string' && !StreamFrame.options.some((option) => option.shape.type.value === type)) continue; // a frame type this build does not use
        throw new ModelCallError(
          'fatal',
          'invalid_response',
          `The model endpoint sent a malformed ${String(type)} frame.`,
          snapshot(false),
        );
      }
      const frame = parsed.data;
      switch (frame.type) {
        case 'message_start':
          addUsage(usage, frame.message.usage);
          break;
        case 'content_block_start': {
          const start = frame.content_block;
          const eventId =
            start.type === 'text' || start.type === 'thinking' || start.type === 'redacted_thinking' ? randomUUID() : undefined;
          blocks.set(frame.index, {
            type: start.type,
            text: start.data ?? '',
            signature: '',
            json: '',
            id: start.id ?? '',
            name: start.name ?? '',
            done: false,
            eventId,
          });
          if (start.type === 'text' || start.type === 'thinking' || start.type === 'redacted_thinking' || start.type === 'tool_use') {
            live({
              type: 'block_start',
              index: frame.index,
              block: start.type,
              ...(start.name ? { name: start.name } : {}),
              ...(eventId === undefined ? {} : { event_id: eventId }),
            });
          }
          break;
        }
        case 'content_block_delta': {
          const block = blocks.get(frame.index);
          if (block) applyDelta(block, { index: frame.index, type: frame.delta.type, value: deltaValue(frame.delta) }, live);
          break;
        }
        case 'content_block_stop': {
          const block = blocks.get(frame.index);
          if (block) block.done = true;
          break;
        }
        case 'message_delta':
          if (frame.delta.stop_reason !== undefined) stopReason = frame.delta.stop_reason;
          if (frame.usage) addUsage(usage, frame.usage);
          break;
        case 'message_stop':
          stopped = true;
          break;
        default:
          break;
      }
    }
  } catch (error) {
    throw classify(error, snapshot(false), options.signal);
  }
  // The SDK ends the iteration quietly when its signal aborts; that is the user's interrupt.
  if (!stopped && options.signal.aborted) throw new ModelCallError('aborted', 'aborted', 'The request was stopped.', snapshot(false));
  if (!stopped) {
    throw new ModelCallError(
      'retryable',
      'incomplete_response',
      'The connection closed before the response was complete.',
      snapshot(false),
    );
  }
  return snapshot(true);
}

interface Delta {
  index: number;
  type: string;
  value: string | undefined;
}

const DELTA_FIELD: Readonly<Record<string, 'text' | 'thinking' | 'signature' | 'partial_json'>> = {
  text_delta: 'text',
  thinking_delta: 'thinking',
  signature_delta: 'signature',
  input_json_delta: 'partial_json',
};

/** A well-formed content_block_delta frame of a known kind, or null (zod then judges the frame). */
function deltaFrame(raw: unknown): Delta | null {
  const frame = raw as { type?: unknown; index?: unknown; delta?: { type?: unknown } & Record<string, unknown> };
  if (frame.type !== 'content_block_delta' || !Number.isInteger(frame.index) || (frame.index as number) < 0) return null;
  const type = frame.delta?.type;
  if (typeof type !== 'string') return null;
  const field = DELTA_FIELD[type];
  if (field === undefined) return null;
  const value = frame.delta?.[field];
  return typeof value === 'string' ? { index: frame.index as number, type, value } : null;
}

function deltaValue(delta: Record<string, unknown> & { type: string }): string | undefined {
  const field = DELTA_FIELD[delta.type];
  const value = field === undefined ? undefined : delta[field];
  return typeof value === 'string' ? value : undefined;
}

function applyDelta(block: OpenBlock, delta: Delta, live: (update: LiveUpdate) => void): void {
  const { value, index } = delta;
  if (value === undefined) return;
  switch (delta.type) {
    case 'text_delta':
      block.text += value;
      live({ type: 'delta', index, kind: 'text', text: value });
      break;
    case 'thinking_delta':
      block.text += value;
      live({ type: 'delta', index, kind: 'thinking', text: value });
      break;
    case 'signature_delta':
      block.signature += value;
      break;
    case 'input_json_delta':
      block.json += value;
      live({ type: 'delta', index, kind: 'input_json', text: value });
      break;
  }
}

/** message_start carries input and cache counts; message_delta carries cumulative counts. */
function addUsage(usage: Usage, frame: z.infer<typeof UsageFrame>): void {
  if (typeof frame.input_tokens === 'number') usage.input_tokens = frame.input_tokens;
  if (typeof frame.output_tokens === 'number') usage.output_tokens = frame.output_tokens;
  if (typeof frame.cache_read_input_tokens === 'number') usage.cache_read_input_tokens = frame.cache_read_input_tokens;
  if (typeof frame.cache_creation_input_tokens === 'number') usage.cache_creation_input_tokens = frame.cache_creation_input_tokens;
}

/**
 * The blocks to keep. A complete response keeps every finished block, except a tool use cut off by
 * max_tokens (its input is incomplete). An aborted one keeps finished blocks and the text so far;
 * unfinished thinking (no signature) and tool uses are dropped — they cannot be sent back.
 */
function completedBlocks(
  blocks: Map<number, OpenBlock>,
  final: boolean,
  stopReason: string | null,
): { blocks: CompletedBlock[]; eventIds: Array<string | undefined> } {
  const out: CompletedBlock[] = [];
  const eventIds: Array<string | undefined> = [];
  const keep = (block: CompletedBlock, eventId: string | undefined) => {
    out.push(block);
    eventIds.push(eventId);
  };
  const indexes = [...blocks.keys()].sort((a, b) => a - b);
  for (const index of indexes) {
    const block = blocks.get(index) as OpenBlock;
    if (block.type === 'text') {
      if (block.text !== '') keep({ type: 'text', text: block.text }, block.eventId);
    } else if (block.type === 'thinking') {
      if (block.done && block.signature !== '') keep({ type: 'thinking', thinking: block.text, signature: block.signature }, block.eventId);
    } else if (block.type === 'redacted_thinking') {
      if (block.text !== '') keep({ type: 'redacted_thinking', data: block.text }, block.eventId);
    } else if (block.type === 'tool_use' && block.done) {
      const isLast = index === indexes.at(-1);
      const parsed = parseToolInput(block.json);
      if ('error' in parsed && final && stopReason === 'max_tokens' && isLast) continue;
      keep(
        'error' in parsed
          ? { type: 'tool_use', id: block.id, name: block.name, input: {}, inputError: parsed.error }
          : { type: 'tool_use', id: block.id, name: block.name, input: parsed.input },
        undefined,
      );
    }
  }
  return { blocks: out, eventIds };
}

function parseToolInput(json: string): { input: Record<string, unknown> } | { error: string } {
  if (json.trim() === '') return { input: {} };
  try {
    const value: unknown = JSON.parse(json);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return { input: value as Record<string, unknown> };
    return { error: `the tool input must be a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}` };
  } catch (error) {
    return { error: `the tool input is not valid JSON (${error instanceof Error ? error.message : String(error)}): ${json.slice(0, 200)}` };
  }
}

const RETRYABLE_TYPES = new Set(['overloaded_error', 'api_error', 'rate_limit_error', 'timeout_error']);

function classify(error: unknown, partial: ModelResponse, signal: AbortSignal): ModelCallError {
  if (error instanceof ModelCallError) return error;
  if (error instanceof Anthropic.APIUserAbortError || signal.aborted) {
    return new ModelCallError('aborted', 'aborted', 'The request was stopped.', partial);
  }
  if (error instanceof Anthropic.APIConnectionError) {
    return new ModelCallError('retryable', 'connection_error', `Could not reach the model endpoint: ${error.message}`, partial);
  }
  if (error instanceof Anthropic.APIError) {
    const status = typeof error.status === 'number' ? error.status : undefined;
    const type = error.type ?? (status === undefined ? 'api_error' : `http_${status}`);
    const message = error.apiMessage ?? error.message;
    const retryAfter = retryAfterMs(error.headers);
    if (status === 401 || status === 403 || type === 'authentication_error' || type === 'permission_error') {
      return new ModelCallError('authentication', type, message, partial, status);
    }
    if (
      status === 408 ||
      status === 409 ||
      status === 429 ||
      (status !== undefined && status >= 500) ||
      (status === undefined && RETRYABLE_TYPES.has(type))
    ) {
      return new ModelCallError('retryable', type, message, partial, status, retryAfter);
    }
    return new ModelCallError('fatal', type, message, partial, status);
  }
  // Anything else is a network-level failure surfaced outside the SDK's classes (e.g. a socket
  // reset while the body streams); the request can be sent again.
  return new ModelCallError(
    'retryable',
    'connection_error',
    `The connection failed: ${error instanceof Error ? error.message : String(error)}`,
    partial,
  );
}

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const value = headers?.get('retry-after-ms') ?? undefined;
  if (value !== undefined && Number.isFinite(Number(value))) return Number(value);
  const seconds = headers?.get('retry-after');
  if (seconds === null || seconds === undefined) return undefined;
  if (Number.isFinite(Number(seconds))) return Number(seconds) * 1000;
  const date = Date.parse(seconds);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}
