/**
 * The guardrails' RPC methods (issue 18): approvals, policies, rules, budgets and the default
 * budget for new sessions, plus the launch's policies and budget. Each checks its input against
 * the session's log (validate.ts, budget.ts) before anything is recorded: a refused call records
 * nothing. What it records is an event, so forks and rewinds inherit it; the harness wakes on a
 * `user.tool_confirmation` or a `session.budget_set`, so an answer or a raised cap continues the
 * session at once.
 */
import { randomUUID } from 'node:crypto';
import type { NewEvent } from '#shared/events';
import type { Budget, GuardrailsView, PolicyChoice, PolicyEntry } from '#shared/guardrails';
import type { HandSpec } from '#shared/hands';
import type { HandlerImpl } from '#shared/rpc';
import { checkBudgetChange } from '#services/guardrails/budget';
import { defaultPolicy, EDITOR_TOOL } from '#services/guardrails/defaults';
import type { DefaultBudget } from '#services/guardrails/default-budget';
import { policyFor } from '#services/guardrails/policy';
import { COMMAND_TOOL } from '#services/guardrails/rules';
import { checkConfirmations, checkPolicyTarget, checkRule, checkRuleRemoval, type HandTools } from '#services/guardrails/validate';
import { guardrailsView, spentOf, wallMsOf, type GuardrailsState } from '#services/harness/approvals';
import { guardrailsOfSession } from '#services/harness/fold-log';
import type { HandRegistry } from '#services/hands/registry';
import type { SessionStore } from '#services/session/store';

export type GuardrailsMethod =
  | 'sessions-confirm-tool'
  | 'sessions-set-policy'
  | 'sessions-add-rule'
  | 'sessions-remove-rule'
  | 'sessions-set-budget'
  | 'sessions-guardrails'
  | 'budget-default-get'
  | 'budget-default-set';

export interface GuardrailsServices {
  store: SessionStore;
  hands: HandRegistry;
  defaultBudget: DefaultBudget;
}

/** The tools of a shell hand (Docker or SSH), as policies name them. */
const SHELL_TOOLS: readonly string[] = [COMMAND_TOOL, EDITOR_TOOL];

/**
 * The policies in force, with the effective one for every hand (`tool: null`) and every tool each
 * hand offers now — defaults included — so the Hands panel shows what each tool will do. Policies
 * set for tools a hand does not list now (an MCP server not started) are kept as set.
 */
function effectivePolicies(state: GuardrailsState, targets: HandTools): PolicyEntry[] {
  const set = [...state.policies.values()];
  const out: PolicyEntry[] = [];
  const covered = new Set<string>();
  for (const [hand, { kind, tools }] of targets) {
    const trusted = state.hands.get(hand)?.trusted ?? false;
    const handWide = set.find((entry) => entry.hand === hand && entry.tool === null)?.policy ?? defaultPolicy({ kind, tool: '', trusted });
    out.push({ hand, tool: null, policy: handWide });
    covered.add(`${hand}\u0000`);
    for (const tool of tools) {
      out.push({ hand, tool, policy: policyFor(set, { handKind: kind, handName: hand, tool, trusted }).policy });
      covered.add(`${hand}\u0000${tool}`);
    }
  }
  for (const entry of set) if (!covered.has(`${entry.hand}\u0000${entry.tool ?? ''}`)) out.push(entry);
  return out;
}

/**
 * Checks the launch's policies against its hands (a policy for a hand it does not have, or a tool a
 * shell hand does not offer, is refused; an MCP server's tools are only known once it runs, so its
 * per-tool policies are taken as given) and returns the events that record them and the budget.
 */
