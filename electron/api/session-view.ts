/**
 * A Drover session as the Managed Agents API shows it (`BetaManagedAgentsSession`).
 *
 * What runs is the log's: the status, title and cost come from the host's `sessions-get`, usage and
 * running time from `sessions-guardrails` (the same fold the budget is checked on), the outcome
 * evaluations from the log's outcome events folded as the brain folds them (`foldOutcome`). What
 * only the API has — the agent snapshot, the environment id, metadata, vault ids, an archive time,
 * a title given through the API — is the session's record in `managed.sqlite` (kind `session`,
 * keyed by the Drover uuid).
 *
 * A session the cockpit made has no record: its agent is synthesized from its settings (model,
 * system prompt) and its MCP servers reached by URL, under the agent id `drover_cockpit`, and its
 * environment id is `drover_local` (neither can be retrieved: they name no stored resource).
 */
import type { BetaManagedAgentsMCPServerURLDefinition } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type {
  BetaManagedAgentsBudgetLimit,
  BetaManagedAgentsOutcomeEvaluationResource,
  BetaManagedAgentsSession,
  BetaManagedAgentsSessionAgent,
  BetaManagedAgentsSessionUsage,
} from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import { z } from 'zod';
import type { StoredEvent } from '#shared/events';
import type { Budget, GuardrailsView } from '#shared/guardrails';
import type { SessionSummary } from '#shared/sessions';
import { readAll } from '#services/harness/fold-log';
import { foldOutcome, outcomeActive, type OutcomeState } from '#services/harness/state';
import type { ResourceRow } from '#services/managed/db';
import { call, type ApiContext } from './context.ts';
import { outcomeId } from './event-map.ts';
import { externalId } from './ids.ts';

/** The agent id and environment id a cockpit session shows (it was made without either). */
export const COCKPIT_AGENT_ID = 'drover_cockpit';
export const COCKPIT_ENVIRONMENT_ID = 'drover_local';

/** What `managed.sqlite` keeps for a session (kind `session`, id = the Drover uuid, version 1). */
export const SessionRecordSchema = z.object({
  /** The agent as it was when the session started; null: a cockpit session (synthesized at read time). */
  agent: z.custom<BetaManagedAgentsSessionAgent>((value) => typeof value === 'object' && value !== null).nullable(),
  environment_id: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  vault_ids: z.array(z.string()),
  /** A title given or changed through the API (null: none given); absent: the log's title. */
  title: z.string().nullable().optional(),
});
export type SessionRecord = z.output<typeof SessionRecordSchema>;

export interface StoredRecord {
  record: SessionRecord;
  /** The stored row; null for a record inherited from an ancestor (see `effectiveRecord`). */
  row: ResourceRow | null;
}

export function readRecord(context: ApiContext, sessionId: string): StoredRecord | null {
  const row = context.managed.get('session', sessionId);
  if (row === null) return null;
  const parsed = SessionRecordSchema.safeParse(row.body);
  // A record this version cannot read is treated as none: the session is still the log's.
  return parsed.success ? { record: parsed.data, row } : null;
}

/**
 * The session's record or, for a fork or branch made in the cockpit from an API session (which
 * has none of its own), its nearest ancestor's: the agent snapshot, environment, metadata and vaults
 * it runs with — not that ancestor's API title nor its archive time.
 */
export function effectiveRecord(context: ApiContext, sessionId: string): StoredRecord | null {
  const own = readRecord(context, sessionId);
  if (own !== null) return own;
  let parent = context.store.getSession(sessionId).parentId;
  for (let depth = 0; parent !== null && depth < 256; depth++) {
    const inherited = readRecord(context, parent);
    if (inherited !== null) {
      const { title: _title, ...record } = inherited.record;
      return { record, row: null };
    }
    parent = context.store.getSession(parent).parentId;
  }
  return null;
}

/** Writes (or replaces) a session's record. */
export function writeRecord(
  context: ApiContext,
  sessionId: string,
  record: SessionRecord,
  options: { createdAt: string; archivedAt?: string | null },
): void {
  const now = new Date().toISOString();
  const existing = context.managed.get('session', sessionId);
  const row: ResourceRow = {
    kind: 'session',
    id: sessionId,
    version: 1,
    body: record,
    parent: record.environment_id,
    created_at: existing?.created_at ?? options.createdAt,
    updated_at: now,
    archived_at: options.archivedAt === undefined ? (existing?.archived_at ?? null) : options.archivedAt,
  };
  if (existing === null) context.managed.insert(row);
  else context.managed.replace(row);
}

