/**
 * An agent's parameters as the official SDK sends them (`AgentCreateParams`, `AgentUpdateParams`),
 * validated strictly, and their resolution into the stored `BetaManagedAgentsAgent` shape.
 *
 * Accepted as the service accepts them: a model as a string or `{id, effort?, speed?}`; tools
 * (`agent_toolset_20260401` with per-tool configs, `mcp_toolset`, `custom`); `mcp_servers`;
 * `system`, `description`, `metadata`. Refused in words, because Drover cannot do them (never
 * silently dropped): `skills`, a `multiagent` other than the coordinator topology (agent-roster.ts), an `aws_role` execution identity, the `auto`
 * permission policy (no server-side risk judge), enabled `web_fetch` / `web_search`, `fast` speed
 * and `inference_geo`.
 */
import { z } from 'zod';
import type {
  BetaManagedAgentsAgent,
  BetaManagedAgentsAgentToolConfig,
  BetaManagedAgentsAgentToolset20260401,
  BetaManagedAgentsCustomTool,
  BetaManagedAgentsMCPServerURLDefinition,
  BetaManagedAgentsMCPToolset,
  BetaManagedAgentsModelConfig,
} from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { invalidArgument, MetadataPatchSchema, MetadataSchema } from './resource-common.ts';
import { MultiagentSchema } from './agent-roster.ts';

type Policy = { type: 'always_allow' } | { type: 'always_ask' } | { type: 'auto' };
type Tool = BetaManagedAgentsAgent['tools'][number];

const PolicySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('always_allow') }),
  z.strictObject({ type: z.literal('always_ask') }),
  z.strictObject({ type: z.literal('auto') }),
]);

/** The agent toolset's tools Drover runs (on the session's Docker hand). */
export const AGENT_TOOLSET_TOOLS = ['bash', 'edit', 'read', 'write', 'glob', 'grep'] as const;
/** The toolset's web tools, which Drover does not offer (an agent may name them only to keep them off). */
export const WEB_TOOLS = ['web_fetch', 'web_search'] as const;
const TOOL_NAMES = [...AGENT_TOOLSET_TOOLS, ...WEB_TOOLS] as const;

const DefaultConfigSchema = z.strictObject({
  enabled: z.boolean().nullish(),
  permission_policy: PolicySchema.nullish(),
});

const domains = z.array(z.string().min(1).max(253)).max(64);
const ToolConfigSchema = z
  .strictObject({
    name: z.enum(TOOL_NAMES),
    type: z.enum(TOOL_NAMES).optional(),
    enabled: z.boolean().nullish(),
    permission_policy: PolicySchema.nullish(),
    // web_fetch / web_search only (accepted so a config that keeps them off parses as sent).
    allowed_domains: domains.optional(),
    blocked_domains: domains.optional(),
    max_content_tokens: z.number().int().positive().nullish(),
    url_sources: z.unknown().optional(),
    user_location: z.unknown().optional(),
  })
  .refine((config) => config.type === undefined || config.type === config.name, {
    message: 'type must equal name when given',
    path: ['type'],
  });

const AgentToolsetSchema = z.strictObject({
  type: z.literal('agent_toolset_20260401'),
  configs: z.array(ToolConfigSchema).max(TOOL_NAMES.length).optional(),
  default_config: DefaultConfigSchema.nullish(),
});

const McpToolsetSchema = z.strictObject({
  type: z.literal('mcp_toolset'),
  mcp_server_name: z.string().min(1).max(255),
  configs: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(128),
        enabled: z.boolean().nullish(),
        permission_policy: PolicySchema.nullish(),
      }),
    )
    .max(256)
    .optional(),
  default_config: DefaultConfigSchema.nullish(),
});

const CustomToolSchema = z.strictObject({
  type: z.literal('custom'),
  name: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'a custom tool name is 1-128 letters, digits, underscores or hyphens'),
  description: z.string().min(1, 'describe what the tool does, for the model').max(10_000),
  input_schema: z.looseObject({
    type: z.literal('object'),
    properties: z.record(z.string(), z.unknown()).nullish(),
    required: z.array(z.string()).nullish(),
  }),
});

const ToolSchema = z.discriminatedUnion('type', [AgentToolsetSchema, McpToolsetSchema, CustomToolSchema]);

const McpServerSchema = z.strictObject({
  type: z.literal('url'),
  name: z.string().min(1).max(255),
  url: z
    .string()
    .max(2048)
    .refine((url) => /^https?:$/.test(safeProtocol(url)), 'the url must be an http:// or https:// URL'),
});

