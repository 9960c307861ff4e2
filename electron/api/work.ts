/**
 * Self-hosted environments over HTTP: `/v1/environments/{id}/work…` exactly as the SDK's
 * WorkPoller / EnvironmentWorker call it, the environment key (Drover's extension:
 * `POST /v1/environments/{id}/environment_key` mints one — shown once, the old one revoked —
 * `DELETE` revokes it), and which credential may do what:
 *
 * - the API token: everything (a user stopping or inspecting work);
 * - an environment key: its environment's poll, ack, list, stats, retrieve, heartbeat and stop;
 * - a sessions token (a work item's `secret`): that item's heartbeat and stop, and its session's
 *   retrieve, event list, stream and event posts — nothing else (`scopedAccess`).
 *
 * The queue itself is services/managed/work-queue.ts; the session's hand, work-hand.ts.
 */
import type { BetaEnvironment } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import type {
  BetaSelfHostedWork,
  BetaSelfHostedWorkHeartbeatResponse,
  BetaSelfHostedWorkQueueStats,
  BetaWorkSecret,
} from '@anthropic-ai/sdk/resources/beta/environments/work';
import { z } from 'zod';
import type { AgentToolName } from '#shared/hands';
import { AGENT_TOOLSET_TOOLS } from '#shared/hands';
import { EnvironmentStore } from '#services/managed/environments';
import type { ManagedDb } from '#services/managed/db';
import { WorkerHand, type SelfHostedSession } from '#services/managed/work-hand';
import { LeaseMismatch, WorkQueue, type WorkItem } from '#services/managed/work-queue';
import { tokenMatches } from '#services/access-token';
import type { ApiContext } from './context.ts';
import { ApiError, invalid, invalidInput } from './errors.ts';
import { externalId, internalId } from './ids.ts';
import { checkNoBody, checkQuery, limitOnly, timePage, type Page } from './resource-pages.ts';
import type { ApiRequest, Route } from './router.ts';
import { effectiveRecord } from './session-view.ts';

const queues = new WeakMap<ManagedDb, WorkQueue>();

/** The work queue of this API's environments (one per `managed.sqlite`), its hands registered on the host. */
export function workQueueFor(context: ApiContext): WorkQueue {
  const existing = queues.get(context.managed);
  if (existing !== undefined) return existing;
  const queue = new WorkQueue({ store: context.store, managed: context.managed, log: context.log });
  queues.set(context.managed, queue);
  context.host.addHandSource((sessionId) => {
    const session = selfHostedSession(context, sessionId);
    return session === null ? [] : [new WorkerHand(queue, context.store, sessionId, session)];
  });
  return queue;
}

/** The work queue of `managed`'s environments if the API made one in this run (it lives in memory). */
export function existingWorkQueue(managed: ManagedDb): WorkQueue | undefined {
  return queues.get(managed);
}

/** The self-hosted environment and toolset tools of an API session (null: not in a self-hosted environment). */
export function selfHostedSession(context: ApiContext, sessionId: string): SelfHostedSession | null {
  let stored;
  try {
    stored = effectiveRecord(context, sessionId);
  } catch {
    return null;
  }
  const environmentId = stored?.record.environment_id;
  if (stored === null || stored === undefined || environmentId === null || environmentId === undefined) return null;
  const row = context.managed.get('environment', environmentId);
  if (row === null || (row.body as BetaEnvironment).config.type !== 'self_hosted') return null;
  const tools: AgentToolName[] = [];
  const policies: Partial<Record<AgentToolName, 'allow' | 'ask'>> = {};
  for (const tool of stored.record.agent?.tools ?? []) {
    if (tool.type !== 'agent_toolset_20260401') continue;
    for (const config of tool.configs) {
      if (!config.enabled || !(AGENT_TOOLSET_TOOLS as readonly string[]).includes(config.name)) continue;
      const name = config.name as AgentToolName;
      tools.push(name);
      const policy = config.permission_policy ?? tool.default_config.permission_policy;
      policies[name] = policy?.type === 'always_ask' ? 'ask' : 'allow';
    }
  }
  return tools.length === 0 ? null : { environmentId, tools, policies };
}

