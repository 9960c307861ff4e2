/**
 * Which of Managed Agents' `agent_toolset_20260401` tools an agent turns on, read from the toolset
 * as the SDK gives it (its `default_config` and per-tool `configs`). Drover offers `bash`, `read`,
 * `write`, `edit`, `glob` and `grep`; a toolset that turns on `web_fetch` or `web_search` is
 * refused with a sentence saying so (never silently dropped). Pure: no I/O.
 */
import type {
  BetaManagedAgentsAgentToolset20260401,
  BetaManagedAgentsAgentToolset20260401Params,
} from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { AppError } from '#shared/errors';
import { AGENT_TOOLSET_TOOLS, type AgentToolName } from '#shared/hands';

/** The toolset's tools Drover does not offer (yet). */
const WEB_TOOLS: ReadonlySet<string> = new Set(['web_fetch', 'web_search']);

type Toolset = BetaManagedAgentsAgentToolset20260401 | BetaManagedAgentsAgentToolset20260401Params;

/**
 * The toolset's tools that are on, in the toolset's order. Throws an `invalid-argument` AppError
 * when the toolset turns on a web tool, names a tool the toolset does not have, or turns every tool off.
 */
export function agentToolsetTools(toolset: Toolset): AgentToolName[] {
  const byDefault = toolset.default_config?.enabled ?? true;
  const configs = toolset.configs ?? [];
  const web = configs.filter((config) => WEB_TOOLS.has(config.name) && (config.enabled ?? byDefault)).map((config) => config.name);
  if (web.length > 0) {
    throw new AppError(
      'invalid-argument',
      `Drover does not offer web tools yet: the agent's agent_toolset_20260401 turns on ${web.join(' and ')}. Set {"name": "${web[0]}", "enabled": false} in its configs (or remove that entry), and fetch pages with bash (curl or wget in the environment's image) instead.`,
    );
  }
  const known = new Set<string>([...AGENT_TOOLSET_TOOLS, ...WEB_TOOLS]);
  const unknown = configs.filter((config) => !known.has(config.name)).map((config) => config.name);
  if (unknown.length > 0) {
    throw new AppError(
      'invalid-argument',
      `The agent_toolset_20260401 has no tool named ${unknown.map((name) => `"${name}"`).join(', ')}. Its tools: ${[...AGENT_TOOLSET_TOOLS, ...WEB_TOOLS].join(', ')}.`,
    );
  }
  const enabled = AGENT_TOOLSET_TOOLS.filter((tool) => {
    const config = configs.find((entry) => entry.name === tool);
    return config?.enabled ?? byDefault;
  });
  if (enabled.length === 0) {
    throw new AppError(
      'invalid-argument',
      'The agent_toolset_20260401 turns every tool off. Turn at least one on, or leave the toolset out of the agent’s tools.',
    );
  }
  return enabled;
}
