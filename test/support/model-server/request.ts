/**
 * The model server's request side of the wire format: the Messages API request body as zod
 * schemas, and the cross-field rules (turn order, tool pairing, cache breakpoints, thinking
 * budget, tool choice) that the real API checks, each refused with the real API's wording.
 *
 * It must never accept a request the real API would refuse: code that passes against the model
 * server has to be code that could pass against the real service.
 */
import { z } from 'zod';

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
// Validation

type Parsed = { ok: true; body: MessagesRequestBody } | { ok: false; message: string };

export function parseRequestBody(json: unknown): Parsed {
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
    const wrongKind = (e: z.core.$ZodIssue) =>
      (e.path.length === 0 && e.code === 'invalid_type') || (e.path.length === 1 && e.path[0] === 'type');
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
  if (!['auto', 'any', 'tool', 'none'].includes(choice.type))
    return `tool_choice.type: Input tag '${choice.type}' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'`;
  if (choice.type !== 'none' && (body.tools ?? []).length === 0) return 'tool_choice may only be specified while providing tools.';
  if (choice.type === 'tool') {
    const name = (choice as { name?: unknown }).name;
    if (typeof name !== 'string') return 'tool_choice.tool.name: Field required';
    if (!(body.tools ?? []).some((tool) => tool.name === name))
      return `tool_choice.tool.name: Tool '${name}' not found in the provided tools`;
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
    const unanswered = blocks
      .filter(isToolUse)
      .map((b) => b.id)
      .filter((id) => !answered.has(id));
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
