/**
 * `POST /v1/sessions`: an agent (by id, pinned to a version, or with overrides) and an environment
 * become one call to the host's `sessions-launch`, so the session is the cockpit's like any other
 * (it appears live, with its timeline, rewind and fork) and nothing here runs sessions itself.
 *
 * The mapping, from the agent snapshot to Drover:
 * - `model`, `system` → the session's settings;
 * - `agent_toolset_20260401` on a `cloud` environment → a Docker hand (`environmentHandSpec`), its
 *   tools' permission policies → the launch's policies for that hand (a tool turned off is not on it);
 * - each `mcp_toolset` → an MCP hand over HTTP for its server in `mcp_servers` (hand name: the server's
 *   name lowercased, other characters as `-`, at most 32), its bearer from the session's vaults'
 *   `static_bearer` credential whose `mcp_server_url` is the server's URL (the value stays in the
 *   vault); its policies as above, a tool turned off → `disabled_tools` (all off by default → `deny`);
 * - `custom` tools → the launch's `custom_tools`;
 * - `budget` → the session's budget (omitted: Drover's default budget for new sessions, as in the cockpit);
 * - `initial_events` → an outcome and a first message in the launch itself, the rest sent in order.
 * - `metadata["drover.hands"]` → more hands the service has no words for (SSH machines, MCP servers
 *   started by a command, another Docker image): a JSON array of Drover hand specs `{name, config}`
 *   exactly as the cockpit records them (`shared/hands.ts`; a secret named by the id of a credential
 *   of the session's vaults, `vcrd_…`);
 *   `metadata["drover.image"]` → the image of the environment's Docker hand (over the environment's).
 *
 * Everything is checked before the launch, so a refused request records nothing.
 */
import type { BetaManagedAgentsAgent, BetaManagedAgentsMCPToolset } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { BetaManagedAgentsSession, BetaManagedAgentsSessionAgent } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import { z } from 'zod';
import type { OutcomeDefinitionInput } from '#shared/events';
import type { PermissionPolicy, PolicyChoice } from '#shared/guardrails';
import { AGENT_TOOLSET_TOOLS, HandSpecSchema, type AgentToolName, type HandSpecInput } from '#shared/hands';
import type { CustomTool } from '#shared/events';
import { rpcMethods } from '#shared/rpc';
import { AgentStore } from '#services/managed/agents';
import { AgentUpdateSchema, resolveModel, resolveTools } from '#services/managed/agent-schema';
import { rosterMembers, rosterOf } from '#services/managed/agent-roster';
import { coordinatorHands, memberAccess } from './roster-access.ts';
import { EnvironmentStore } from '#services/managed/environments';
import { environmentHandSpec } from '#services/managed/environment-hand';
import { workQueueFor } from './work.ts';
import { VaultStore } from '#services/managed/vaults';
import { call, type ApiContext } from './context.ts';
import { invalid, invalidInput } from './errors.ts';
import type { AgentRef, CreateSessionBody, InitialEvent } from './sessions-body.ts';
import { retrieveSession, writeRecord } from './session-view.ts';

const DroverHandsSchema = z.array(HandSpecSchema).max(8);