/**
 * Drops the records of sessions the store no longer has (deleted in the cockpit, which knows
 * nothing of the API's records), so they name no environment in use, and their threads' archive marks. Cheap: one read of each table.
 */
export function pruneSessionRecords(context: ApiContext): void {
  const live = new Set(context.store.listSessions().map((session) => session.id));
  for (const row of context.managed.list('session')) if (!live.has(row.id)) context.managed.remove('session', row.id);
  // Threads the API archived (threads.ts) go with their session.
  for (const row of context.managed.list('thread'))
    if (row.parent === null || !live.has(row.parent)) context.managed.remove('thread', row.id);
}

/**
 * Drover's status in the service's words: a session that never ran, or whose turn failed, is idle;
 * a running one whose last model request failed and is being retried is rescheduling.
 */
export function apiStatus(context: ApiContext, summary: SessionSummary): BetaManagedAgentsSession['status'] {
  if (summary.status === 'terminated') return 'terminated';
  if (summary.status !== 'running') return 'idle';
  const [last] = context.store.getEvents(summary.id, {
    types: ['session.error', 'session.status_running', 'session.status_idle', 'session.status_terminated'],
    direction: 'backward',
    limit: 1,
  });
  return last?.type === 'session.error' && last.payload.retry_status.type === 'retrying' ? 'rescheduling' : 'running';
}

/** The budget in force, when it caps cost (the service's budget is a cost cap; Drover's token and time caps ride along). */
function apiBudget(budget: Budget | null): BetaManagedAgentsBudgetLimit | null {
  if (budget === null || budget.max_list_cost === undefined) return null;
  return { ...budget, type: 'limit', max_list_cost: budget.max_list_cost };
}

function apiUsage(spent: GuardrailsView['spent']): BetaManagedAgentsSessionUsage {
  return {
    input_tokens: spent.input_tokens,
    output_tokens: spent.output_tokens,
    cache_read_input_tokens: spent.cache_read_input_tokens,
    cache_creation: { ephemeral_5m_input_tokens: spent.cache_creation_input_tokens },
    list_cost: { amount: String(Math.round(spent.list_cost_cents)), currency: 'USD' },
    active_seconds: spent.wall_seconds,
    server_tool_use: null,
  };
}

const OUTCOME_EVENTS: StoredEvent['type'][] = [
  'user.define_outcome',
  'span.outcome_evaluation_start',
  'span.outcome_evaluation_end',
  'session.status_running',
  'session.status_idle',
];

interface OutcomeTrack {
  resource: BetaManagedAgentsOutcomeEvaluationResource;
  state: OutcomeState | null;
  started: boolean;
}

/** Where the outcome stands in the service's words (`pending`, `running`, `evaluating`, or its verdict). */
function settle(track: OutcomeTrack): void {
  const { state, resource } = track;
  if (state === null) return;
  if (state.evaluating !== null) {
    resource.result = 'evaluating';
    resource.iteration = state.evaluating - 1;
    return;
  }
  const last = state.last;
  if (last !== null && last !== 'needs_revision') {
    resource.result = last;
    resource.iteration = Math.max(0, state.finished - 1);
    if (!outcomeActive(state) || last === 'failed' || last === 'interrupted') return;
  }
  resource.iteration = state.finished;
  resource.result = track.started ? 'running' : 'pending';
}

/**
 * One entry per `user.define_outcome` in the session's view, in order. An outcome replaced by a
 * later definition before it reached a verdict reads `interrupted`, completed when it was replaced.
 */
