/**
 * Guardrails as the session log and the UI see them: permission policies per hand and tool, rules
 * that auto-allow a narrow pattern, approvals, and budgets — with Claude Managed Agents' names and
 * semantics (`always_allow` / `always_ask` / `deny`, `evaluated_permission`, `user.tool_confirmation`,
 * `requires_action`, `budget_reached`, `{type: 'limit', max_list_cost}`).
 *
 * Everything that changes what may run is an event (`policy.*`, `session.budget_set`), so forks and
 * rewinds inherit it and a fresh wake derives it. Pure data + zod; must never import node, electron
 * or DOM code.
 */
import { z } from 'zod';
import { HandNameSchema } from './hands.ts';

/** What a hand's tool may do: run at once, wait for the user's approval, or never run. */
export const PermissionPolicySchema = z.enum(['always_allow', 'always_ask', 'deny']);
export type PermissionPolicy = z.infer<typeof PermissionPolicySchema>;

/** What the policies said of one tool use, recorded on it (`agent.tool_use.evaluated_permission`). */
export const EvaluatedPermissionSchema = z.enum(['allow', 'ask', 'deny']);
export type EvaluatedPermission = z.infer<typeof EvaluatedPermissionSchema>;

/** The user's answer to a tool use that asked. */
export const ConfirmationResultSchema = z.enum(['allow', 'deny']);
export type ConfirmationResult = z.infer<typeof ConfirmationResultSchema>;

/** A deny message goes back to the model as the tool's error result: bounded like a short message. */
export const DenyMessageSchema = z.string().max(10_000, 'a deny message is at most 10,000 characters');

/**
 * A hand name as stored in an event. Events keep the store's looser rule (as `hand.attached` does)
 * so an old or imported log still reads; new names come through `HandNameSchema` at the RPC.
 */
export const PolicyHandSchema = z.string().min(1).max(128);

/** A tool as the hand names it, without the `<hand>__` prefix: `bash`, `editor`, or an MCP server's own tool name. */
export const PolicyToolSchema = z.string().min(1).max(256);

export const RuleIdSchema = z.string().min(1).max(128);

/** Control characters (newlines included) never belong in a command prefix: a newline starts another command. */
const CONTROL = /[\p{Cc}]/u;

/**
 * A rule turns an `ask` into `allow` for a narrow pattern of one hand's command tool. A `deny` is
 * never overridden by a rule.
 * - `read_only_commands`: every command of the line is one of a conservative read-only set.
 * - `command_prefix`: the line starts with `prefix` (then ends or a blank follows) and chains,
 *   substitutes or redirects nothing.
 */
export const PolicyRuleSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('read_only_commands') }),
  z.strictObject({
    type: z.literal('command_prefix'),
    prefix: z
      .string()
      .trim()
      .min(1, 'give the start of the command to allow')
      .max(1000, 'a command prefix is at most 1,000 characters')
      .refine((prefix) => !CONTROL.test(prefix), 'a command prefix is one line, without control characters'),
  }),
]);
export type PolicyRule = z.output<typeof PolicyRuleSchema>;

/** An amount in whole US cents, written as Managed Agents writes it ("2500" is $25.00); at least 1 cent. */
const centsAmount = z.string().regex(/^[1-9]\d{0,11}$/, 'an amount is a whole number of US cents, like "2500" for $25.00, at least "1"');

/**
 * A session's budget, as Managed Agents defines it (`{type: 'limit', max_list_cost}`), with Drover's
 * optional caps on tokens (all four kinds of a request's tokens summed) and on wall time (time the
 * session spends running). At least one cap. Reaching any cap stops the session before its next
 * model request with `stop_reason: {type: 'budget_reached'}`.
 */
export const BudgetSchema = z
  .strictObject({
    type: z.literal('limit'),
    max_list_cost: z.strictObject({ amount: centsAmount, currency: z.literal('USD') }).optional(),
    max_tokens: z.number().int().min(1, 'a token cap is at least 1 token').max(1e12).optional(),
    max_wall_seconds: z
      .number()
      .int()
      .min(1, 'a time cap is at least 1 second')
      .max(10 * 365 * 24 * 3600)
      .optional(),
  })
  .refine((budget) => budget.max_list_cost !== undefined || budget.max_tokens !== undefined || budget.max_wall_seconds !== undefined, {
    message: 'a budget caps at least one of cost, tokens or time (or remove the budget)',
  });
