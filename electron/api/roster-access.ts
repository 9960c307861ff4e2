/**
 * What a coordinator's roster member may use (issue 21): an API agent's tools and permission
 * policies in the words of the coordinator session's hands, for its roster entry
 * (`session.roster_set`'s `tools` and `policies`), so a thread started as that agent is restricted
 * as the agent is defined — whatever hands its coordinator passes it.
 *
 * A thread holds only the hands its coordinator passed, so a member's tools name the coordinator's
 * hands, matched by what they are, not by name:
 * - `agent_toolset_20260401` → the session's environment hand (or, self-hosted, the worker's): its
 *   enabled tools only, under the toolset's own names (`bash`, `read`, …), each enabled tool's policy
 *   named explicitly (so the coordinator's own per-tool policies do not leak into the thread);
 * - `mcp_toolset` → the coordinator's MCP hand for the same server URL (`<hand>__*`: every tool
 *   the server offers), its default and per-tool policies as the session's own are made (a tool
 *   turned off: `deny`); a server the coordinator does not have is not reachable at all;
 * - `custom` tools → their names.
 * A member with no tools gets none (`tools: []`: no hand tool at all, only the thread tools).
 */
import type {
  BetaManagedAgentsAgentToolset20260401,
  BetaManagedAgentsMCPToolset,
  BetaManagedAgentsSessionThreadAgent,
} from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { PermissionPolicy, PolicyEntry } from '#shared/guardrails';
import { AGENT_TOOLSET_TOOLS, type HandSpecInput } from '#shared/hands';
import type { RosterAgent } from '#shared/threads';
import { DEFAULT_ENVIRONMENT_HAND } from '#services/managed/environment-hand';
import { WORKER_HAND_ID } from '#services/managed/work-queue';

/** The coordinator session's hands a member's tools can be matched to. */
export interface CoordinatorHands {
  /** The hand the coordinator's agent toolset became (null: none); on a self-hosted environment, the worker's. */
  toolset: { hand: string; selfHosted: boolean } | null;
  /** The coordinator's MCP hands over HTTP, by server URL. */
  mcp: ReadonlyArray<{ url: string; hand: string }>;
}

/** Which of the session's planned hands (session-launch.ts's `planTools`) are the coordinator's toolset and MCP servers. */
export function coordinatorHands(
  planned: readonly HandSpecInput[],
  coordinator: { tools: BetaManagedAgentsSessionThreadAgent['tools'] },
  selfHosted: boolean,
): CoordinatorHands {
  const toolset = coordinator.tools.find((tool): tool is BetaManagedAgentsAgentToolset20260401 => tool.type === 'agent_toolset_20260401');
  const hasToolset = toolset !== undefined && toolset.configs.some((config) => config.enabled);
  const mcp: Array<{ url: string; hand: string }> = [];
  for (const hand of planned) {
    if (hand.config.kind === 'mcp' && hand.config.transport.type === 'http') mcp.push({ url: hand.config.transport.url, hand: hand.name });
  }
  return {
    toolset: !hasToolset
      ? null
      : selfHosted
        ? { hand: WORKER_HAND_ID, selfHosted: true }
        : planned.some((hand) => hand.name === DEFAULT_ENVIRONMENT_HAND)
          ? { hand: DEFAULT_ENVIRONMENT_HAND, selfHosted: false }
          : null,
    mcp,
  };
}

function policyOf(policy: { type: string }, enabled: boolean): PermissionPolicy {
  if (!enabled) return 'deny';
  return policy.type === 'always_allow' ? 'always_allow' : 'always_ask';
}

function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
}

/** The member's `tools` and `policies` for its roster entry. */
export function memberAccess(
  member: BetaManagedAgentsSessionThreadAgent,
  hands: CoordinatorHands,
): Pick<RosterAgent, 'tools' | 'policies'> {
  const tools: string[] = [];
  const policies: PolicyEntry[] = [];
  for (const tool of member.tools) {
    if (tool.type === 'agent_toolset_20260401') toolsetAccess(tool, hands, tools, policies);
    else if (tool.type === 'mcp_toolset') mcpAccess(member, tool, hands, tools, policies);
    else tools.push(tool.name);
  }
  return policies.length === 0 ? { tools } : { tools, policies };
}

function toolsetAccess(
  tool: BetaManagedAgentsAgentToolset20260401,
  hands: CoordinatorHands,
  tools: string[],
  policies: PolicyEntry[],
): void {
  if (hands.toolset === null) return;
  const { hand } = hands.toolset;
  policies.push({ hand, tool: null, policy: policyOf(tool.default_config.permission_policy, true) });
  for (const config of tool.configs) {
    if (!config.enabled || !(AGENT_TOOLSET_TOOLS as readonly string[]).includes(config.name)) continue;
    tools.push(config.name); // the toolset's tools keep their own names (`bash`, not `env__bash`), as the service names them
    policies.push({ hand, tool: config.name, policy: policyOf(config.permission_policy, true) });
  }
}

function mcpAccess(
  member: BetaManagedAgentsSessionThreadAgent,
  tool: BetaManagedAgentsMCPToolset,
  hands: CoordinatorHands,
  tools: string[],
  policies: PolicyEntry[],
): void {
  const server = member.mcp_servers.find((each) => each.name === tool.mcp_server_name);
  const match = server === undefined ? undefined : hands.mcp.find((each) => sameUrl(each.url, server.url));
  if (match === undefined) return;
  tools.push(`${match.hand}__*`);
  const fallback = tool.default_config;
  policies.push({ hand: match.hand, tool: null, policy: policyOf(fallback.permission_policy, fallback.enabled) });
  for (const config of tool.configs)
    policies.push({ hand: match.hand, tool: config.name, policy: policyOf(config.permission_policy, config.enabled) });
}
