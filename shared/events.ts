/**
 * The session event contract: every event type a session log may hold, with its payload schema.
 *
 * Names follow Claude Managed Agents' session events so logs read familiarly and can be exported
 * and imported; Drover's own additions carry their own prefix (`hand.*`, `session.forked`).
 * This module is pure data + zod: it must never import node, electron or DOM code.
 */
import { z } from 'zod';
import { HandConfigSchema } from './hands.ts';
import {
  BudgetSchema,
  EvaluatedPermissionSchema,
  PolicyEntrySchema,
  RuleEntrySchema,
  RuleIdSchema,
  ToolConfirmationSchema,
} from './guardrails.ts';
import { SessionThreadIdSchema, threadEventPayloadSchemas, threadScoped } from './threads.ts';
import { TerminalEndSchema, TerminalIdSchema } from './terminals.ts';

export { SessionThreadIdSchema, threadScoped } from './threads.ts';

const tokenCount = z.number().int().nonnegative();

/** A text block, as in the Messages API. */
export const TextBlockSchema = z.strictObject({
  type: z.literal('text'),
  text: z.string(),
});

/** An image block, as in the Messages API (base64 source only: URLs would be fetched by a hand). */
export const ImageBlockSchema = z.strictObject({
  type: z.literal('image'),
  source: z.strictObject({
    type: z.literal('base64'),
    media_type: z.enum(['image/png', 'image/jpeg', 'image/gif', 'image/webp']),
    data: z.string().min(1),
  }),
});

export const ContentBlockSchema = z.discriminatedUnion('type', [TextBlockSchema, ImageBlockSchema]);
export type ContentBlock = z.infer<typeof ContentBlockSchema>;

export const UsageSchema = z.strictObject({
  input_tokens: tokenCount,
  output_tokens: tokenCount,
  cache_read_input_tokens: tokenCount,
  cache_creation_input_tokens: tokenCount,
});
export type Usage = z.infer<typeof UsageSchema>;

/** Why a session went idle. Model stop reasons plus the harness's own. */
export const IdleStopReasonSchema = z.enum([
  'end_turn',
  'max_tokens',
  'pause_turn',
  'refusal',
  'stop_sequence',
  'model_context_window_exceeded',
  'interrupted',
  'retries_exhausted',
  'authentication_failed',
  'error',
]);
export type IdleStopReason = z.infer<typeof IdleStopReasonSchema>;

/**
 * `session.status_idle`'s stop reason. Managed Agents' shapes: a plain reason (every one Drover
 * recorded before guardrails), `requires_action` naming the tool use events that wait for the
 * user's `user.tool_confirmation` (the `agent.tool_use` / `agent.mcp_tool_use` event ids), and
 * `budget_reached`. Every variant may carry a `message`, so readers that show `{type, message}`
 * read them all alike.
 */
export const StopReasonSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: IdleStopReasonSchema, message: z.string().optional() }),
  z.strictObject({
    type: z.literal('requires_action'),
    event_ids: z.array(z.string().min(1).max(256)).min(1).max(512),
    message: z.string().optional(),
  }),
  z.strictObject({ type: z.literal('budget_reached'), message: z.string().optional() }),
]);
export type StopReason = z.output<typeof StopReasonSchema>;

export const OutcomeResultSchema = z.enum(['needs_revision', 'satisfied', 'max_iterations_reached', 'failed', 'interrupted']);

/**
 * An outcome: what the agent's work must achieve, judged by a separate grader call each time the
 * agent ends a turn. `needs_revision` sends the grader's feedback back as the next turn, at most
 * `max_iterations` evaluations in all. `verification` optionally runs a command on one of the
 * session's hands before each evaluation; its output is part of the evidence.
 */
/** The outcome schema's limits, exported so that a form can say them before asking. */
export const OUTCOME_LIMITS = {
  descriptionChars: 20_000,
  rubricChars: 100_000,
  maxIterations: 20,
  defaultIterations: 3,
  verifyCommandChars: 4000,
} as const;

