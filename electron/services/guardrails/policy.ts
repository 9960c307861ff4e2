/**
 * What the session's policies say of one tool use: `allow` (run it), `ask` (wait for the user's
 * `user.tool_confirmation`) or `deny` (answer the model with an error, run nothing).
 *
 * Precedence: the policy set for the hand's tool > the policy set for the hand (`tool: null`) >
 * the default for the kind of hand (defaults.ts). An `ask` becomes `allow` when one of the hand's
 * rules for that tool matches the input (rules.ts); a `deny` is never overridden.
 * Pure: no I/O.
 */
import type { EvaluatedPermission, PermissionPolicy, PolicyEntry, RuleEntry } from '#shared/guardrails';
import { qualifiedToolName } from '#shared/hands';
import { defaultPolicy, type HandKind } from './defaults.ts';
import { ruleMatches } from './rules.ts';

export interface EvaluateInput {
  /** The session's policies in force (the fold of its `policy.set` events). */
  policies: readonly PolicyEntry[];
  /** The session's rules in force (`policy.rule_added` not removed since). */
  rules: readonly RuleEntry[];
  handKind: HandKind;
  handName: string;
  /** The tool as the hand names it (`bash`, `editor`, an MCP server's own tool name), without `<hand>__`. */
  tool: string;
  input: Readonly<Record<string, unknown>>;
  /** For an MCP server: marked trusted by the user. */
  trusted: boolean;
}

/** Where a tool's policy comes from, for the Hands panel ("set for this tool", "hand default", "default"). */
export type PolicySource = 'tool' | 'hand' | 'default';

/** The policy in force for a hand's tool, and where it comes from. Without `input`: for the tool as a whole. */
export function policyFor(
  policies: readonly PolicyEntry[],
  target: { handKind: HandKind; handName: string; tool: string; trusted: boolean; input?: Readonly<Record<string, unknown>> },
): { policy: PermissionPolicy; source: PolicySource } {
  let handWide: PermissionPolicy | undefined;
  let toolOwn: PermissionPolicy | undefined;
  // The latest entry wins (the fold keeps one per hand and tool, but a caller may pass a raw list).
  for (const entry of policies) {
    if (entry.hand !== target.handName) continue;
    if (entry.tool === null) handWide = entry.policy;
    else if (entry.tool === target.tool) toolOwn = entry.policy;
  }
  if (toolOwn !== undefined) return { policy: toolOwn, source: 'tool' };
  if (handWide !== undefined) return { policy: handWide, source: 'hand' };
  const policy = defaultPolicy({
    kind: target.handKind,
    tool: target.tool,
    trusted: target.trusted,
    ...(target.input ? { input: target.input } : {}),
  });
  return { policy, source: 'default' };
}

/** The rule that turns this use's `ask` into `allow`, or undefined when none does. */
export function matchingRule(
  rules: readonly RuleEntry[],
  handName: string,
  tool: string,
  input: Readonly<Record<string, unknown>>,
): RuleEntry | undefined {
  return rules.find((entry) => entry.hand === handName && entry.tool === tool && ruleMatches(entry.rule, input));
}

export function evaluate({ policies, rules, handKind, handName, tool, input, trusted }: EvaluateInput): EvaluatedPermission {
  const { policy } = policyFor(policies, { handKind, handName, tool, trusted, input });
  switch (policy) {
    case 'always_allow':
      return 'allow';
    case 'deny':
      return 'deny';
    case 'always_ask':
      return matchingRule(rules, handName, tool, input) === undefined ? 'ask' : 'allow';
  }
}

/**
 * The hand's own name for a tool the model called `<hand>__<tool>`; the name as it is when it does
 * not carry that hand's prefix. (An MCP tool's name after the prefix is its API-safe name: the
 * wiring maps it to the server's own name, which is what policies name, as `disabled_tools` does.)
 */
export function unqualifiedToolName(handName: string, qualified: string): string {
  const prefix = qualifiedToolName(handName, '');
  return qualified.startsWith(prefix) ? qualified.slice(prefix.length) : qualified;
}
