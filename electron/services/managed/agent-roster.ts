/**
 * `multiagent` on agents (issue 21): the coordinator topology, `{type: 'coordinator', agents: [...]}`,
 * each entry an agent id, `{type: 'agent', id, version?}` or `{type: 'self'}`. Stored resolved, as
 * the service does (each entry pinned to a version; `self` to the agent's own id and version), and
 * turned into a session's roster (shared/threads.ts) when a session starts from the agent: each
 * referenced agent's model and system prompt under a name the coordinator's tools accept, and
 * `self` as `self_copies`; with each member's tools and permission policies when the session's hands
 * are known (electron/api/roster-access.ts).
 *
 * Checked as the service checks it: 1–20 entries, distinct agents, at most one `self`, each
 * referenced agent existing, not archived and without a `multiagent` of its own (depth 1).
 */
import type {
  BetaManagedAgentsAgent,
  BetaManagedAgentsAgentReference,
  BetaManagedAgentsMultiagentCoordinator,
  BetaManagedAgentsSessionThreadAgent,
} from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { z } from 'zod';
import { isAppError } from '#shared/errors';
import type { Roster, RosterAgent } from '#shared/threads';
import { invalidArgument } from './resource-common.ts';

const EntrySchema = z.union([
  z.string().min(1).max(256),
  z.strictObject({ type: z.literal('agent'), id: z.string().min(1).max(256), version: z.number().int().min(1).optional() }),
  z.strictObject({ type: z.literal('self') }),
]);

export const MultiagentSchema = z.strictObject({
  type: z.literal('coordinator', {
    error: 'Drover runs the "coordinator" topology: send {"type": "coordinator", "agents": [...]}, or null for a single-threaded agent',
  }),
  agents: z.array(EntrySchema).min(1, 'name at least one agent the coordinator may start').max(20, 'a roster has at most 20 agents'),
});
export type MultiagentInput = z.output<typeof MultiagentSchema>;

/** Reads a stored agent (latest or a version); throws the store's not-found otherwise. */
export type AgentLookup = (id: string, version?: number) => BetaManagedAgentsAgent;

/** The topology as stored: every entry a pinned reference (`self` → `own`). */
export function resolveMultiagent(
  input: MultiagentInput,
  own: { id: string; version: number },
  lookup: AgentLookup,
): BetaManagedAgentsMultiagentCoordinator {
  const agents: BetaManagedAgentsAgentReference[] = [];
  const seen = new Set<string>();
  let selves = 0;
  input.agents.forEach((entry, index) => {
    const at = `multiagent.agents[${index}]`;
    const ref = typeof entry === 'string' ? { type: 'agent' as const, id: entry } : entry;
    if (ref.type === 'self' || ref.id === own.id) {
      selves++;
      if (selves > 1) throw invalidArgument(`${at}: the agent itself is named twice (as "self" or its own id); name it once.`);
      agents.push({ type: 'agent', id: own.id, version: own.version });
      return;
    }
    if (seen.has(ref.id)) throw invalidArgument(`${at}: the agent ${ref.id} is already in the roster; name each agent once.`);
    seen.add(ref.id);
    let agent: BetaManagedAgentsAgent;
    try {
      agent = lookup(ref.id, ref.version);
    } catch (error) {
      if (isAppError(error) && error.code === 'not-found') throw invalidArgument(`${at}: ${error.message}`);
      throw error;
    }
    if (agent.archived_at !== null) throw invalidArgument(`${at}: the agent ${agent.id} is archived; a coordinator cannot start it.`);
    if (agent.multiagent !== null)
      throw invalidArgument(
        `${at}: the agent ${agent.id} is a coordinator itself; a roster's agents cannot have a roster of their own (one level only).`,
      );
    agents.push({ type: 'agent', id: agent.id, version: agent.version });
  });
  return { type: 'coordinator', agents };
}

/**
 * The roster a session starts with from its agent's coordinator members (their full definitions; `ownId` is the agent itself: a copy).
 * `access`: what each member may use (its `tools` and `policies`, in the session's hands' words); absent: model and system prompt only.
 */
export function rosterOf<Member extends { id: string; name: string; model: { id: string }; system: string | null }>(
  ownId: string,
  members: readonly Member[],
  access?: (member: Member) => Pick<RosterAgent, 'tools' | 'policies'>,
): Roster {
  const taken = new Set<string>(['self']);
  const agents: RosterAgent[] = [];
  let selfCopies = false;
  for (const member of members) {
    if (member.id === ownId) {
      selfCopies = true;
      continue;
    }
    const name = rosterName(member.name, taken);
    taken.add(name);
    agents.push({ name, model: member.model.id, ...(member.system === null ? {} : { system: member.system }), ...access?.(member) });
  }
  return { agents, self_copies: selfCopies };
}

/** The members' full definitions, as a session shows its agent's roster. */
export function rosterMembers(
  multiagent: BetaManagedAgentsMultiagentCoordinator,
  lookup: AgentLookup,
): BetaManagedAgentsSessionThreadAgent[] {
  return multiagent.agents.flatMap((entry) => {
    if (!('id' in entry) || entry.type !== 'agent') return [];
    const { multiagent: nested, metadata, created_at, updated_at, archived_at, ...agent } = lookup(entry.id, entry.version);
    void nested;
    void metadata;
    void created_at;
    void updated_at;
    void archived_at;
    return [agent];
  });
}

/** An agent's name as the coordinator's tools take it: letters, digits, `_` and `-`, at most 64, unique. */
export function rosterName(name: string, taken: ReadonlySet<string>): string {
  const base =
    name
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 56) || 'agent';
  let candidate = base;
  for (let n = 2; taken.has(candidate); n++) candidate = `${base}-${n}`;
  return candidate;
}