export const OutcomeDefinitionSchema = z.strictObject({
  description: z.string().trim().min(1, 'describe the outcome').max(OUTCOME_LIMITS.descriptionChars),
  rubric: z.string().max(OUTCOME_LIMITS.rubricChars).default(''),
  max_iterations: z
    .number()
    .int()
    .min(1, 'at least 1 iteration')
    .max(OUTCOME_LIMITS.maxIterations, `at most ${OUTCOME_LIMITS.maxIterations} iterations`)
    .default(OUTCOME_LIMITS.defaultIterations),
  /** The model the grader asks; null: the session's model at the time of each check. */
  grader_model: z.string().trim().min(1, 'choose a model').max(200).nullable().default(null),
  verification: z
    .strictObject({
      hand_id: z.string().min(1).max(128),
      command: z.string().trim().min(1, 'give the command to run').max(OUTCOME_LIMITS.verifyCommandChars),
    })
    .optional(),
});
export type OutcomeDefinition = z.output<typeof OutcomeDefinitionSchema>;
export type OutcomeDefinitionInput = z.input<typeof OutcomeDefinitionSchema>;
export type OutcomeResult = z.infer<typeof OutcomeResultSchema>;

/** The grader's judgement of one rubric criterion. */
export const OutcomeCriterionSchema = z.strictObject({
  criterion: z.string().max(2000),
  met: z.boolean(),
  note: z.string().max(10_000),
});

/**
 * Why a model request was made: a turn of the conversation, a compaction summary, or an outcome
 * grading. Only `turn` responses are part of the conversation.
 */
export const ModelRequestPurposeSchema = z.enum(['turn', 'compaction', 'grading']);
export type ModelRequestPurpose = z.infer<typeof ModelRequestPurposeSchema>;

/**
 * A session's model settings. Recorded in the log as `session.configured` (the latest wins), so
 * forks inherit them and changes are part of the session's history.
 */
/** The settings schema's limits, exported so that a form can say them before asking. */
export const SETTINGS_LIMITS = { maxTokens: 128_000, minThinkingBudget: 1024 } as const;

const settingsFields = {
  model: z.string().trim().min(1, 'choose a model').max(200),
  max_tokens: z.number().int().min(1).max(SETTINGS_LIMITS.maxTokens),
  system: z.string().max(400_000),
  /** Extended thinking budget in tokens (≥ 1024, below max_tokens), or null for no thinking. */
  thinking_budget: z
    .number()
    .int()
    .min(SETTINGS_LIMITS.minThinkingBudget, `a thinking budget is at least ${SETTINGS_LIMITS.minThinkingBudget} tokens`)
    .nullable(),
  /** Input tokens the context builder keeps each request under; null: from the model's window. */
  context_budget: z.number().int().min(1_000).max(2_000_000).nullable(),
};

export const SessionSettingsSchema = z
  .strictObject({
    ...settingsFields,
    system: settingsFields.system.default(''),
    thinking_budget: settingsFields.thinking_budget.default(null),
    context_budget: settingsFields.context_budget.default(null),
  })
  .refine((s) => s.thinking_budget === null || s.thinking_budget < s.max_tokens, {
    message: 'the thinking budget must be below max_tokens',
    path: ['thinking_budget'],
  });
/** A change to some settings; merged over the current ones and then checked as a whole. */
export const SessionSettingsChangesSchema = z.strictObject(settingsFields).partial();
export type SessionSettings = z.output<typeof SessionSettingsSchema>;

const toolUseId = z.string().min(1).max(256);
const handId = z.string().min(1).max(128);
const jsonObject = z.record(z.string(), z.unknown());

/** The custom tools' limits, exported so that a form (or the API) can say them before asking. */
export const CUSTOM_TOOL_LIMITS = { tools: 64, descriptionChars: 10_000, schemaChars: 100_000, resultBlocks: 100 } as const;

/**
 * A custom tool's name, as Managed Agents and the Messages API take it: 1-128 letters, digits,
 * underscores and hyphens. Never `__`, which a hand's tools use between the hand and the tool, so a
 * custom tool can never take a hand tool's name.
 */
export const CustomToolNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, 'a custom tool name is 1-128 letters, digits, underscores and hyphens')
  .refine((name) => !name.includes('__'), 'a custom tool name may not contain "__" (hand tools use it: `<hand>__<tool>`)');