const EFFORTS = ['low', 'medium', 'high', 'xhigh', 'max'] as const;
const ModelSchema = z.preprocess(
  (value) => (typeof value === 'string' ? { id: value } : value),
  z.strictObject(
    {
      id: z.string().min(1, 'the model id is empty').max(256),
      effort: z
        .union([z.enum(EFFORTS), z.strictObject({ type: z.enum(EFFORTS) })])
        .nullish()
        .transform((effort) => (effort === null || effort === undefined ? effort : typeof effort === 'string' ? { type: effort } : effort)),
      inference_geo: z.string().max(64).nullish(),
      speed: z.enum(['standard', 'fast']).nullish(),
    },
    {
      error: (issue) =>
        issue.code === 'invalid_type'
          ? 'give the model as an id like "claude-sonnet-4-6" or as {"id": "claude-sonnet-4-6", "effort": "high"}'
          : undefined,
    },
  ),
);

const ExecutionIdentitySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('service_account') }),
  z.strictObject({ type: z.literal('aws_role'), role_arn: z.string().min(1).max(2048) }),
]);

const SkillSchema = z.strictObject({
  type: z.enum(['anthropic', 'custom']),
  skill_id: z.string().min(1).max(256),
  version: z.string().max(64).nullish(),
});

const NameSchema = z.string().min(1, 'the name is empty').max(256, 'a name is at most 256 characters');
const DescriptionSchema = z.string().max(4096, 'a description is at most 4,096 characters');
const SystemSchema = z.string().max(1_000_000, 'a system prompt is at most 1,000,000 characters');

export const AgentCreateSchema = z.strictObject({
  name: NameSchema,
  model: ModelSchema,
  description: DescriptionSchema.nullish(),
  system: SystemSchema.nullish(),
  metadata: MetadataSchema.optional(),
  tools: z.array(ToolSchema).max(256).optional(),
  mcp_servers: z.array(McpServerSchema).max(20, 'an agent has at most 20 MCP servers').optional(),
  skills: z.array(SkillSchema).optional(),
  multiagent: MultiagentSchema.nullish(),
  execution_identity: ExecutionIdentitySchema.nullish(),
});
export type AgentCreateInput = z.output<typeof AgentCreateSchema>;

export const AgentUpdateSchema = z.strictObject({
  version: z.number().int().min(1, 'version is at least 1').optional(),
  name: NameSchema.optional(),
  model: ModelSchema.optional(),
  description: DescriptionSchema.nullish(),
  system: SystemSchema.nullish(),
  metadata: MetadataPatchSchema.nullish(),
  tools: z.array(ToolSchema).max(256).nullish(),
  mcp_servers: z.array(McpServerSchema).max(20, 'an agent has at most 20 MCP servers').nullish(),
  skills: z.array(SkillSchema).nullish(),
  multiagent: MultiagentSchema.nullish(),
  execution_identity: ExecutionIdentitySchema.nullish(),
});
export type AgentUpdateInput = z.output<typeof AgentUpdateSchema>;

type ModelInput = z.output<typeof ModelSchema>;
type ToolInput = z.output<typeof ToolSchema>;
type McpServerInput = z.output<typeof McpServerSchema>;

function safeProtocol(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return '';
  }
}

/** The model as stored; `previous` keeps the stored effort when an update omits it (the service's rule). */
export function resolveModel(model: ModelInput, previous?: BetaManagedAgentsModelConfig): BetaManagedAgentsModelConfig {
  if (model.speed === 'fast') throw invalidArgument('model.speed "fast" is not available in Drover: send "standard" or leave speed out.');
  if (model.inference_geo !== undefined && model.inference_geo !== null)
    throw invalidArgument('model.inference_geo is not available in Drover (requests go where your API key sends them): leave it out.');
  const effort =
    model.effort ?? (model.effort === undefined && previous?.effort !== undefined ? previous.effort : { type: 'high' as const });
  return { id: model.id, effort, speed: 'standard' };
}

function policyOf(
  policy: Policy | null | undefined,
  fallback: Policy,
  where: string,
): BetaManagedAgentsAgentToolConfig['permission_policy'] {
  const chosen = policy ?? fallback;
  if (chosen.type === 'auto')
    throw invalidArgument(
      `${where}: the "auto" permission policy needs the service's risk judge, which Drover does not have. Use "always_allow" or "always_ask".`,
    );
  return chosen;
}

