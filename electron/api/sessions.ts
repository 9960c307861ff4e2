/**
 * The sessions resource (`/v1/sessions…`) as the official SDK calls it: create, retrieve, list
 * (`BidirectionalPageCursor`), update, archive, delete — and Drover's two extensions, which the
 * service lacks: `POST /v1/sessions/{id}/fork` and `POST /v1/sessions/{id}/rewind` with
 * `{at_event_id}` (a rewind also takes `keep`: `both`, `conversation` or `files`), answering the
 * new session (the same one for `files`).
 *
 * Every route works through the host's RPC (`sessions-launch`, `-get`, `-list`, `-set-budget`,
 * `-delete`, `-fork`, `-rewind`), so a session made here is the cockpit's, and the cockpit's
 * sessions are listed and retrievable here.
 */
import type { BetaManagedAgentsDeletedSession, BetaManagedAgentsSession } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import type { BidirectionalPageCursorResponse } from '@anthropic-ai/sdk/core/pagination';
import { z } from 'zod';
import { SessionIdSchema, type SessionSummary } from '#shared/sessions';
import { readAll } from '#services/harness/fold-log';
import { call, type ApiContext } from './context.ts';
import { invalid, invalidInput, notFound } from './errors.ts';
import { externalId, internalId } from './ids.ts';
import { endSessionStreams } from './stream.ts';
import { arrayParam, booleanParam, cursorParam, encodeCursor, inRange, limitParam, orderParam, rangeParam } from './query.ts';
import type { ApiRequest, Route } from './router.ts';
import { createSession } from './session-launch.ts';
import { prepareAgentTools } from './sessions-agent-update.ts';
import {
  apiStatus,
  COCKPIT_AGENT_ID,
  pruneSessionRecords,
  effectiveRecord,
  readRecord,
  retrieveSession,
  sessionOf,
  writeRecord,
  type SessionRecord,
} from './session-view.ts';
import { BranchBodySchema, CreateSessionBodySchema, MetadataSchema, RewindBodySchema, UpdateSessionBodySchema } from './sessions-body.ts';

const LIST_PARAMS = new Set([
  'limit',
  'page',
  'order',
  'statuses[]',
  'statuses',
  'include_archived',
  'agent_id',
  'agent_version',
  'created_at[gt]',
  'created_at[gte]',
  'created_at[lt]',
  'created_at[lte]',
  'deployment_id',
  'memory_store_id',
]);
const STATUSES = ['rescheduling', 'running', 'idle', 'terminated'] as const;

/** Where a page starts: strictly after (or, for `prev_page`, strictly before) a session's `[created_at, uuid]`. */
const ListCursorSchema = z.strictObject({
  side: z.enum(['after', 'before']),
  order: z.enum(['asc', 'desc']),
  key: z.tuple([z.string(), z.string()]),
});
type ListCursor = z.output<typeof ListCursorSchema>;

/** The Drover uuid behind `sesn_…`, or a 404 in the service's words. */
function sessionIdOf(request: ApiRequest): string {
  const id = request.params['session_id'] ?? '';
  const uuid = internalId('session', id);
  // An id that maps to no uuid Drover could have made names no session either.
  if (uuid === null || !SessionIdSchema.safeParse(uuid).success) throw notFound('session', id);
  return uuid;
}

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw invalidInput(what, parsed.error);
  return parsed.data;
}

/** A record for a session that has none yet (a cockpit session updated or archived through the API). */
function recordOf(context: ApiContext, sessionId: string): SessionRecord {
  return effectiveRecord(context, sessionId)?.record ?? { agent: null, environment_id: null, metadata: {}, vault_ids: [] };
}

