/**
 * The "bad input" rules of the guardrails' RPC methods, checked before anything is recorded: a
 * confirmation for a tool use that is unknown, did not ask, or was already answered; a policy or
 * rule for a hand or tool the session does not have; a rule that could never match safely; the
 * removal of a rule that is not in force. (A budget below what is spent: budget.ts
 * `checkBudgetChange`.) Each returns the AppError to throw — what happened and what to do — or the
 * checked input. Pure: no I/O.
 */
import { AppError } from '#shared/errors';
import type { PolicyRule, RuleEntry, ToolConfirmation } from '#shared/guardrails';
import { toolUseNamed, type GuardrailsState } from '#services/harness/approvals';
import type { HandKind } from './defaults.ts';
import { COMMAND_TOOL, prefixProblem } from './rules.ts';

/** A session's hands as the checks need them: kind and the hand's own tool names. */
export type HandTools = ReadonlyMap<string, { kind: HandKind; tools: readonly string[] }>;

function listed(names: readonly string[]): string {
  return names.map((name) => `"${name}"`).join(', ');
}

/**
 * Checks a batch of answers against the log: each names a tool use of this session (by its
 * `tool_use_id` or its event's id) that asked and has neither an answer nor a result, once.
 * Returns the answers keyed by `tool_use_id`, ready to record, or the error for the first bad one.
 */
export function checkConfirmations(
  state: GuardrailsState,
  answers: readonly ToolConfirmation[],
): { ok: true; confirmations: ToolConfirmation[] } | { ok: false; error: AppError } {
  const seen = new Set<string>();
  const confirmations: ToolConfirmation[] = [];
  for (const answer of answers) {
    const record = toolUseNamed(state, answer.tool_use_id);
    if (record === undefined) {
      return {
        ok: false,
        error: new AppError(
          'not-found',
          `This session has no tool call "${answer.tool_use_id}" to approve. It may be on another branch or session: reload the session and answer the calls it shows as waiting.`,
        ),
      };
    }
    const id = record.event.payload.tool_use_id;
    const tool = `The tool call "${record.event.payload.name}" (${id})`;
    if (seen.has(id))
      return { ok: false, error: new AppError('invalid-argument', `${tool} is answered twice in this request. Answer each call once.`) };
    seen.add(id);
    if (record.permission !== 'ask') {
      const why = record.permission === 'deny' ? 'its policy denies it' : 'its policy allowed it to run';
      return { ok: false, error: new AppError('conflict', `${tool} did not ask for approval (${why}), so there is nothing to confirm.`) };
    }
    if (record.confirmation !== null) {
      const given = record.confirmation.result === 'allow' ? 'allowed' : 'denied';
      return {
        ok: false,
        error: new AppError(
          'conflict',
          `${tool} was already ${given} (event #${record.confirmation.seq}); an answer cannot be changed. Reload the session to see where it stands.`,
        ),
      };
    }
    if (record.resulted) {
      return {
        ok: false,
        error: new AppError(
          'conflict',
          `${tool} already has its result (it was stopped before anyone answered), so there is nothing to confirm.`,
        ),
      };
    }
    confirmations.push(
      answer.deny_message === undefined
        ? { tool_use_id: id, result: answer.result }
        : { tool_use_id: id, result: answer.result, deny_message: answer.deny_message },
    );
  }
  return { ok: true, confirmations };
}

/** Refuses a policy (or rule) for a hand the session does not have, or a tool that hand does not offer (`tool: null`: the whole hand). */
export function checkPolicyTarget(hands: HandTools, hand: string, tool: string | null): AppError | null {
  const found = hands.get(hand);
  if (found === undefined) {
    const names = [...hands.keys()];
    const have = names.length === 0 ? 'It has no hands yet: attach the hand first.' : `Its hands are ${listed(names)}.`;
    return new AppError('invalid-argument', `This session has no hand named "${hand}". ${have}`);
  }
  if (tool !== null && !found.tools.includes(tool)) {
    const have =
      found.tools.length === 0
        ? 'It offers no tools right now (an MCP server that is off or has not started lists none).'
        : `Its tools are ${listed(found.tools)}.`;
    return new AppError('invalid-argument', `The hand "${hand}" has no tool named "${tool}". ${have}`);
  }
  return null;
}

/**
 * Refuses a rule that cannot apply: its hand or tool is not the session's, the tool is not a shell
 * hand's command tool (rules read a command line), a prefix is not the start of one simple command,
 * or the same rule is already in force.
 */
export function checkRule(
  hands: HandTools,
  rules: Iterable<RuleEntry>,
  target: { hand: string; tool: string; rule: PolicyRule },
): AppError | null {
  const missing = checkPolicyTarget(hands, target.hand, target.tool);
  if (missing) return missing;
  const kind = hands.get(target.hand)?.kind;
  if (kind === 'mcp' || target.tool !== COMMAND_TOOL) {
    return new AppError(
      'invalid-argument',
      `A rule allows commands of a machine's or container's "${COMMAND_TOOL}" tool; "${target.tool}" of "${target.hand}" takes no command line. Set its policy instead.`,
    );
  }
  if (target.rule.type === 'command_prefix') {
    const problem = prefixProblem(target.rule.prefix);
    if (problem !== null)
      return new AppError(
        'invalid-argument',
        `"${target.rule.prefix}" cannot be allowed as a command prefix: ${problem}. Give the start of a single command, like "npm test" or "git log".`,
      );
  }
  for (const entry of rules) {
    if (entry.hand !== target.hand || entry.tool !== target.tool || entry.rule.type !== target.rule.type) continue;
    if (
      entry.rule.type === 'read_only_commands' ||
      (target.rule.type === 'command_prefix' && entry.rule.prefix === target.rule.prefix.trim())
    ) {
      return new AppError('conflict', `That rule is already in force for "${target.tool}" of "${target.hand}" (rule ${entry.rule_id}).`);
    }
  }
  return null;
}

/** Refuses removing a rule that is not in force in this session (or this branch). */
export function checkRuleRemoval(state: GuardrailsState, ruleId: string): AppError | null {
  if (state.rules.has(ruleId)) return null;
  return new AppError(
    'not-found',
    `This session has no rule "${ruleId}" in force (it may have been removed already, or belong to another branch). Reload its guardrails to see the rules it has.`,
  );
}