/** The agent the session runs: the stored one (latest or pinned), with the request's overrides applied. */
export function resolveAgent(context: ApiContext, ref: AgentRef): BetaManagedAgentsSessionAgent {
  const agents = new AgentStore(context.managed);
  const stored: BetaManagedAgentsAgent =
    typeof ref === 'string' ? agents.get(ref) : ref.version === undefined ? agents.get(ref.id) : agents.get(ref.id, ref.version);
  if (stored.archived_at !== null)
    throw invalid(`The agent ${stored.id} is archived: no new session can start from it. Create a new agent, or use another.`);
  let agent: BetaManagedAgentsSessionAgent = {
    id: stored.id,
    type: 'agent',
    version: stored.version,
    name: stored.name,
    description: stored.description,
    execution_identity: stored.execution_identity,
    model: stored.model,
    system: stored.system,
    tools: stored.tools,
    mcp_servers: stored.mcp_servers,
    skills: stored.skills,
    // The coordinator's roster with each member's full definition, as the service shows it (agent-roster.ts).
    multiagent:
      stored.multiagent?.type === 'coordinator'
        ? { type: 'coordinator', agents: rosterMembers(stored.multiagent, (id, version) => agents.get(id, version)) }
        : null,
  };
  if (typeof ref === 'string' || ref.type === 'agent') return agent;
  // Overrides are checked as the agents resource checks an update, then resolved the same way.
  const parsed = AgentUpdateSchema.pick({ model: true, system: true, tools: true, mcp_servers: true, skills: true }).safeParse({
    ...(ref.model === undefined ? {} : { model: ref.model }),
    ...(ref.system === undefined ? {} : { system: ref.system }),
    ...(ref.tools === undefined ? {} : { tools: ref.tools }),
    ...(ref.mcp_servers === undefined ? {} : { mcp_servers: ref.mcp_servers }),
    ...(ref.skills === undefined ? {} : { skills: ref.skills }),
  });
  if (!parsed.success) throw invalidInput('agent (overrides)', parsed.error);
  const overrides = parsed.data;
  if (overrides.skills !== undefined && overrides.skills !== null && overrides.skills.length > 0)
    throw invalid('agent.skills: Drover does not load skills yet. Leave skills out (or send an empty list).');
  if (overrides.model !== undefined) agent = { ...agent, model: resolveModel(overrides.model, agent.model) };
  if (overrides.system !== undefined) agent = { ...agent, system: overrides.system ?? null };
  if (overrides.tools !== undefined || overrides.mcp_servers !== undefined)
    agent = withTools(agent, { tools: overrides.tools ?? undefined, mcp_servers: overrides.mcp_servers ?? undefined });
  return agent;
}

/**
 * The agent with its tools and/or MCP servers replaced (each a full replacement, as the service
 * does), resolved as the agents resource resolves them: checked together, since a replaced server
 * list must still serve the tools.
 */
export function withTools(
  agent: BetaManagedAgentsSessionAgent,
  change: { tools?: readonly ToolInput[] | undefined; mcp_servers?: readonly McpServerInput[] | undefined },
): BetaManagedAgentsSessionAgent {
  const resolved = resolveTools(
    change.tools ?? (agent.tools as readonly ToolInput[]),
    change.mcp_servers ?? agent.mcp_servers.map((server) => ({ type: 'url' as const, name: server.name, url: server.url })),
  );
  return { ...agent, tools: resolved.tools, mcp_servers: resolved.mcp_servers };
}

/** An agent update's `tools` and `mcp_servers`, checked as the agents resource checks them. */
export const ToolsChangeSchema = AgentUpdateSchema.pick({ tools: true, mcp_servers: true });
type ToolInput = Parameters<typeof resolveTools>[0][number];
type McpServerInput = Parameters<typeof resolveTools>[1][number];

/** Managed Agents' permission policy in Drover's words (`auto` is refused when the agent is stored). */
function policyOf(policy: { type: string }, enabled: boolean): PermissionPolicy {
  if (!enabled) return 'deny';
  return policy.type === 'always_allow' ? 'always_allow' : 'always_ask';
}

/** A hand name from an MCP server's name: lowercase letters, digits and dashes, starting with a letter, unique. */
export function mcpHandName(serverName: string, taken: ReadonlySet<string>): string {
  let base = serverName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 32);
  if (base === '') base = 'mcp';
  let name = base;
  for (let index = 2; taken.has(name); index++) name = `${base.slice(0, 32 - String(index).length - 1)}-${index}`;
  return name;
}

function isToolsetTool(name: string): name is AgentToolName {
  return (AGENT_TOOLSET_TOOLS as readonly string[]).includes(name);
}

function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
}