/** The credential a request presents (Bearer or x-api-key). */
export function presented(headers: ApiRequest['headers']): string | null {
  const header = headers['authorization'];
  if (typeof header === 'string' && /^Bearer\s+/i.test(header)) return header.replace(/^Bearer\s+/i, '').trim();
  const key = headers['x-api-key'];
  return typeof key === 'string' ? key.trim() : null;
}

const SESSION_PATHS = [
  { method: 'GET', pattern: /^\/v1\/sessions\/([^/]+)$/ },
  { method: 'GET', pattern: /^\/v1\/sessions\/([^/]+)\/events$/ },
  { method: 'POST', pattern: /^\/v1\/sessions\/([^/]+)\/events$/ },
  { method: 'GET', pattern: /^\/v1\/sessions\/([^/]+)\/events\/stream$/ },
] as const;
const WORK_PATH = /^\/v1\/environments\/([^/]+)\/work(?:\/([^/]+))?(?:\/([^/]+))?$/;

/**
 * Whether a credential that is not the API token may reach this path: an environment key its
 * environment's work routes (they check the rest), a sessions token its session's routes above and
 * its own work item's heartbeat and stop.
 */
export function scopedAccess(context: ApiContext, credential: string | null, method: string, pathname: string): boolean {
  const queue = queues.get(context.managed);
  if (queue === undefined || credential === null) return false;
  const work = WORK_PATH.exec(pathname);
  if (work !== null) {
    const [, environmentId = '', workId, action] = work;
    if (queue.keyMatches(environmentId, credential)) return true;
    const grant = queue.grantOf(credential);
    return (
      grant !== null &&
      method === 'POST' &&
      grant.environmentId === environmentId &&
      grant.workId === workId &&
      (action === 'heartbeat' || action === 'stop')
    );
  }
  const grant = queue.grantOf(credential);
  if (grant === null) return false;
  for (const route of SESSION_PATHS) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(pathname);
    if (match !== null) return internalId('session', match[1] ?? '') === grant.sessionId;
  }
  return false;
}

type Caller = 'api' | 'environment' | 'session';

/** The event types a worker's SessionToolRunner posts: a sessions token may post these and nothing else. */
export const WORKER_SENDABLE: ReadonlySet<string> = new Set(['user.tool_result', 'user.custom_tool_result']);

/**
 * Refuses (403, before the body is read further, so nothing is recorded) events a sessions token
 * may not post: it answers its session's tool calls (`WORKER_SENDABLE`), it does not speak for the
 * user (no user.message, user.interrupt, confirmations, outcomes or system messages). The API
 * token may post anything; the results themselves are checked against the session's waiting calls.
 */
export function checkWorkerSend(context: ApiContext, request: ApiRequest): void {
  const queue = queues.get(context.managed);
  if (queue === undefined || queue.grantOf(presented(request.headers)) === null) return;
  const events = (request.body as { events?: unknown } | null | undefined)?.events;
  if (!Array.isArray(events)) return;
  events.forEach((event: unknown, position) => {
    const type = (event as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && WORKER_SENDABLE.has(type)) return;
    throw new ApiError(
      'permission_error',
      `events[${position}]: a self-hosted worker's sessions token may post only user.tool_result and user.custom_tool_result (answers to its session's tool calls), not ${typeof type === 'string' ? type.slice(0, 64) : 'an event without a type'}. Send the user's events with the Drover API token.`,
    );
  });
}

const PollQuerySchema = z.strictObject({
  block_ms: z.coerce.number().int().min(1, 'block_ms is 1 to 999').max(999, 'block_ms is 1 to 999').optional(),
  reclaim_older_than_ms: z.coerce.number().int().min(0).max(86_400_000).optional(),
});
const HeartbeatQuerySchema = z.strictObject({
  desired_ttl_seconds: z.coerce.number().int().min(1).max(600).optional(),
  expected_last_heartbeat: z.string().max(64).optional(),
});
const StopBodySchema = z.strictObject({ force: z.boolean().optional() }).optional();
const UpdateBodySchema = z.strictObject({
  metadata: z.record(z.string().max(64), z.string().max(512).nullable()),
});

