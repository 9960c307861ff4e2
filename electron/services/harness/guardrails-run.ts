/**
 * The guardrails of one wake: what the session's policies say of each tool use the model asks for,
 * which open tool uses may run now (allowed, or approved by the user and never started), which are
 * answered without running (denied by a policy or by the user), whether the budget lets the next
 * model request start, and the `session.usage` meter recorded after each request.
 *
 * It reads only the fold of the log (approvals.ts), kept current by the run's subscription, so a
 * pending approval or a budget stop is derived from the log alone and survives any crash. An
 * approved tool's `span.tool_run_start` is recorded before it runs: a crash after it leaves a tool
 * that may have run, recorded interrupted by the next wake and never run again.
 */
import type { NewEvent, StoredEvent } from '#shared/events';
import type { EvaluatedPermission } from '#shared/guardrails';
import { budgetReached, costCapProblem, type BudgetStop } from '#services/guardrails/budget';
import { budgetReachedIdle, policyDenialText, usageEvent, userDenialText } from '#services/guardrails/guardrail-events';
import { evaluate, unqualifiedToolName } from '#services/guardrails/policy';
import type { Hand } from '#services/hands/hand';
import {
  applyGuardrailEvent,
  emptyGuardrails,
  pendingApprovals,
  spentOf,
  wallMsOf,
  type GuardrailsState,
  type ToolUseRecord,
} from './approvals.ts';
import { requiresActionIdle, type CustomToolUseEvent } from './custom-tools.ts';
import { idle, toolResult, type RunGuardrails, type ToolUseFate } from './run-context.ts';
import type { ToolUseEvent } from './state.ts';

/** The hand's own name for a tool the model called: an MCP server's own name, `bash` / `editor` for a shell hand. */
export function ownToolName(hand: Hand, name: string): string {
  return hand.ownToolName?.(name) ?? unqualifiedToolName(hand.id, name);
}

export class GuardrailsRun implements RunGuardrails {
  constructor(public state: GuardrailsState = emptyGuardrails()) {}

  apply(event: StoredEvent): void {
    applyGuardrailEvent(this.state, event);
  }

  /**
   * What the session's policies say of a tool use on `hand`. A hand the log never attached (one a
   * test or embedder gives the harness directly) has no kind to default from: its own `permission`
   * decides (the self-hosted worker: the agent's toolset policies), else it runs, as before.
   */
  evaluate(hand: Hand, name: string, input: Record<string, unknown>): EvaluatedPermission {
    const attached = this.state.hands.get(hand.id);
    if (attached === undefined) return hand.permission?.(ownToolName(hand, name), input) ?? 'allow';
    return evaluate({
      policies: [...this.state.policies.values()],
      rules: [...this.state.rules.values()],
      handKind: attached.kind,
      handName: hand.id,
      tool: ownToolName(hand, name),
      input,
      trusted: attached.trusted,
    });
  }

  /** What to do with an open tool use (`own`: this run stored it, so it has certainly not started). */
  fate(use: ToolUseEvent, own: boolean): ToolUseFate {
    const id = use.payload.tool_use_id;
    const mcp = use.type === 'agent.mcp_tool_use';
    const record = this.state.toolUses.get(id);
    if (record?.permission === 'deny') return { kind: 'answer', event: toolResult(id, policyDenialText(record), true, 'completed', mcp) };
    if (record?.confirmation?.result === 'deny')
      return { kind: 'answer', event: toolResult(id, userDenialText(record), true, 'completed', mcp) };
    if (record?.confirmation?.result === 'allow') {
      const beforeFork = this.state.forkedAt !== null && record.confirmation.seq < this.state.forkedAt;
      return record.started || beforeFork ? { kind: 'lost' } : { kind: 'run', confirmed: true };
    }
    return own && !(record?.started ?? false) ? { kind: 'run', confirmed: false } : { kind: 'lost' };
  }

  /** The idle that ends a step whose open calls all wait: for the user's approval, or (`custom`) for the program's results. */
  requiresAction(custom: readonly CustomToolUseEvent[] = []): NewEvent {
    const waiting: ToolUseRecord[] = pendingApprovals(this.state);
    const event = requiresActionIdle(
      waiting.map((record) => record.event),
      custom,
    );
    if (event !== null) return event;
    // The session's fold and this one disagree (never expected): stop rather than spin.
    return idle('error', 'Tool calls wait for an answer that Drover cannot find in the log. Send a message to continue.');
  }

  /**
   * Why no model request may start now, as the events to record, or null when one may: a cap is
   * reached (`budget_reached`), or a cost cap cannot see the model's spending.
   */
  budgetStop(model: string, nowMs: number = Date.now()): NewEvent[] | null {
    const { budget } = this.state;
    if (budget === null) return null;
    const reached: BudgetStop | null = budgetReached(budget, spentOf(this.state, nowMs), wallMsOf(this.state, nowMs));
    if (reached !== null) return [budgetReachedIdle(reached)];
    const blind = costCapProblem(budget, model);
    if (blind !== null) {
      return [
        {
          type: 'session.error',
          payload: { error: { type: 'budget_unpriced_model', message: blind }, retry_status: { type: 'terminal' } },
        },
        idle('error', blind),
      ];
    }
    return null;
  }

  /**
   * `events`, each model request's end followed by the session's cumulative `session.usage` after
   * it — in a session with a budget (the meter the user watches against the cap). A session without
   * one keeps its log as before: its spending is still the fold of its request ends (`spent`).
   */
  withUsage(events: NewEvent[]): NewEvent[] {
    if (this.state.budget === null || !events.some((event) => event.type === 'span.model_request_end')) return events;
    const probe = emptyGuardrails();
    probe.usage = { ...this.state.usage, unpricedModels: new Set(this.state.usage.unpricedModels) };
    const out: NewEvent[] = [];
    for (const event of events) {
      out.push(event);
      if (event.type !== 'span.model_request_end') continue;
      applyGuardrailEvent(probe, { ...event, seq: 0, id: '', ts: '' } as StoredEvent);
      out.push(usageEvent(spentOf(probe, 0)));
    }
    return out;
  }
}

/** The error result for a tool use the user left unanswered by sending a message instead. */
export function supersededResult(use: ToolUseEvent): NewEvent {
  return toolResult(
    use.payload.tool_use_id,
    'Not run: the user sent a new message instead of approving this tool call. Read their message; ask again if you still need it.',
    true,
    'interrupted',
    use.type === 'agent.mcp_tool_use',
  );
}