/** Where a session's tools run and what they may use: its environment, its vaults, its `drover.*` metadata. */
export interface PlanContext {
  environment_id: string;
  vault_ids?: readonly string[] | undefined;
  metadata?: Readonly<Record<string, string>> | undefined;
}

export interface Plan {
  hands: HandSpecInput[];
  policies: PolicyChoice[];
  customTools: CustomTool[];
}

/** The hands, policies and custom tools the agent's tools become (checked whole: it throws before anything is done). */
export function planTools(context: ApiContext, agent: BetaManagedAgentsSessionAgent, body: PlanContext): Plan {
  const hands: HandSpecInput[] = [];
  const policies: PolicyChoice[] = [];
  const customTools: CustomTool[] = [];
  const taken = new Set<string>();
  const environment = new EnvironmentStore(context.managed).get(body.environment_id);
  const credentials = new VaultStore(context.managed, null).credentialsFor(body.vault_ids ?? []);
  for (const tool of agent.tools) {
    if (tool.type === 'agent_toolset_20260401') {
      // A self-hosted environment's toolset is its worker's hand (work.ts), not a Docker hand.
      if (environment.config.type === 'self_hosted') continue;
      const image = body.metadata?.['drover.image'];
      // A tool turned off is not on the hand at all; the others keep their permission policies.
      const enabled = tool.configs.filter((config) => config.enabled && isToolsetTool(config.name)).map((config) => config.name);
      // Every tool turned off: no hand at all (a Docker hand without the toolset would offer its own shell).
      if (enabled.length === 0) continue;
      const spec = environmentHandSpec(
        image === undefined ? environment : { ...environment, metadata: { ...environment.metadata, 'drover.image': image } },
        { defaultImage: context.defaultImage(), toolset: enabled.filter(isToolsetTool) },
      );
      hands.push(spec);
      taken.add(spec.name);
      const fallback = policyOf(tool.default_config.permission_policy, true);
      policies.push({ hand: spec.name, tool: null, policy: fallback });
      for (const config of tool.configs) {
        if (!config.enabled || !isToolsetTool(config.name)) continue;
        const policy = policyOf(config.permission_policy, true);
        if (policy !== fallback) policies.push({ hand: spec.name, tool: config.name, policy });
      }
    } else if (tool.type === 'mcp_toolset') {
      const spec = mcpHand(agent, tool, taken, credentials);
      hands.push(spec.hand);
      policies.push(...spec.policies);
    } else {
      customTools.push({ name: tool.name, description: tool.description, input_schema: tool.input_schema });
    }
  }
  const extra = body.metadata?.['drover.hands'];
  if (extra !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(extra);
    } catch {
      throw invalid(
        'metadata["drover.hands"] is not JSON: give a JSON array of hand specs like [{"name": "box", "config": {"kind": "ssh", …}}].',
      );
    }
    const parsed = DroverHandsSchema.safeParse(withCredentialSecrets(json, credentials));
    if (!parsed.success) throw invalidInput('metadata["drover.hands"]', parsed.error);
    for (const hand of parsed.data) {
      if (taken.has(hand.name))
        throw invalid(`metadata["drover.hands"]: the hand name "${hand.name}" is already the agent's; give it another name.`);
      taken.add(hand.name);
      hands.push(hand);
    }
  }
  return { hands, policies, customTools };
}

/**
 * A `drover.hands` spec names secrets by the id of a credential of the session's vaults (`vcrd_…`),
 * replaced here by the id of the secret holding its value: a program driving the API can use the
 * secrets it gave the API, never another of the user's vault (a raw `sec_…` id is refused).
 */