/**
 * A custom tool (Managed Agents' `{type: 'custom', name, description, input_schema}` without its
 * `type`): offered to the model like a hand's tool, but run by the program that drives the session,
 * which answers each call with a `user.custom_tool_result`.
 */
export const CustomToolSchema = z.strictObject({
  name: CustomToolNameSchema,
  description: z
    .string()
    .max(CUSTOM_TOOL_LIMITS.descriptionChars, `a description is at most ${CUSTOM_TOOL_LIMITS.descriptionChars} characters`),
  input_schema: z
    .looseObject({
      type: z.literal('object', 'a tool\'s input_schema is a JSON schema of an object: {"type": "object", ...}'),
      properties: z.record(z.string(), z.unknown()).nullable().optional(),
      required: z.array(z.string()).nullable().optional(),
    })
    .refine(
      (schema) => JSON.stringify(schema).length <= CUSTOM_TOOL_LIMITS.schemaChars,
      `an input_schema is at most ${CUSTOM_TOOL_LIMITS.schemaChars} characters of JSON`,
    ),
});
export type CustomTool = z.output<typeof CustomToolSchema>;

/** A session's custom tools: at most 64, each name once. */
export const CustomToolsSchema = z
  .array(CustomToolSchema)
  .max(CUSTOM_TOOL_LIMITS.tools, `a session has at most ${CUSTOM_TOOL_LIMITS.tools} custom tools`)
  .refine(
    (tools) => new Set(tools.map((tool) => tool.name)).size === tools.length,
    'two custom tools have the same name: give each its own',
  );

