/**
 * Agents as the Managed Agents API keeps them: every version of each, in `managed.sqlite`.
 *
 * An update that changes anything stores a NEW version (the old ones stay retrievable by number,
 * so a session keeps the agent it started with); an update that changes nothing answers the
 * current version unchanged, as the service does. `version` in an update is optimistic
 * concurrency: when given and not the current version, the update is refused ('conflict').
 * Archiving stamps every version; an archived agent can no longer be changed.
 */
import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { AppError } from '#shared/errors';
import type { ManagedDb, ResourceRow } from './db.ts';
import {
  AgentCreateSchema,
  AgentUpdateSchema,
  refuseUnsupported,
  type AgentUpdateInput,
  resolveModel,
  resolveTools,
} from './agent-schema.ts';
import { resolveMultiagent } from './agent-roster.ts';
import {
  invalidArgument,
  newResourceId,
  notFoundError,
  nowIso,
  parseInput,
  patchMetadata,
  listLatest,
  type ListFilter,
} from './resource-common.ts';

export type AgentListFilter = ListFilter;

export class AgentStore {
  constructor(private readonly db: ManagedDb) {}

  /** Validates `params` (`AgentCreateParams`) and stores version 1. */
  create(params: unknown): BetaManagedAgentsAgent {
    const input = parseInput(AgentCreateSchema, params, 'The agent is not valid');
    refuseUnsupported(input);
    const { tools, mcp_servers } = resolveTools(input.tools ?? [], input.mcp_servers ?? []);
    const now = nowIso();
    const id = newResourceId('agent');
    const lookup = (ref: string, version?: number) => this.get(ref, version);
    const agent: BetaManagedAgentsAgent = {
      type: 'agent',
      id,
      version: 1,
      name: input.name,
      description: emptyToNull(input.description),
      system: emptyToNull(input.system),
      model: resolveModel(input.model),
      tools,
      mcp_servers,
      skills: [],
      multiagent:
        input.multiagent === undefined || input.multiagent === null
          ? null
          : resolveMultiagent(input.multiagent, { id, version: 1 }, lookup),
      execution_identity: { type: 'service_account' },
      metadata: input.metadata ?? {},
      created_at: now,
      updated_at: now,
      archived_at: null,
    };
    this.db.insert(rowOf(agent));
    return agent;
  }

  /** The agent's latest version, or the given one; 'not-found' in words otherwise. */
  get(id: string, version?: number): BetaManagedAgentsAgent {
    const row = this.db.get('agent', id, version);
    if (row !== null) return agentOf(row);
    if (version === undefined || this.db.get('agent', id) === null) throw missing(id);
    const latest = this.get(id);
    throw new AppError(
      'not-found',
      `The agent ${id} has no version ${version}: its versions are 1 to ${latest.version}. Leave version out for the latest.`,
    );
  }

  /** Validates `params` (`AgentUpdateParams`) and stores a new version when anything changed. */
  update(id: string, params: unknown): BetaManagedAgentsAgent {
    const input = parseInput(AgentUpdateSchema, params, 'The agent update is not valid');
    refuseUnsupported(input);
    return this.db.transaction(() => {
      const current = this.get(id);
      if (current.archived_at !== null)
        throw invalidArgument(`The agent ${id} is archived and can no longer be changed. Create a new agent instead.`);
      if (input.version !== undefined && input.version !== current.version)
        throw new AppError(
          'conflict',
          `The agent ${id} is at version ${current.version}, not ${input.version}: someone changed it meanwhile. Retrieve it, apply your change again and send version ${current.version}.`,
        );
      const toolsInput = input.tools === undefined ? undefined : (input.tools ?? []);
      const serversInput = input.mcp_servers === undefined ? undefined : (input.mcp_servers ?? []);
      let tools = current.tools;
      let mcpServers = current.mcp_servers;
      if (toolsInput !== undefined || serversInput !== undefined) {
        const resolved = resolveTools(toolsInput ?? reparamTools(current), serversInput ?? current.mcp_servers);
        tools = toolsInput === undefined ? current.tools : resolved.tools;
        mcpServers = resolved.mcp_servers;
      }
      const next: BetaManagedAgentsAgent = {
        ...current,
        name: input.name ?? current.name,
        description: input.description === undefined ? current.description : emptyToNull(input.description),
        system: input.system === undefined ? current.system : emptyToNull(input.system),
        model: input.model === undefined ? current.model : resolveModel(input.model, current.model),
        tools,
        mcp_servers: mcpServers,
        metadata: patchMetadata(current.metadata, input.metadata),
        multiagent: this.multiagentOf(input.multiagent, current, current.version),
      };
      if (sameContent(next, current)) return current;
      const version = current.version + 1;
      // A roster naming the agent itself names the version it is stored as.
      const updated: BetaManagedAgentsAgent = {
        ...next,
        multiagent: this.multiagentOf(input.multiagent, current, version),
        version,
        updated_at: laterThan(current.updated_at),
      };
      this.db.insert(rowOf(updated));
      return updated;
    });
  }

