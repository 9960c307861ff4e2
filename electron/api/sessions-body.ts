/**
 * The request bodies of the sessions resource, checked with zod before anything is done: strict
 * objects (an unknown key is a 400 naming it), the service's limits, and Drover's own rules where
 * they are narrower (a title without control characters, an outcome's rubric length).
 */
import { z } from 'zod';
import { BudgetSchema } from '#shared/guardrails';
import { SessionTitleSchema } from '#shared/sessions';

/** Metadata keys Drover reads (documented in docs/architecture.md): longer values are allowed for them. */
export const DROVER_METADATA_PREFIX = 'drover.';
const MAX_METADATA_PAIRS = 16;
const MAX_VALUE_CHARS = 512;
const MAX_DROVER_VALUE_CHARS = 16_384;

/** Metadata as the service takes it: at most 16 pairs, keys up to 64 characters, values up to 512 (`drover.*`: 16,384). */
export const MetadataSchema = z
  .record(z.string().min(1, 'a metadata key is not empty').max(64, 'a metadata key is at most 64 characters'), z.string())
  .superRefine((metadata, context) => {
    const keys = Object.keys(metadata);
    if (keys.length > MAX_METADATA_PAIRS) context.addIssue({ code: 'custom', message: `at most ${MAX_METADATA_PAIRS} pairs` });
    for (const key of keys) {
      const limit = key.startsWith(DROVER_METADATA_PREFIX) ? MAX_DROVER_VALUE_CHARS : MAX_VALUE_CHARS;
      if ((metadata[key] ?? '').length > limit)
        context.addIssue({ code: 'custom', path: [key], message: `a metadata value is at most ${limit} characters` });
    }
  });

/** A patch: a string upserts the key, null deletes it. */
const MetadataPatchSchema = z.record(z.string().min(1).max(64, 'a metadata key is at most 64 characters'), z.string().nullable());

const idText = z.string().min(1, 'give an id').max(256);

const ModelParamSchema = z.union([
  z.string().trim().min(1, 'give a model').max(200),
  z.strictObject({
    id: z.string().trim().min(1, 'give a model').max(200),
    effort: z.unknown().optional(),
    inference_geo: z.string().nullable().optional(),
    speed: z.enum(['standard', 'fast']).nullable().optional(),
  }),
]);

export const AgentRefSchema = z.union([
  idText,
  z.strictObject({ type: z.literal('agent'), id: idText, version: z.number().int().min(1).optional() }),
  z.strictObject({
    type: z.literal('agent_with_overrides'),
    id: idText,
    version: z.number().int().min(1).optional(),
    model: ModelParamSchema.optional(),
    system: z.string().max(100_000, 'a system prompt is at most 100,000 characters').nullable().optional(),
    /** Checked as the agents resource checks an agent's tools (with the agent they replace). */
    tools: z.array(z.unknown()).max(128).optional(),
    mcp_servers: z.array(z.unknown()).max(64).optional(),
    skills: z.array(z.unknown()).max(64).optional(),
  }),
]);
export type AgentRef = z.output<typeof AgentRefSchema>;

const TextBlockParamSchema = z.strictObject({ type: z.literal('text'), text: z.string() });
const ImageBlockParamSchema = z.strictObject({
  type: z.literal('image'),
  source: z.strictObject({
    type: z.literal('base64'),
    media_type: z.enum(['image/png', 'image/jpeg', 'image/gif', 'image/webp']),
    data: z.string().min(1),
  }),
});

export const UserMessageParamSchema = z.strictObject({
  type: z.literal('user.message'),
  content: z.array(z.discriminatedUnion('type', [TextBlockParamSchema, ImageBlockParamSchema])).min(1, 'a message has content'),
});

export const DefineOutcomeParamSchema = z.strictObject({
  type: z.literal('user.define_outcome'),
  description: z.string().trim().min(1, 'describe the outcome').max(20_000),
  rubric: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('text'), content: z.string().max(100_000, 'a rubric is at most 100,000 characters here') }),
    z.strictObject({ type: z.literal('file'), file_id: z.string().min(1) }),
  ]),
  max_iterations: z.number().int().min(1).max(20).nullable().optional(),
});

export const InitialEventSchema = z.discriminatedUnion('type', [UserMessageParamSchema, DefineOutcomeParamSchema]);
export type InitialEvent = z.output<typeof InitialEventSchema>;

export const CreateSessionBodySchema = z.strictObject({
  agent: AgentRefSchema,
  environment_id: idText,
  budget: BudgetSchema.optional(),
  initial_events: z.array(InitialEventSchema).max(50, 'at most 50 initial events').optional(),
  metadata: MetadataSchema.optional(),
  resources: z.array(z.unknown()).max(0, 'Drover does not mount session resources (repositories, files, memory stores) yet').optional(),
  title: SessionTitleSchema.nullable().optional(),
  vault_ids: z.array(idText).max(32).optional(),
});
export type CreateSessionBody = z.output<typeof CreateSessionBodySchema>;

export const UpdateSessionBodySchema = z.strictObject({
  agent: z.strictObject({ tools: z.array(z.unknown()).optional(), mcp_servers: z.array(z.unknown()).optional() }).optional(),
  budget: BudgetSchema.nullable().optional(),
  metadata: MetadataPatchSchema.nullable().optional(),
  title: SessionTitleSchema.nullable().optional(),
  vault_ids: z.array(idText).optional(),
});
export type UpdateSessionBody = z.output<typeof UpdateSessionBodySchema>;

/** `POST /v1/sessions/{id}/fork` and `…/rewind` (Drover's extensions). */
export const BranchBodySchema = z.strictObject({
  at_event_id: idText,
  title: SessionTitleSchema.optional(),
});

/**
 * `POST /v1/sessions/{id}/rewind`: a branch's body plus what to rewind (the `sessions-rewind` RPC's
 * `keep`, as the cockpit's "Rewind to here" menu offers it): `both` (default) the conversation and
 * the files, `conversation` a new branch that keeps the files as they are, `files` no branch — the
 * running containers' files put back as at the event.
 */
export const RewindBodySchema = z.strictObject({
  at_event_id: idText,
  title: SessionTitleSchema.optional(),
  keep: z.enum(['both', 'conversation', 'files']).optional(),
});