export function workRoutes(context: ApiContext, apiToken: () => string): Route[] {
  const queue = workQueueFor(context);
  const environments = new EnvironmentStore(context.managed);

  /** The self-hosted environment a route names; 400 when it is a cloud one. */
  const selfHosted = (request: ApiRequest): string => {
    const environment = environments.get(request.params['environment_id'] ?? '');
    if (environment.config.type !== 'self_hosted')
      throw invalid(
        `The environment ${environment.id} is "${environment.config.type}": only a "self_hosted" environment has a work queue.`,
      );
    return environment.id;
  };
  const callerOf = (request: ApiRequest, environmentId: string): Caller | null => {
    const credential = presented(request.headers);
    if (tokenMatches(credential, apiToken())) return 'api';
    if (queue.keyMatches(environmentId, credential)) return 'environment';
    const grant = queue.grantOf(credential);
    return grant !== null && grant.environmentId === environmentId ? 'session' : null;
  };
  const require = (request: ApiRequest, environmentId: string, allowed: readonly Caller[]): Caller => {
    const caller = callerOf(request, environmentId);
    if (caller !== null && allowed.includes(caller)) return caller;
    const needs = allowed.includes('environment')
      ? `the environment key of ${environmentId} (the one shown when it was made; POST /v1/environments/${environmentId}/environment_key makes a new one)`
      : 'the Drover API token';
    throw new ApiError('authentication_error', `This call needs ${needs}.`);
  };
  const item = (request: ApiRequest, environmentId: string): WorkItem => queue.get(environmentId, request.params['work_id'] ?? '');
  /**
   * Every work route's entry, in this order: no query (unless the route reads its own), no body
   * (when it takes none), the self-hosted environment, then the caller's right to it.
   */
  const enter = (
    request: ApiRequest,
    allowed: readonly Caller[],
    checks: { ownQuery?: boolean; noBody?: boolean } = {},
  ): { environmentId: string; caller: Caller } => {
    if (checks.ownQuery !== true) checkQuery(request.query, []);
    if (checks.noBody === true) checkNoBody(request.body);
    const environmentId = selfHosted(request);
    return { environmentId, caller: require(request, environmentId, allowed) };
  };
  return [
    {
      method: 'POST',
      path: '/v1/environments/:environment_id/environment_key',
      handler: (request) => {
        const { environmentId } = enter(request, ['api'], { noBody: true });
        const key = queue.mintKey(environmentId);
        return { body: { type: 'environment_key', environment_id: environmentId, key } };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/environments/:environment_id/environment_key',
      handler: (request) => {
        const { environmentId } = enter(request, ['api'], { noBody: true });
        queue.revokeKey(environmentId);
        return { body: { type: 'environment_key_revoked', environment_id: environmentId } };
      },
    },
    {
      method: 'GET',
      path: '/v1/environments/:environment_id/work/poll',
      handler: async (request) => {
        const { environmentId } = enter(request, ['environment'], { ownQuery: true });
        const query = PollQuerySchema.safeParse(Object.fromEntries(request.query));
        if (!query.success) throw invalidInput('The poll query is not valid', query.error);
        const worker = request.headers['anthropic-worker-id'];
        const claimed = await queue.poll(environmentId, {
          blockMs: query.data.block_ms ?? 0,
          reclaimOlderThanMs: query.data.reclaim_older_than_ms ?? null,
          workerId: typeof worker === 'string' ? worker.slice(0, 256) : null,
          remote: request.remoteAddress ?? null,
          signal: request.signal,
        });
        if (claimed === null) return { body: null };
        const secret: BetaWorkSecret = { sessions_token: claimed.token };
        const body: BetaSelfHostedWork = {
          ...workOf(claimed.item),
          secret: Buffer.from(JSON.stringify(secret)).toString('base64url'),
        };
        return { body };
      },
    },
    {
      method: 'GET',
      path: '/v1/environments/:environment_id/work/stats',
      handler: (request) => {
        const { environmentId } = enter(request, ['api', 'environment']);
        return { body: queue.stats(environmentId) satisfies BetaSelfHostedWorkQueueStats };
      },
    },
    {
      method: 'GET',
      path: '/v1/environments/:environment_id/work',
      handler: (request) => {
        const limit = limitOnly(request.query);
        const { environmentId } = enter(request, ['api', 'environment'], { ownQuery: true });
        const body: Page<BetaSelfHostedWork> = timePage(request.query, queue.list(environmentId).map(workOf), limit);
        return { body };
      },
    },
    {
      method: 'GET',
      path: '/v1/environments/:environment_id/work/:work_id',
      handler: (request) => {
        const { environmentId } = enter(request, ['api', 'environment']);
        return { body: workOf(item(request, environmentId)) };
      },
    },
    {
      method: 'POST',
      path: '/v1/environments/:environment_id/work/:work_id',
      handler: (request) => {
        const { environmentId } = enter(request, ['api']);
        const parsed = UpdateBodySchema.safeParse(request.body);
        if (!parsed.success) throw invalidInput('The work update is not valid', parsed.error);
        return { body: workOf(queue.updateMetadata(item(request, environmentId), parsed.data.metadata)) };
      },
    },
    {
      method: 'POST',
      path: '/v1/environments/:environment_id/work/:work_id/ack',
      handler: (request) => {
        const { environmentId } = enter(request, ['environment'], { noBody: true });
        return { body: workOf(queue.ack(environmentId, request.params['work_id'] ?? '')) };
      },
    },
    {
      method: 'POST',
      path: '/v1/environments/:environment_id/work/:work_id/heartbeat',
      handler: (request) => {
        const { environmentId, caller } = enter(request, ['environment', 'session'], { ownQuery: true, noBody: true });
        const query = HeartbeatQuerySchema.safeParse(Object.fromEntries(request.query));
        if (!query.success) throw invalidInput('The heartbeat query is not valid', query.error);
        const work = item(request, environmentId);
        const grant = caller === 'session' ? queue.grantOf(presented(request.headers)) : null;
        try {
          const beat = queue.heartbeat(
            work,
            grant?.generation ?? null,
            query.data.expected_last_heartbeat ?? null,
            query.data.desired_ttl_seconds ?? null,
          );
          const body: BetaSelfHostedWorkHeartbeatResponse = { type: 'work_heartbeat', ...beat };
          return { body };
        } catch (error) {
          if (!(error instanceof LeaseMismatch)) throw error;
          return {
            status: 412,
            body: {
              type: 'error',
              error: {
                type: 'precondition_failed_error',
                message: `expected_last_heartbeat does not match the lease Drover holds for ${work.id} (state ${error.current.state}, last heartbeat ${error.current.last_heartbeat ?? 'none'}): another worker may hold it. Stop serving this work item.`,
                details: { error_code: 'heartbeat_precondition_failed', current_state: error.current },
              },
              request_id: request.requestId,
            },
          };
        }
      },
    },
    {
      method: 'POST',
      path: '/v1/environments/:environment_id/work/:work_id/stop',
      handler: (request) => {
        const { environmentId } = enter(request, ['api', 'environment', 'session']);
        const parsed = StopBodySchema.safeParse(request.body ?? undefined);
        if (!parsed.success) throw invalidInput('The stop request is not valid', parsed.error);
        return { body: workOf(queue.stop(item(request, environmentId), parsed.data?.force ?? false)) };
      },
    },
  ];
}

/** A work item as the SDK sees it (`secret` only in a poll's answer). */
function workOf(item: WorkItem): BetaSelfHostedWork {
  return {
    type: 'work',
    id: item.id,
    environment_id: item.environment_id,
    state: item.state,
    data: { type: 'session', id: externalId('session', item.session_id) },
    created_at: item.created_at,
    acknowledged_at: item.acknowledged_at,
    started_at: item.started_at,
    latest_heartbeat_at: item.latest_heartbeat_at,
    stop_requested_at: item.stop_requested_at,
    stopped_at: item.stopped_at,
    metadata: { ...item.metadata },
    secret: null,
  };
}