  /** An update's `multiagent` resolved (absent: the current one, with `self` pinned to `version`). */
  private multiagentOf(
    input: AgentUpdateInput['multiagent'],
    current: BetaManagedAgentsAgent,
    version: number,
  ): BetaManagedAgentsAgent['multiagent'] {
    const lookup = (ref: string, at?: number) => this.get(ref, at);
    if (input === null) return null;
    if (input !== undefined) return resolveMultiagent(input, { id: current.id, version }, lookup);
    if (current.multiagent === null || current.multiagent.type !== 'coordinator') return current.multiagent;
    return {
      ...current.multiagent,
      agents: current.multiagent.agents.map((entry) => ('id' in entry && entry.id === current.id ? { ...entry, version } : entry)),
    };
  }

  /** The latest version of every agent, newest first (archived ones only when asked). */
  list(filter: AgentListFilter = {}): BetaManagedAgentsAgent[] {
    return listLatest(this.db, 'agent', agentOf, filter);
  }

  /** Every version of an agent, newest first. */
  versions(id: string): BetaManagedAgentsAgent[] {
    const rows = this.db.versions('agent', id);
    if (rows.length === 0) throw missing(id);
    return rows.map(agentOf).reverse();
  }

  /** Archives the agent (every version); archiving an archived agent answers it as it is. */
  archive(id: string): BetaManagedAgentsAgent {
    return this.db.transaction(() => {
      const current = this.get(id);
      if (current.archived_at !== null) return current;
      const at = nowIso();
      for (const row of this.db.versions('agent', id)) {
        const agent = agentOf(row);
        this.db.replace(rowOf({ ...agent, archived_at: at }, row.updated_at));
      }
      return this.get(id);
    });
  }
}

function missing(id: string): AppError {
  return notFoundError('agent', id, 'List agents to see the ids there are.');
}

function emptyToNull(value: string | null | undefined): string | null {
  return value === undefined || value === null || value === '' ? null : value;
}

/** The stored tools as update input again (to re-check them against new MCP servers). */
function reparamTools(agent: BetaManagedAgentsAgent): Parameters<typeof resolveTools>[0] {
  return agent.tools.map((tool) => {
    if (tool.type === 'agent_toolset_20260401')
      return {
        type: tool.type,
        default_config: tool.default_config,
        configs: tool.configs.map((config) => ({
          name: config.name,
          enabled: config.enabled,
          permission_policy: config.permission_policy,
        })),
      };
    if (tool.type === 'mcp_toolset')
      return { type: tool.type, mcp_server_name: tool.mcp_server_name, default_config: tool.default_config, configs: tool.configs };
    return tool;
  });
}

function sameContent(a: BetaManagedAgentsAgent, b: BetaManagedAgentsAgent): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, inner]) => [key, canonical(inner)]),
    );
  return value;
}

/** Now, or 1 ms after `previous` when the clock has not moved on (versions' times keep their order). */
function laterThan(previous: string): string {
  const now = Date.now();
  const before = Date.parse(previous);
  return new Date(now > before ? now : before + 1).toISOString();
}

function rowOf(agent: BetaManagedAgentsAgent, updatedAt = agent.updated_at): ResourceRow {
  return {
    kind: 'agent',
    id: agent.id,
    version: agent.version,
    body: agent,
    parent: null,
    created_at: agent.created_at,
    updated_at: updatedAt,
    archived_at: agent.archived_at,
  };
}

function agentOf(row: ResourceRow): BetaManagedAgentsAgent {
  const agent = row.body as BetaManagedAgentsAgent;
  return { ...agent, archived_at: row.archived_at };
}