function resolveAgentToolset(
  tool: Extract<ToolInput, { type: 'agent_toolset_20260401' }>,
  at: string,
): BetaManagedAgentsAgentToolset20260401 {
  const defaultEnabled = tool.default_config?.enabled ?? true;
  const defaultPolicy = policyOf(tool.default_config?.permission_policy, { type: 'always_allow' }, `${at}.default_config`);
  const given = new Map<string, NonNullable<typeof tool.configs>[number]>();
  for (const [index, config] of (tool.configs ?? []).entries()) {
    if (given.has(config.name)) throw invalidArgument(`${at}.configs.${index}: the tool "${config.name}" is configured twice.`);
    given.set(config.name, config);
  }
  const configs: BetaManagedAgentsAgentToolConfig[] = [];
  for (const name of AGENT_TOOLSET_TOOLS) {
    const config = given.get(name);
    configs.push({
      name,
      type: name,
      enabled: config?.enabled ?? defaultEnabled,
      permission_policy: policyOf(config?.permission_policy, defaultPolicy, `${at}.configs (${name})`),
    } as BetaManagedAgentsAgentToolConfig);
  }
  for (const name of WEB_TOOLS) {
    const config = given.get(name);
    if (config !== undefined && config.enabled !== false)
      throw invalidArgument(
        `${at}: Drover does not offer web tools yet (${name}). Remove its config, or set "enabled": false to keep it off.`,
      );
    const policy = policyOf(config?.permission_policy, defaultPolicy, `${at}.configs (${name})`);
    configs.push(
      name === 'web_fetch'
        ? { name, type: name, enabled: false, permission_policy: policy, url_sources: null }
        : { name, type: name, enabled: false, permission_policy: policy },
    );
  }
  return {
    type: 'agent_toolset_20260401',
    default_config: { enabled: defaultEnabled, permission_policy: defaultPolicy },
    configs,
  };
}

function resolveMcpToolset(tool: Extract<ToolInput, { type: 'mcp_toolset' }>, at: string): BetaManagedAgentsMCPToolset {
  const defaultEnabled = tool.default_config?.enabled ?? true;
  const defaultPolicy = policyOf(tool.default_config?.permission_policy, { type: 'always_ask' }, `${at}.default_config`);
  const names = new Set<string>();
  const configs = (tool.configs ?? []).map((config, index) => {
    if (names.has(config.name)) throw invalidArgument(`${at}.configs.${index}: the tool "${config.name}" is configured twice.`);
    names.add(config.name);
    return {
      name: config.name,
      enabled: config.enabled ?? defaultEnabled,
      permission_policy: policyOf(config.permission_policy, defaultPolicy, `${at}.configs.${index}`),
    };
  });
  return {
    type: 'mcp_toolset',
    mcp_server_name: tool.mcp_server_name,
    default_config: { enabled: defaultEnabled, permission_policy: defaultPolicy },
    configs,
  };
}

/** Tools and MCP servers as stored, checked together (one toolset, unique names, every server used). */
export function resolveTools(
  tools: readonly ToolInput[],
  servers: readonly McpServerInput[],
): { tools: Tool[]; mcp_servers: BetaManagedAgentsMCPServerURLDefinition[] } {
  const serverNames = new Set<string>();
  for (const [index, server] of servers.entries()) {
    if (serverNames.has(server.name))
      throw invalidArgument(`mcp_servers.${index}: the name "${server.name}" is used twice; names are unique.`);
    serverNames.add(server.name);
  }
  const resolved: Tool[] = [];
  const referenced = new Set<string>();
  const customNames = new Set<string>();
  let toolsets = 0;
  for (const [index, tool] of tools.entries()) {
    const at = `tools.${index}`;
    if (tool.type === 'agent_toolset_20260401') {
      if (++toolsets > 1) throw invalidArgument(`${at}: an agent has one agent_toolset_20260401; merge their configs into one.`);
      resolved.push(resolveAgentToolset(tool, at));
    } else if (tool.type === 'mcp_toolset') {
      if (!serverNames.has(tool.mcp_server_name))
        throw invalidArgument(`${at}: no MCP server is named "${tool.mcp_server_name}"; add it to mcp_servers or fix the name.`);
      if (referenced.has(tool.mcp_server_name))
        throw invalidArgument(`${at}: the MCP server "${tool.mcp_server_name}" already has an mcp_toolset; merge their configs.`);
      referenced.add(tool.mcp_server_name);
      resolved.push(resolveMcpToolset(tool, at));
    } else {
      if (customNames.has(tool.name)) throw invalidArgument(`${at}: the custom tool name "${tool.name}" is used twice.`);
      customNames.add(tool.name);
      const custom: BetaManagedAgentsCustomTool = {
        type: 'custom',
        name: tool.name,
        description: tool.description,
        input_schema: tool.input_schema,
      };
      resolved.push(custom);
    }
  }
  for (const name of serverNames)
    if (!referenced.has(name))
      throw invalidArgument(
        `mcp_servers: the server "${name}" is not used by any tool; add {"type": "mcp_toolset", "mcp_server_name": "${name}"} to tools, or remove it.`,
      );
  return { tools: resolved, mcp_servers: servers.map((server) => ({ type: 'url', name: server.name, url: server.url })) };
}

/** Refuses what Drover cannot run: skills, an AWS role. */
export function refuseUnsupported(input: { skills?: unknown[] | null; execution_identity?: { type: string } | null }): void {
  if (input.skills !== undefined && input.skills !== null && input.skills.length > 0)
    throw invalidArgument('skills are not available in Drover yet: send an empty list or leave skills out.');
  if (input.execution_identity?.type === 'aws_role')
    throw invalidArgument(
      'execution_identity "aws_role" is not available in Drover: runs happen on your own machine. Send {"type": "service_account"} or leave it out.',
    );
}