export function withCredentialSecrets(json: unknown, credentials: ReturnType<VaultStore['credentialsFor']>, at = ''): unknown {
  if (Array.isArray(json)) return json.map((item, index) => withCredentialSecrets(item, credentials, `${at}${at ? '.' : ''}${index}`));
  if (typeof json !== 'object' || json === null) return json;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const where = `${at}${at ? '.' : ''}${key}`;
    if ((key === 'secret_id' || key.endsWith('_secret_id')) && typeof value === 'string') {
      const credential = credentials.find((each) => each.id === value);
      if (credential === undefined)
        throw invalid(
          `metadata["drover.hands"] ${where}: name a credential of the session's vaults by its id (vcrd_…), not ${JSON.stringify(value.slice(0, 40))}. Add the secret to a vault with client.beta.vaults.credentials.create and list the vault in vault_ids.`,
        );
      out[key] = credential.secret_id;
    } else out[key] = withCredentialSecrets(value, credentials, where);
  }
  return out;
}

function mcpHand(
  agent: BetaManagedAgentsSessionAgent,
  tool: BetaManagedAgentsMCPToolset,
  taken: Set<string>,
  credentials: ReturnType<VaultStore['credentialsFor']>,
): { hand: HandSpecInput; policies: PolicyChoice[] } {
  const server = agent.mcp_servers.find((each) => each.name === tool.mcp_server_name);
  if (server === undefined)
    throw invalid(`agent: its mcp_toolset names the MCP server "${tool.mcp_server_name}", which is not in its mcp_servers.`);
  const name = mcpHandName(server.name, taken);
  taken.add(name);
  const bearer = credentials.find(
    (credential) => credential.auth.type === 'static_bearer' && sameUrl(credential.auth.mcp_server_url, server.url),
  );
  const fallback = tool.default_config;
  const policies: PolicyChoice[] = [{ hand: name, tool: null, policy: policyOf(fallback.permission_policy, fallback.enabled) }];
  const disabled: string[] = [];
  for (const config of tool.configs) {
    if (!config.enabled && fallback.enabled) disabled.push(config.name);
    else policies.push({ hand: name, tool: config.name, policy: policyOf(config.permission_policy, config.enabled) });
  }
  return {
    hand: {
      name,
      config: {
        kind: 'mcp',
        transport: { type: 'http', url: server.url, headers: {}, bearer_secret_id: bearer?.secret_id ?? null },
        disabled_tools: disabled,
      },
    },
    policies,
  };
}

/** A well-formed uuid standing for the session not yet made, to check arguments against the RPC's schemas. */
const PLACEHOLDER_ID = '00000000-0000-4000-8000-000000000000';

/** `sessions-send`'s variant with content blocks (its union's errors would only say "invalid input"). */
const SEND_CONTENT = rpcMethods['sessions-send'].arg.options.find((option) => 'content' in option.shape) ?? rpcMethods['sessions-send'].arg;

/** The log's title for a session given none: the agent's name, without what a title may not hold. */
function titleFrom(name: string): string {
  return (
    name
      .replace(/[\p{Cc}\u202A-\u202E\u2066-\u2069]/gu, ' ')
      .trim()
      .slice(0, 200)
      .trim() || 'API session'
  );
}

/** A define_outcome event in Drover's words. */
function outcomeOf(event: Extract<InitialEvent, { type: 'user.define_outcome' }>): OutcomeDefinitionInput {
  if (event.rubric.type === 'file')
    throw invalid('initial_events: Drover has no Files API, so a rubric is given as text: {"type": "text", "content": "…"}.');
  return {
    description: event.description,
    rubric: event.rubric.content,
    ...(event.max_iterations === undefined || event.max_iterations === null ? {} : { max_iterations: event.max_iterations }),
  };
}