function compareKeys(a: readonly [string, string], b: readonly [string, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}

async function listSessions(
  context: ApiContext,
  query: URLSearchParams,
): Promise<BidirectionalPageCursorResponse<BetaManagedAgentsSession>> {
  for (const key of new Set(query.keys()))
    if (!LIST_PARAMS.has(key))
      throw invalid(`Unknown query parameter ${JSON.stringify(key.slice(0, 64))}: sessions.list takes ${[...LIST_PARAMS].join(', ')}.`);
  const limit = limitParam(query, 20, 100);
  const order = orderParam(query, 'desc');
  const statuses = arrayParam(query, 'statuses');
  for (const status of statuses)
    if (!(STATUSES as readonly string[]).includes(status))
      throw invalid(`statuses[] must each be one of ${STATUSES.join(', ')} (got ${JSON.stringify(status.slice(0, 32))}).`);
  const includeArchived = booleanParam(query, 'include_archived');
  const created = rangeParam(query, 'created_at');
  const agentId = query.get('agent_id');
  const agentVersionRaw = query.get('agent_version');
  const agentVersion = agentVersionRaw === null ? null : Number(agentVersionRaw);
  if (agentVersion !== null && (!Number.isInteger(agentVersion) || agentVersion < 1))
    throw invalid(`agent_version must be a whole number from 1 (got ${JSON.stringify(agentVersionRaw?.slice(0, 32))}).`);
  const deploymentId = query.get('deployment_id');
  const memoryStoreId = query.get('memory_store_id');
  const cursor: ListCursor | null = cursorParam(query, ListCursorSchema);
  if (cursor !== null && cursor.order !== order)
    throw invalid(
      `page is a cursor for order=${cursor.order}: pass the same order as the page it came from (or start again without page).`,
    );

  pruneSessionRecords(context);
  const summaries = await call(context, 'sessions-list', undefined);
  const matching: SessionSummary[] = [];
  for (const summary of summaries) {
    // Drover has no deployments or memory stores: no session was made from one.
    if (deploymentId !== null || memoryStoreId !== null) continue;
    const stored = effectiveRecord(context, summary.id);
    if (!includeArchived && (stored?.row?.archived_at ?? null) !== null) continue;
    if (statuses.length > 0 && !statuses.includes(apiStatus(context, summary))) continue;
    if (!inRange(Date.parse(summary.createdAt), created)) continue;
    const agent = stored?.record.agent ?? null;
    if (agentId !== null && (agent?.id ?? COCKPIT_AGENT_ID) !== agentId) continue;
    if (agentVersion !== null && (agent?.version ?? 1) !== agentVersion) continue;
    matching.push(summary);
  }
  const direction = order === 'asc' ? 1 : -1;
  const keyOf = (summary: SessionSummary): [string, string] => [summary.createdAt, summary.id];
  const compare = (a: [string, string], b: [string, string]): number => direction * compareKeys(a, b);
  matching.sort((a, b) => compare(keyOf(a), keyOf(b)));
  let start = 0;
  let end = Math.min(matching.length, limit);
  if (cursor !== null && cursor.side === 'after') {
    start = matching.findIndex((summary) => compare(keyOf(summary), cursor.key) > 0);
    if (start === -1) start = matching.length;
    end = Math.min(matching.length, start + limit);
  } else if (cursor !== null) {
    end = matching.findIndex((summary) => compare(keyOf(summary), cursor.key) >= 0);
    if (end === -1) end = matching.length;
    start = Math.max(0, end - limit);
  }
  const page = matching.slice(start, end);
  const data: BetaManagedAgentsSession[] = [];
  for (const summary of page) data.push(await sessionOf(context, summary));
  const first = page[0];
  const last = page.at(-1);
  return {
    data,
    next_page: last !== undefined && end < matching.length ? encodeCursor({ side: 'after', order, key: keyOf(last) }) : null,
    prev_page: first !== undefined && start > 0 ? encodeCursor({ side: 'before', order, key: keyOf(first) }) : null,
  };
}

async function updateSession(context: ApiContext, sessionId: string, body: unknown): Promise<BetaManagedAgentsSession> {
  const update = parse(UpdateSessionBodySchema, body, 'The session update');
  if (update.vault_ids !== undefined) throw invalid('vault_ids: vaults are given when a session is created; they cannot be changed after.');
  const summary = await call(context, 'sessions-get', { sessionId });
  const record = recordOf(context, sessionId);
  let metadata = record.metadata;
  if (update.metadata !== undefined && update.metadata !== null) {
    metadata = { ...metadata };
    for (const [key, value] of Object.entries(update.metadata)) {
      if (value === null) delete metadata[key];
      else metadata[key] = value;
    }
    const checked = MetadataSchema.safeParse(metadata);
    if (!checked.success) throw invalidInput('metadata (after the update)', checked.error);
  } else if (update.metadata === null) metadata = {};
  // Every check before the first change: the agent's tools whole, then the budget (a cap at or below what is spent is refused).
  const tools = update.agent === undefined ? null : await prepareAgentTools(context, summary, record, update.agent);
  if (update.budget !== undefined) await call(context, 'sessions-set-budget', { sessionId, budget: update.budget });
  await tools?.apply();
  // A title is the session's in the cockpit too; null (the service's "no title") leaves the log's title as it is.
  if (typeof update.title === 'string') await call(context, 'sessions-rename', { sessionId, title: update.title });
  const next: SessionRecord = {
    ...record,
    metadata,
    ...(tools === null ? {} : { agent: tools.agent }),
    ...(update.title === undefined ? {} : { title: update.title }),
  };
  writeRecord(context, sessionId, next, { createdAt: summary.createdAt });
  return retrieveSession(context, sessionId);
}

async function archiveSession(context: ApiContext, sessionId: string): Promise<BetaManagedAgentsSession> {
  const summary = await call(context, 'sessions-get', { sessionId });
  const existing = readRecord(context, sessionId);
  writeRecord(context, sessionId, recordOf(context, sessionId), {
    createdAt: summary.createdAt,
    archivedAt: existing?.row?.archived_at ?? new Date().toISOString(),
  });
  return retrieveSession(context, sessionId);
}

async function deleteSession(context: ApiContext, sessionId: string): Promise<BetaManagedAgentsDeletedSession> {
  await call(context, 'sessions-delete', { sessionId });
  context.managed.remove('session', sessionId);
  endSessionStreams(sessionId);
  return { id: externalId('session', sessionId), type: 'session_deleted' };
}

/** The seq of the event `sevt_…` in the session's view, or a 404 naming it. */
function seqOf(context: ApiContext, sessionId: string, eventId: string): number {
  const uuid = internalId('event', eventId);
  const event = uuid === null ? undefined : readAll(context.store, sessionId).find((each) => each.id === uuid);
  if (event === undefined)
    throw invalid(`at_event_id: the session has no event ${JSON.stringify(eventId.slice(0, 64))}. List its events to see their ids.`);
  return event.seq;
}

/**
 * Fork or rewind at an event; the new session keeps the API record (agent snapshot, environment,
 * metadata, vaults). A rewind's `keep` is the `sessions-rewind` RPC's: `files` makes no branch
 * (the running containers' files go back as at the event) and answers the same session.
 */
async function branchSession(
  context: ApiContext,
  sessionId: string,
  body: unknown,
  kind: 'fork' | 'rewind',
): Promise<BetaManagedAgentsSession> {
  const rewind = kind === 'rewind' ? parse(RewindBodySchema, body, 'The rewind') : null;
  const branch = rewind ?? parse(BranchBodySchema, body, 'The fork');
  if (rewind !== null && rewind.title !== undefined) throw invalid('title: a rewind continues the same conversation and keeps its title.');
  const keep = rewind?.keep;
  await call(context, 'sessions-get', { sessionId }); // not-found for an unknown session, before its events are read
  const atSeq = seqOf(context, sessionId, branch.at_event_id);
  const made =
    kind === 'fork'
      ? await call(context, 'sessions-fork', { sessionId, atSeq, ...(branch.title === undefined ? {} : { title: branch.title }) })
      : await call(context, 'sessions-rewind', { sessionId, atSeq, ...(keep === undefined ? {} : { keep }) });
  // Files only: the same session, whose record stays as it is.
  if (made.id === sessionId) return retrieveSession(context, made.id);
  const stored = effectiveRecord(context, sessionId);
  if (stored !== null) {
    // A fork has its own title (given, or Drover's "… (fork)"); a rewind's branch keeps the conversation's.
    const { title, ...rest } = stored.record;
    writeRecord(context, made.id, kind === 'rewind' ? { ...rest, ...(title === undefined ? {} : { title }) } : rest, {
      createdAt: made.createdAt,
    });
  }
  return retrieveSession(context, made.id);
}

export function sessionRoutes(context: ApiContext): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/sessions',
      handler: async (request) => ({ body: await createSession(context, parse(CreateSessionBodySchema, request.body, 'The session')) }),
    },
    { method: 'GET', path: '/v1/sessions', handler: async (request) => ({ body: await listSessions(context, request.query) }) },
    {
      method: 'GET',
      path: '/v1/sessions/:session_id',
      handler: async (request) => ({ body: await retrieveSession(context, sessionIdOf(request)) }),
    },
    {
      method: 'POST',
      path: '/v1/sessions/:session_id',
      handler: async (request) => ({ body: await updateSession(context, sessionIdOf(request), request.body) }),
    },
    {
      method: 'DELETE',
      path: '/v1/sessions/:session_id',
      handler: async (request) => ({ body: await deleteSession(context, sessionIdOf(request)) }),
    },
    {
      method: 'POST',
      path: '/v1/sessions/:session_id/archive',
      handler: async (request) => ({ body: await archiveSession(context, sessionIdOf(request)) }),
    },
    {
      method: 'POST',
      path: '/v1/sessions/:session_id/fork',
      handler: async (request) => ({ body: await branchSession(context, sessionIdOf(request), request.body, 'fork') }),
    },
    {
      method: 'POST',
      path: '/v1/sessions/:session_id/rewind',
      handler: async (request) => ({ body: await branchSession(context, sessionIdOf(request), request.body, 'rewind') }),
    },
  ];
}