/** Payload schema of every event type. The keys are the event type names. */
export const eventPayloadSchemas = {
  'user.message': threadScoped({
    content: z.array(ContentBlockSchema).min(1),
  }),
  'user.interrupt': threadScoped({
    reason: z.string().optional(),
  }),
  /** What "done" means for the session's next turns; a later one replaces it (see OutcomeDefinitionSchema). */
  'user.define_outcome': OutcomeDefinitionSchema,
  'agent.message': threadScoped({
    content: z.array(TextBlockSchema),
  }),
  'agent.thinking': z.union([
    threadScoped({ thinking: z.string(), signature: z.string() }),
    threadScoped({ redacted: z.literal(true), data: z.string() }),
  ]),
  'agent.tool_use': threadScoped({
    tool_use_id: toolUseId,
    name: z.string().min(1).max(128),
    input: jsonObject,
    hand_id: handId.optional(),
    /** What the session's policies said when the model asked (absent in older logs: `allow`). */
    evaluated_permission: EvaluatedPermissionSchema.optional(),
  }),
  'agent.tool_result': threadScoped({
    tool_use_id: toolUseId,
    content: z.array(ContentBlockSchema),
    is_error: z.boolean(),
    /** `interrupted`: the run was cut off (interrupt, crash); it was not re-run. */
    status: z.enum(['completed', 'interrupted', 'timed_out']).default('completed'),
    duration_ms: z.number().nonnegative().optional(),
  }),
  /**
   * A tool use addressed to an MCP server hand. `name` is the name the model called (`<hand>__…`,
   * API-safe); `server_name` is the hand's name.
   */
  'agent.mcp_tool_use': threadScoped({
    tool_use_id: toolUseId,
    server_name: z.string().min(1),
    name: z.string().min(1),
    input: jsonObject,
    /** As for `agent.tool_use`. */
    evaluated_permission: EvaluatedPermissionSchema.optional(),
  }),
  'agent.mcp_tool_result': threadScoped({
    tool_use_id: toolUseId,
    content: z.array(ContentBlockSchema),
    structured_content: jsonObject.optional(),
    is_error: z.boolean(),
    /** As for `agent.tool_result`: `interrupted` also when the server crashed during the call. */
    status: z.enum(['completed', 'interrupted', 'timed_out']).default('completed'),
    duration_ms: z.number().nonnegative().optional(),
  }),
  'agent.thread_context_compacted': threadScoped({
    summary: z.string(),
    /** The last event seq the summary stands for. */
    through_seq: z.number().int().nonnegative(),
    tokens_before: tokenCount.optional(),
    tokens_after: tokenCount.optional(),
  }),
  'session.status_running': z.strictObject({}),
  'session.status_idle': z.strictObject({
    stop_reason: StopReasonSchema,
  }),
  'session.status_terminated': z.strictObject({
    reason: z.string(),
  }),
  'session.error': threadScoped({
    error: z.strictObject({
      type: z.string().min(1),
      message: z.string(),
      status: z.number().int().optional(),
    }),
    retry_status: z.discriminatedUnion('type', [
      z.strictObject({
        type: z.literal('retrying'),
        attempt: z.number().int().positive(),
        delay_ms: z.number().nonnegative(),
      }),
      z.strictObject({ type: z.literal('exhausted') }),
      z.strictObject({ type: z.literal('terminal') }),
    ]),
  }),
  'span.model_request_start': threadScoped({
    model: z.string().min(1),
    purpose: ModelRequestPurposeSchema.default('turn'),
  }),
  'span.model_request_end': threadScoped({
    model: z.string().min(1),
    purpose: ModelRequestPurposeSchema.default('turn'),
    usage: UsageSchema,
    stop_reason: z.string().nullable(),
    is_error: z.boolean(),
    duration_ms: z.number().nonnegative(),
  }),
  'span.outcome_evaluation_start': z.strictObject({
    iteration: z.number().int().positive(),
  }),
  'span.outcome_evaluation_end': z.strictObject({
    iteration: z.number().int().positive(),
    result: OutcomeResultSchema,
    /** The grader's reasoning in words; for `needs_revision`, the feedback the next turn receives. */
    explanation: z.string(),
    /** The grader's judgement of each rubric criterion, when it got that far. */
    criteria: z.array(OutcomeCriterionSchema).max(100).optional(),
    /** The verification command's run for this evaluation (its output as the grader saw it). */
    verification: z
      .strictObject({ hand_id: z.string().min(1).max(128), command: z.string(), output: z.string(), is_error: z.boolean() })
      .optional(),
  }),
  'hand.provisioning': z.strictObject({
    hand_id: handId,
    phase: z.enum(['pulling', 'building', 'creating', 'starting', 'connecting', 'restoring', 'cloning']),
    message: z.string().optional(),
    progress: z.strictObject({ current: z.number().nonnegative(), total: z.number().nonnegative() }).optional(),
  }),
  'hand.ready': z.strictObject({
    hand_id: handId,
    detail: z.string().optional(),
    /** The container (short id) or machine the hand runs on. */
    container: z.string().optional(),
    /** The image it started from (a snapshot's, when restored). */
    image: z.string().optional(),
    /** The snapshot whose files it started with: taken by `session_id` at event `at_seq`. */
    restored_from: z.strictObject({ session_id: z.string().min(1), at_seq: z.number().int().nonnegative() }).optional(),
  }),
  'hand.lost': z.strictObject({
    hand_id: handId,
    reason: z.string(),
  }),
  /** A hand could not start; the next tool call tries again. */
  'hand.failed': z.strictObject({
    hand_id: handId,
    message: z.string(),
  }),
  /** A hand was added to the session (forks inherit it). The model sees its tools from the next request. */
  'hand.attached': z.strictObject({
    hand_id: handId,
    config: HandConfigSchema,
  }),
  'hand.detached': z.strictObject({
    hand_id: handId,
  }),
  /**
   * The hand's files at the end of the turn whose idle event is `at_seq` (a layered image). A fork
   * or rewind at event N starts from the latest snapshot at or before N.
   */
  'hand.snapshot': z.strictObject({
    hand_id: handId,
    at_seq: z.number().int().positive(),
    image: z.string().min(1),
    /** Bytes the snapshot added on disk (the container's changes since it started). */
    bytes: z.number().int().nonnegative(),
    duration_ms: z.number().nonnegative(),
  }),
  /**
   * The hand's files after the tool call answered by event `at_seq` (issue 20): a content-addressed
   * manifest of the container's differences from its image (`base`), storing only what changed
   * since `parent`. A fork or rewind at event N restores the last checkpoint at or before N.
   */
  'hand.checkpoint': threadScoped({
    hand_id: handId,
    at_seq: z.number().int().positive(),
    manifest: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 manifest id'),
    parent: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .nullable(),
    /** The image the container started from: a checkpoint is laid over it. */
    base: z.string().min(1),
    /** The container's clock (seconds) at capture: the next capture reads what changed at or after it. */
    captured_at: z.number().nonnegative(),
    changed_paths: z.number().int().nonnegative(),
    bytes_stored: z.number().int().nonnegative(),
    duration_ms: z.number().nonnegative(),
    /**
     * Recorded by a rewind that kept one side (`sessions-rewind` with `keep`): 'conversation' — this
     * new branch's files are the ones the branch it left had (`session_id`'s latest checkpoint, of its
     * tool call `at_seq`); 'files' — the conversation stayed and the files went back to event
     * `at_seq` of this session's view. Forks and wakes restore it like any checkpoint.
     */
    rewind: z
      .strictObject({ keep: z.enum(['conversation', 'files']), session_id: z.string().min(1), at_seq: z.number().int().nonnegative() })
      .optional(),
  }),
  /**
   * Storage retention (issue 20 item 5) thinned some of this session's own checkpoints of a hand:
   * the `hand.checkpoint` events at these `at_seqs` (their `manifests`, same order) no longer count
   * — a fork or rewind at their events restores the nearest kept earlier checkpoint — and the blobs
   * only they reached are reclaimed. `reason` says why (a cap, or "Thin old checkpoints").
   */
  'hand.checkpoints_pruned': z.strictObject({
    hand_id: handId,
    at_seqs: z.array(z.number().int().positive()).min(1),
    manifests: z.array(z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 manifest id')).min(1),
    reason: z.string().min(1).max(2000),
  }),
  /**
   * A person opened a terminal on the hand (issue 23): what they do there is outside this log, until
   * `hand.terminal_closed` — after which a `hand.checkpoint` holds the files as they left them.
   */
  'hand.terminal_opened': z.strictObject({ hand_id: handId, terminal_id: TerminalIdSchema }),
  /** The terminal opened by `hand.terminal_opened` (event `opened_seq`) with this `terminal_id` ended (`ended`: how). */
  'hand.terminal_closed': z.strictObject({
    hand_id: handId,
    terminal_id: TerminalIdSchema,
    opened_seq: z.number().int().positive(),
    ended: TerminalEndSchema,
  }),
  'session.configured': SessionSettingsSchema,
  /** The session's custom tools from now on (replacing any earlier set; empty: none). The latest wins; forks inherit it. */
  'session.custom_tools_set': z.strictObject({ tools: CustomToolsSchema }),
  /**
   * The model called a custom tool: nothing runs here. The step ends idle with `requires_action`
   * naming this event until a `user.custom_tool_result` answers it.
   */
  'agent.custom_tool_use': threadScoped({
    tool_use_id: toolUseId,
    name: z.string().min(1).max(128),
    input: jsonObject,
  }),
  /** The program's answer to an `agent.custom_tool_use` (its event id): the tool result the model receives. */
  'user.custom_tool_result': threadScoped({
    custom_tool_use_id: z.string().min(1).max(256),
    content: z.array(ContentBlockSchema).max(CUSTOM_TOOL_LIMITS.resultBlocks),
    is_error: z.boolean().default(false),
  }),
  /**
   * Privileged context from the program (Managed Agents' `system.message`), for the next request
   * and every later one: the context builder appends it to the request's system prompt.
   */
  'system.message': z.strictObject({ content: z.array(TextBlockSchema).min(1).max(100) }),
  'session.forked': z.strictObject({
    parent_session_id: z.string().min(1),
    at_seq: z.number().int().nonnegative(),
  }),
  /**
   * The user's answer to a tool use whose `evaluated_permission` was `ask` (Managed Agents' name):
   * `allow` runs it once; `deny` answers the model with an error result carrying `deny_message`.
   */
  'user.tool_confirmation': ToolConfirmationSchema.safeExtend({ session_thread_id: SessionThreadIdSchema.optional() }),
  /**
   * A confirmed tool is about to start (recorded right before it does): a wake that finds this
   * without a result knows the tool may have run — it is recorded interrupted, never run again.
   * Without it, a confirmed tool has not started and runs.
   */
  'span.tool_run_start': threadScoped({ tool_use_id: toolUseId }),
  /** A permission policy: for one tool of a hand, or (`tool: null`) the hand's default. The latest wins. */
  'policy.set': PolicyEntrySchema,
  /** A rule that auto-allows a narrow pattern of one tool's uses that would ask (see PolicyRuleSchema). */
  'policy.rule_added': RuleEntrySchema,
  'policy.rule_removed': z.strictObject({ rule_id: RuleIdSchema }),
  /** The session's budget from now on (null: no cap). The latest wins; forks inherit it. */
  'session.budget_set': z.strictObject({ budget: BudgetSchema.nullable() }),
  /**
   * The session's cumulative usage after a model request (grader calls included), for meters and
   * the API. The log's `span.model_request_end` events stay the source the budget is checked on.
   */
  'session.usage': threadScoped({
    input_tokens: tokenCount,
    output_tokens: tokenCount,
    cache_read_input_tokens: tokenCount,
    cache_creation_input_tokens: tokenCount,
    /** Exact list cost in US cents, fractional (see SpentSchema). */
    list_cost_cents: z.number().nonnegative(),
  }),
  ...threadEventPayloadSchemas,
  /** A thread's step ended; the session goes idle only when every thread is idle or terminated. */
  'session.thread_status_idle': z.strictObject({ session_thread_id: SessionThreadIdSchema, stop_reason: StopReasonSchema }),
} as const;

export type EventType = keyof typeof eventPayloadSchemas;
export const EVENT_TYPES = Object.keys(eventPayloadSchemas) as EventType[];
export const EventTypeSchema = z.enum(EVENT_TYPES as [EventType, ...EventType[]]);

export function isEventType(name: string): name is EventType {
  return Object.hasOwn(eventPayloadSchemas, name);
}

/** What a caller hands to the store: a type and its payload (defaults not yet applied). */
export type NewEvent = {
  [K in EventType]: {
    type: K;
    payload: z.input<(typeof eventPayloadSchemas)[K]>;
    /** The event's id, when it was promised before it was stored (a streamed block's preview); else a new uuid. */
    id?: string;
  };
}[EventType];

/** A stored event: dense per-session `seq`, uuid `id`, ISO-8601 UTC `ts`, type and payload. */
export type StoredEvent = {
  [K in EventType]: {
    seq: number;
    id: string;
    ts: string;
    type: K;
    payload: z.output<(typeof eventPayloadSchemas)[K]>;
  };
}[EventType];

export type EventOf<K extends EventType> = Extract<StoredEvent, { type: K }>;

/** Matches timestamps exactly as `Date.prototype.toISOString()` writes them. */
const isoTimestamp = z.string().refine((s) => {
  const ms = Date.parse(s);
  return Number.isFinite(ms) && new Date(ms).toISOString() === s;
}, 'must be a UTC timestamp like 2026-11-22T13:29:00.000Z');

const eventEnvelope = {
  seq: z.number().int().positive(),
  id: z.uuid(),
  ts: isoTimestamp,
};

function variantsOf<Extra extends z.core.$ZodLooseShape>(extra: Extra) {
  return EVENT_TYPES.map((type) => z.strictObject({ ...extra, type: z.literal(type), payload: eventPayloadSchemas[type] })) as unknown as [
    z.ZodObject,
    ...z.ZodObject[],
  ];
}

/** A stored event as exported and sent over RPC; the payload is checked against its type. */
export const StoredEventSchema = z.discriminatedUnion('type', variantsOf(eventEnvelope)) as unknown as z.ZodType<StoredEvent, unknown>;

/** An event to append: type and payload, checked against its type. */
export const NewEventSchema = z.discriminatedUnion('type', variantsOf({})) as unknown as z.ZodType<
  StoredEvent extends infer E ? (E extends StoredEvent ? { type: E['type']; payload: E['payload'] } : never) : never,
  NewEvent
>;

export type PayloadIssue = { path: string; message: string };

/** One line for a message: `path: message; path: message`. */
export function issuesText(issues: readonly PayloadIssue[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
}

/** Formats zod issues as `path: message` pairs a person can act on. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly string[] = []): PayloadIssue[] {
  return issues.map((issue) => ({
    path: [...prefix, ...issue.path.map(String)].join('.') || '(root)',
    message: issue.message,
  }));
}