function launchArgOf(context: ApiContext, agent: BetaManagedAgentsSessionAgent, body: CreateSessionBody) {
  const plan = planTools(context, agent, body);
  const events = body.initial_events ?? [];
  // The launch takes the first outcome and the first message when they open the list (in that order);
  // whatever follows is sent in order after it.
  let next = 0;
  let outcome: OutcomeDefinitionInput | undefined;
  let message: string | undefined;
  const first = events[0];
  if (first?.type === 'user.define_outcome') {
    outcome = outcomeOf(first);
    next = 1;
  }
  const opening = events[next];
  if (opening?.type === 'user.message') {
    const text = opening.content.map((block) => (block.type === 'text' ? block.text : null));
    if (!text.includes(null) && text.join('\n').trim() !== '') {
      message = text.join('\n');
      next += 1;
    }
  }
  const rest = events.slice(next);
  // What is sent after the launch is checked now against the very methods that will take it, so a
  // refused event leaves no session behind.
  for (const [index, event] of rest.entries()) {
    const checked =
      event.type === 'user.define_outcome'
        ? rpcMethods['sessions-define-outcome'].arg.safeParse({ sessionId: PLACEHOLDER_ID, outcome: outcomeOf(event) })
        : SEND_CONTENT.safeParse({ sessionId: PLACEHOLDER_ID, content: event.content });
    if (!checked.success) throw invalidInput(`initial_events.${events.length - rest.length + index}`, checked.error);
  }
  const arg = {
    title: body.title ?? titleFrom(agent.name),
    settings: { model: agent.model.id, system: agent.system ?? '' },
    ...(plan.hands.length > 0 ? { hands: plan.hands } : {}),
    ...(plan.policies.length > 0 ? { policies: plan.policies } : {}),
    ...(plan.customTools.length > 0 ? { custom_tools: plan.customTools } : {}),
    ...(body.budget === undefined ? {} : { budget: body.budget }),
    ...(outcome === undefined ? {} : { outcome }),
    ...(message === undefined ? {} : { message }),
  };
  return { arg, rest, plan };
}

/** Creates the session: checks everything, launches it through the host, keeps its record, answers it. */
export async function createSession(context: ApiContext, body: CreateSessionBody): Promise<BetaManagedAgentsSession> {
  const agent = resolveAgent(context, body.agent);
  const environment = new EnvironmentStore(context.managed).get(body.environment_id);
  if (environment.archived_at !== null)
    throw invalid(`The environment ${environment.id} is archived: no new session can use it. Create a new environment, or use another.`);
  const { arg: launch, rest, plan } = launchArgOf(context, agent, body);
  // A self-hosted session's hand is found through its record: its first message waits for the record.
  const selfHosted = environment.config.type === 'self_hosted';
  // A coordinator's roster is the session's before its first message (issue 21: session.roster_set).
  const roster =
    agent.multiagent?.type === 'coordinator'
      ? rosterOf(
          agent.id,
          agent.multiagent.agents.filter((member) => member.type === 'agent'),
          // Each member's tools and policies, on the coordinator's hands (roster-access.ts).
          (member) => memberAccess(member, coordinatorHands(plan.hands, agent, environment.config.type === 'self_hosted')),
        )
      : null;
  const deferred = selfHosted || roster !== null;
  const { message, ...withoutMessage } = launch;
  const summary = await call(context, 'sessions-launch', deferred ? withoutMessage : launch);
  if (roster !== null) await call(context, 'sessions-set-roster', { sessionId: summary.id, roster });
  // Its worker's work is queued at once, so a worker can attach before the first tool call.
  if (selfHosted) workQueueFor(context).ensureWork(environment.id, summary.id);
  writeRecord(
    context,
    summary.id,
    {
      agent,
      environment_id: body.environment_id,
      metadata: body.metadata ?? {},
      vault_ids: body.vault_ids ?? [],
      title: body.title ?? null,
    },
    { createdAt: summary.createdAt },
  );
  if (deferred && message !== undefined)
    await call(context, 'sessions-send', { sessionId: summary.id, content: [{ type: 'text', text: message }] });
  for (const event of rest) {
    if (event.type === 'user.define_outcome')
      await call(context, 'sessions-define-outcome', { sessionId: summary.id, outcome: outcomeOf(event) });
    else await call(context, 'sessions-send', { sessionId: summary.id, content: event.content });
  }
  return retrieveSession(context, summary.id);
}