export function launchGuardrailEvents(hands: readonly HandSpec[], policies: readonly PolicyChoice[], budget: Budget | null): NewEvent[] {
  const targets: HandTools = new Map(
    hands.map((hand) => {
      // A Docker hand with Managed Agents' toolset offers the toolset's tools that are on, under their own names.
      const tools =
        hand.config.kind === 'mcp' ? [] : hand.config.kind === 'docker' && hand.config.toolset ? hand.config.toolset.tools : SHELL_TOOLS;
      return [hand.name, { kind: hand.config.kind, tools }];
    }),
  );
  for (const choice of policies) {
    const mcp = targets.get(choice.hand)?.kind === 'mcp';
    const problem = checkPolicyTarget(targets, choice.hand, mcp ? null : choice.tool);
    if (problem) throw problem;
  }
  return [
    ...(budget === null ? [] : [{ type: 'session.budget_set' as const, payload: { budget } }]),
    ...policies.map((choice) => ({
      type: 'policy.set' as const,
      payload: { hand: choice.hand, tool: choice.tool, policy: choice.policy },
    })),
  ];
}

export function createGuardrailsHandlers({ store, hands, defaultBudget }: GuardrailsServices): Pick<HandlerImpl, GuardrailsMethod> {
  const stateOf = (sessionId: string): GuardrailsState => guardrailsOfSession(store, sessionId);
  /** Hands as policies name them; `start`: start MCP servers to learn their tools (to check a per-tool target). */
  const targetsOf = async (sessionId: string, start: boolean): Promise<HandTools> => hands.policyTargets(sessionId, { start });
  const view = async (sessionId: string): Promise<GuardrailsView> => {
    const state = stateOf(sessionId);
    const base = guardrailsView(state, Date.now());
    return { ...base, policies: effectivePolicies(state, await targetsOf(sessionId, false)) };
  };
  const record = (sessionId: string, events: NewEvent[]): void => {
    if (events.length === 1) store.emitEvent(sessionId, events[0] as NewEvent);
    else store.emitEvents(sessionId, events);
  };
  return {
    'sessions-guardrails': ({ sessionId }) => {
      store.getSession(sessionId); // not-found for an unknown session
      return view(sessionId);
    },
    'sessions-confirm-tool': ({ sessionId, confirmations }) => {
      const checked = checkConfirmations(stateOf(sessionId), confirmations);
      if (!checked.ok) throw checked.error;
      // One commit: answered together, they wake the session once and run together.
      record(
        sessionId,
        checked.confirmations.map((payload) => ({ type: 'user.tool_confirmation' as const, payload })),
      );
      return view(sessionId);
    },
    'sessions-set-policy': async ({ sessionId, hand, tool, policy }) => {
      store.getSession(sessionId);
      const problem = checkPolicyTarget(await targetsOf(sessionId, tool !== null), hand, tool);
      if (problem) throw problem;
      record(sessionId, [{ type: 'policy.set', payload: { hand, tool, policy } }]);
      return view(sessionId);
    },
    'sessions-add-rule': async ({ sessionId, hand, tool, rule }) => {
      store.getSession(sessionId);
      const problem = checkRule(await targetsOf(sessionId, true), stateOf(sessionId).rules.values(), { hand, tool, rule });
      if (problem) throw problem;
      record(sessionId, [{ type: 'policy.rule_added', payload: { rule_id: randomUUID(), hand, tool, rule } }]);
      return view(sessionId);
    },
    'sessions-remove-rule': ({ sessionId, ruleId }) => {
      const problem = checkRuleRemoval(stateOf(sessionId), ruleId);
      if (problem) throw problem;
      record(sessionId, [{ type: 'policy.rule_removed', payload: { rule_id: ruleId } }]);
      return view(sessionId);
    },
    'sessions-set-budget': ({ sessionId, budget }) => {
      const state = stateOf(sessionId);
      const now = Date.now();
      const problem = checkBudgetChange(budget, spentOf(state, now), wallMsOf(state, now));
      if (problem) throw problem;
      // A session its budget stopped continues when the new one has room (the harness wakes on it).
      record(sessionId, [{ type: 'session.budget_set', payload: { budget } }]);
      return view(sessionId);
    },
    'budget-default-get': () => defaultBudget.get(),
    'budget-default-set': ({ budget }) => defaultBudget.set(budget),
  };
}