export type Budget = z.output<typeof BudgetSchema>;

/** One policy of a session: for a hand's tool, or (`tool: null`) the hand's default for all its tools. */
export const PolicyEntrySchema = z.strictObject({
  hand: PolicyHandSchema,
  tool: PolicyToolSchema.nullable(),
  policy: PermissionPolicySchema,
});
export type PolicyEntry = z.output<typeof PolicyEntrySchema>;

/** A rule in force: which hand's tool it applies to, and since which event. */
export const RuleEntrySchema = z.strictObject({
  rule_id: RuleIdSchema,
  hand: PolicyHandSchema,
  tool: PolicyToolSchema,
  rule: PolicyRuleSchema,
});
export type RuleEntry = z.output<typeof RuleEntrySchema>;

/** What a session has spent so far (its view's model requests, grader calls included; running time). */
export const SpentSchema = z.strictObject({
  requests: z.number().int().nonnegative(),
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  cache_read_input_tokens: z.number().int().nonnegative(),
  cache_creation_input_tokens: z.number().int().nonnegative(),
  /** Exact list cost in US cents (fractional: a cap of "1" must stop after a cent, not after it rounds up). */
  list_cost_cents: z.number().nonnegative(),
  /** Models used whose price Drover does not know: their tokens count against a token cap, not a cost cap. */
  unpriced_models: z.array(z.string()),
  wall_seconds: z.number().nonnegative(),
});
export type Spent = z.infer<typeof SpentSchema>;

/** A tool use waiting for the user's answer, as the approval card shows it. */
export const PendingApprovalSchema = z.strictObject({
  /** The `agent.tool_use` / `agent.mcp_tool_use` event (its id is in `requires_action.event_ids`). */
  event_id: z.string(),
  seq: z.number().int().positive(),
  tool_use_id: z.string(),
  /** The hand the tool belongs to; null for a tool use no hand claimed. */
  hand: z.string().nullable(),
  /** The tool name the model called (`<hand>__<tool>`). */
  name: z.string(),
  input: z.record(z.string(), z.unknown()),
});
export type PendingApproval = z.infer<typeof PendingApprovalSchema>;

/** A custom tool call waiting for the result of the program that drives the session (`agent.custom_tool_use`). */
export const PendingCustomCallSchema = z.strictObject({
  /** The `agent.custom_tool_use` event (its id is in `requires_action.event_ids`; answers name it). */
  event_id: z.string(),
  seq: z.number().int().positive(),
  tool_use_id: z.string(),
  name: z.string(),
  input: z.record(z.string(), z.unknown()),
});
export type PendingCustomCall = z.infer<typeof PendingCustomCallSchema>;

/** A session's guardrails as `sessions-guardrails` answers: what is in force, what was spent, what waits. */
export const GuardrailsViewSchema = z.strictObject({
  policies: z.array(PolicyEntrySchema),
  rules: z.array(RuleEntrySchema),
  budget: BudgetSchema.nullable(),
  spent: SpentSchema,
  pending: z.array(PendingApprovalSchema),
  /** Custom tool calls waiting for the program's result (answered with `sessions-custom-tool-result`). */
  custom_pending: z.array(PendingCustomCallSchema),
});
export type GuardrailsView = z.output<typeof GuardrailsViewSchema>;

/** A policy set at launch or in the Hands panel (RPC input: hand names as the user gives them). */
export const PolicyChoiceSchema = z.strictObject({
  hand: HandNameSchema,
  tool: PolicyToolSchema.nullable(),
  policy: PermissionPolicySchema,
});
export type PolicyChoice = z.output<typeof PolicyChoiceSchema>;

/** One answer to a waiting tool use; a deny message is for a deny only. */
export const ToolConfirmationSchema = z
  .strictObject({
    tool_use_id: z.string().min(1).max(256),
    result: ConfirmationResultSchema,
    deny_message: DenyMessageSchema.optional(),
  })
  .refine((answer) => answer.deny_message === undefined || answer.result === 'deny', {
    message: 'a deny message goes with a deny only',
    path: ['deny_message'],
  });
export type ToolConfirmation = z.output<typeof ToolConfirmationSchema>;
