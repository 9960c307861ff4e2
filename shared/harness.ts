/**
 * The brain's contract with the UI: live (unstored) stream updates, usage totals and the model
 * list. Pure data + zod; must never import node, electron or DOM code.
 */
import { z } from 'zod';

/**
 * A live update from a model response in progress. Pushed to subscribers as it streams and never
 * stored: when the response completes, its blocks are stored as events and `response_end` says so.
 */
export const LiveUpdateSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('response_start'), model: z.string() }),
  z.strictObject({
    type: z.literal('block_start'),
    index: z.number().int().nonnegative(),
    block: z.enum(['text', 'thinking', 'redacted_thinking', 'tool_use']),
    name: z.string().optional(),
    /** For text and thinking blocks: the id the stored event (`agent.message` / `agent.thinking`) will have. */
    event_id: z.uuid().optional(),
  }),
  z.strictObject({
    type: z.literal('delta'),
    index: z.number().int().nonnegative(),
    kind: z.enum(['text', 'thinking', 'input_json']),
    text: z.string(),
  }),
  /** The response is complete and stored; drop the live copy. */
  z.strictObject({ type: z.literal('response_end') }),
  /** The response failed mid-stream and was not stored; the text shown so far is void. */
  z.strictObject({ type: z.literal('response_discarded'), reason: z.string() }),
  /** A tool is running; `text` is output so far (e.g. a shell's stdout), when the hand streams it. */
  z.strictObject({ type: z.literal('tool_progress'), tool_use_id: z.string(), text: z.string() }),
]);
export type LiveUpdate = z.infer<typeof LiveUpdateSchema>;

const tokens = z.number().int().nonnegative();

/** Token totals of a session's model requests and their estimated cost. */
export const SessionUsageSchema = z.strictObject({
  requests: z.number().int().nonnegative(),
  input_tokens: tokens,
  output_tokens: tokens,
  cache_read_input_tokens: tokens,
  cache_creation_input_tokens: tokens,
  /** Estimated cost in US dollars of the requests whose model has a known price. */
  cost_usd: z.number().nonnegative(),
  /** Models used whose price Drover does not know (their tokens are not in `cost_usd`). */
  unpriced_models: z.array(z.string()),
});
export type SessionUsage = z.infer<typeof SessionUsageSchema>;

export const ModelInfoSchema = z.strictObject({
  id: z.string(),
  displayName: z.string(),
});
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

export const ModelListSchema = z.strictObject({
  models: z.array(ModelInfoSchema),
  defaultModel: z.string(),
  /** Why the list is the built-in one instead of the API's (no key, unreachable, …), or null. */
  fallbackReason: z.string().nullable(),
});
export type ModelList = z.infer<typeof ModelListSchema>;