export function outcomeEvaluations(context: ApiContext, sessionId: string): BetaManagedAgentsOutcomeEvaluationResource[] {
  const tracks: OutcomeTrack[] = [];
  let current: OutcomeTrack | null = null;
  for (const event of readAll(context.store, sessionId, OUTCOME_EVENTS)) {
    if (event.type === 'user.define_outcome') {
      if (current !== null) {
        settle(current);
        if (current.resource.completed_at === null) {
          current.resource.result = 'interrupted';
          current.resource.completed_at = event.ts;
        }
      }
      current = {
        resource: {
          type: 'outcome_evaluation',
          outcome_id: outcomeId(event.id),
          description: event.payload.description,
          iteration: 0,
          result: 'pending',
          explanation: null,
          completed_at: null,
        },
        state: foldOutcome(null, event),
        started: false,
      };
      tracks.push(current);
      continue;
    }
    if (current === null) continue;
    const wasEvaluating = current.state?.evaluating ?? null;
    current.state = foldOutcome(current.state, event);
    if (event.type === 'session.status_running') current.started = true;
    if (event.type === 'span.outcome_evaluation_end' && wasEvaluating !== null) {
      current.resource.explanation = event.payload.explanation;
      const settled = current.state !== null && !outcomeActive(current.state);
      // A verdict completes it; a later evaluation (Drover grades a failed outcome again at the next turn end) reopens it.
      const verdict = settled || event.payload.result === 'failed' || event.payload.result === 'interrupted';
      current.resource.completed_at = verdict ? event.ts : null;
    }
  }
  if (current !== null) settle(current);
  return tracks.map((track) => track.resource);
}

/** The agent a cockpit session shows: its model and system prompt, and its MCP servers reached by URL. */
async function cockpitAgent(context: ApiContext, sessionId: string): Promise<BetaManagedAgentsSessionAgent> {
  const settings = await call(context, 'sessions-settings', { sessionId });
  const hands = await call(context, 'hands-list', { sessionId });
  const mcpServers: BetaManagedAgentsMCPServerURLDefinition[] = [];
  for (const hand of hands)
    if (hand.config.kind === 'mcp' && hand.config.transport.type === 'http')
      mcpServers.push({ name: hand.name, type: 'url', url: hand.config.transport.url });
  return {
    id: COCKPIT_AGENT_ID,
    type: 'agent',
    version: 1,
    name: 'Drover session',
    description: 'A session started in Drover, not from an agent: its model and system prompt are its settings.',
    execution_identity: { type: 'service_account' },
    model: { id: settings.model },
    system: settings.system === '' ? null : settings.system,
    tools: [],
    mcp_servers: mcpServers,
    skills: [],
    multiagent: null,
  };
}

/** The session as the API shows it, from its summary (`sessions-get` or `sessions-list`). */
export async function sessionOf(context: ApiContext, summary: SessionSummary): Promise<BetaManagedAgentsSession> {
  const stored = effectiveRecord(context, summary.id);
  const guardrails = await call(context, 'sessions-guardrails', { sessionId: summary.id });
  const record = stored?.record;
  const agent = record?.agent ?? (await cockpitAgent(context, summary.id));
  const nowMs = Date.now();
  const createdMs = Date.parse(summary.createdAt);
  const endMs = summary.status === 'terminated' ? Date.parse(summary.lastActivityAt) : nowMs;
  const updatedAt = [summary.lastActivityAt, stored?.row?.updated_at ?? summary.createdAt].sort().at(-1) ?? summary.createdAt;
  return {
    id: externalId('session', summary.id),
    type: 'session',
    agent,
    archived_at: stored?.row?.archived_at ?? null,
    budget: apiBudget(guardrails.budget),
    created_at: summary.createdAt,
    updated_at: updatedAt,
    environment_id: record?.environment_id ?? COCKPIT_ENVIRONMENT_ID,
    metadata: record?.metadata ?? {},
    outcome_evaluations: outcomeEvaluations(context, summary.id),
    resources: [],
    stats: { active_seconds: guardrails.spent.wall_seconds, duration_seconds: Math.max(0, (endMs - createdMs) / 1000) },
    status: apiStatus(context, summary),
    title: record?.title === undefined ? summary.title : record.title,
    usage: apiUsage(guardrails.spent),
    vault_ids: record?.vault_ids ?? [],
  };
}

/** The session with this Drover uuid (not-found in the API's words through the host). */
export async function retrieveSession(context: ApiContext, sessionId: string): Promise<BetaManagedAgentsSession> {
  return sessionOf(context, await call(context, 'sessions-get', { sessionId }));
}
