/**
 * `POST /v1/sessions/{id}` with `agent: {tools?, mcp_servers?}`: the service's mid-session change of
 * an API session's tools (each a full replacement), applied between turns through the host's RPC
 * like a change made in the cockpit's Hands panel — hands detached, attached or updated, the new
 * tools' policies set, the custom tools replaced — and the session's agent snapshot updated. Only
 * the hands the agent's tools made are touched (not the `drover.hands` ones, nor hands the user
 * attached in the cockpit). Everything is checked before the first change.
 */
import type { BetaManagedAgentsSessionAgent } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import { HandSpecSchema } from '#shared/hands';
import type { SessionSummary } from '#shared/sessions';
import { call, type ApiContext } from './context.ts';
import { ApiError, invalid, invalidInput } from './errors.ts';
import { planTools, ToolsChangeSchema, withTools } from './session-launch.ts';
import type { SessionRecord } from './session-view.ts';

/**
 * Checks the change whole and returns the new agent snapshot and `apply`, which makes the change
 * (the caller runs it once its other checks passed, then records the snapshot).
 */
export async function prepareAgentTools(
  context: ApiContext,
  summary: SessionSummary,
  record: SessionRecord,
  change: { tools?: unknown; mcp_servers?: unknown },
): Promise<{ agent: BetaManagedAgentsSessionAgent; apply: () => Promise<void> }> {
  const current = record.agent;
  if (current === null || record.environment_id === null)
    throw invalid('agent: only a session created from an agent has agent tools to change. Attach hands to this one in Drover instead.');
  if (summary.status === 'running')
    throw new ApiError(
      'conflict_error',
      'The session is running, and its tools change between turns: interrupt it or wait until it is idle, then update.',
    );
  const parsed = ToolsChangeSchema.safeParse(change);
  if (!parsed.success) throw invalidInput('agent', parsed.error);
  const next = withTools(current, { tools: parsed.data.tools ?? undefined, mcp_servers: parsed.data.mcp_servers ?? undefined });
  const where = { environment_id: record.environment_id, vault_ids: record.vault_ids, metadata: record.metadata };
  const before = planTools(context, current, where);
  const after = planTools(context, next, where);
  const sessionId = summary.id;
  const attached = new Map((await call(context, 'hands-list', { sessionId })).map((hand) => [hand.name, hand]));
  const kept = new Set(after.hands.map((hand) => hand.name));
  const apply = async (): Promise<void> => {
    for (const hand of before.hands)
      if (!kept.has(hand.name) && attached.has(hand.name)) await call(context, 'hands-detach', { sessionId, name: hand.name });
    for (const hand of after.hands) {
      const had = attached.get(hand.name);
      if (had === undefined) await call(context, 'hands-attach', { sessionId, hand });
      else if (JSON.stringify(HandSpecSchema.parse(hand).config) !== JSON.stringify(had.config))
        await call(context, 'hands-update', { sessionId, hand });
    }
    for (const { hand, tool, policy } of after.policies) await call(context, 'sessions-set-policy', { sessionId, hand, tool, policy });
    if (JSON.stringify(before.customTools) !== JSON.stringify(after.customTools))
      await call(context, 'sessions-set-custom-tools', { sessionId, tools: after.customTools });
  };
  return { agent: next, apply };
}
