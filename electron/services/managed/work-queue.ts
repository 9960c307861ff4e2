/**
 * The work queue of self-hosted environments (the service's `environments/{id}/work` protocol), so
 * that the SDK's own `EnvironmentWorker`, on any machine with outbound HTTP to Drover, becomes a
 * session's hand:
 *
 * - An environment key (per self-hosted environment; stored as a SHA-256, shown once) lets a worker
 *   poll, ack and list. Minting a new one revokes the old one; revoking leaves none.
 * - A session in a self-hosted environment has one work item at a time. A poll claims a queued item
 *   (or one polled but not acked for `reclaim_older_than_ms`) and hands out a `secret`: base64url
 *   JSON `{sessions_token}`, a token good for that one session's reads, event posts and its work
 *   item's heartbeat/stop, and nothing else. A new claim retires the previous claim's token.
 * - Heartbeats are optimistic: `expected_last_heartbeat` must equal the stored one (`NO_HEARTBEAT`
 *   before the first), else 412 with the lease as the server holds it. A lease not renewed within
 *   its TTL expires: the item is queued again for another worker, and the tools that worker was
 *   running get an interrupted result (never a silent re-run).
 *
 * Items and sessions tokens (by SHA-256 only) are kept in `managed.sqlite` (kinds `work_item`,
 * `work_token`) as they change, so a worker that holds a lease when Drover restarts carries on:
 * its token and heartbeats are still good. Tool calls waiting for a result live in memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BetaSelfHostedWork, BetaSelfHostedWorkQueueStats } from '@anthropic-ai/sdk/resources/beta/environments/work';
import type { ContentBlock, NewEvent } from '#shared/events';
import type { WorkerStatus } from '#shared/workers';
import { AppError } from '#shared/errors';
import type { SessionStore } from '#services/session/store';
import type { ManagedDb } from './db.ts';
import { nowIso } from './resource-common.ts';
import { LOCAL_ADDRESSES, workerStatusOf } from './work-status.ts';

export type WorkState = BetaSelfHostedWork['state'];

/** The hand name a self-hosted session's worker has in the log (`hand.ready`, `agent.tool_use.hand_id`). */
export const WORKER_HAND_ID = 'worker';

export const DEFAULT_LEASE_TTL_SECONDS = 60;
const DEFAULT_RECLAIM_MS = 5000;
const MAX_LEASE_TTL_SECONDS = 600;

export interface WorkItem {
  id: string;
  environment_id: string;
  /** The Drover session (uuid). */
  session_id: string;
  state: WorkState;
  created_at: string;
  acknowledged_at: string | null;
  started_at: string | null;
  latest_heartbeat_at: string | null;
  stop_requested_at: string | null;
  stopped_at: string | null;
  metadata: Record<string, string>;
  /** When the current claim was polled (null: not claimed). */
  claimedAtMs: number | null;
  /** Each claim counts up: a token of an earlier claim no longer holds the item. */
  generation: number;
  leaseUntilMs: number | null;
  ttlSeconds: number;
  workerId: string | null;
  /** The worker's address as Drover saw it (its host, when it is another machine). */
  remote: string | null;
  /** The worker whose lease expired last (its work queued again), until another worker acknowledges it. */
  lostWorkerId: string | null;
}

/** What a sessions token may do: act on one work item's session. */
export interface SessionGrant {
  workId: string;
  environmentId: string;
  sessionId: string;
  generation: number;
}

/** A tool call of a self-hosted session waiting for its worker's `user.tool_result`. */
interface Waiter {
  sessionId: string;
  resolve: (outcome: { content: ContentBlock[]; isError: boolean; status: 'completed' | 'interrupted' }) => void;
}

export interface WorkQueueOptions {
  store: SessionStore;
  managed: ManagedDb;
  /** The lease TTL given to workers (default DROVER_WORK_LEASE_SECONDS, else 60 s). */
  leaseTtlSeconds?: number;
  log: (line: string, error?: unknown) => void;
}

export class WorkQueue {
  private readonly items = new Map<string, WorkItem>();
  private readonly tokens = new Map<string, SessionGrant>();
  /** Pollers waiting (block_ms) for work in an environment. */
  private readonly pollers = new Map<string, Set<() => void>>();
  /** Workers that polled an environment, with when (for stats). */
  private readonly polled = new Map<string, Map<string, number>>();
  /** Tool calls waiting for a worker's result, by their tool use event's uuid. */
  private readonly waiters = new Map<string, Waiter>();
  /** Results that arrived before their call started waiting (a fast worker), by tool use event uuid. */
  private readonly early = new Map<string, { sessionId: string; content: ContentBlock[]; isError: boolean }>();
  private timer: NodeJS.Timeout | null = null;
  readonly leaseTtlSeconds: number;

  constructor(private readonly options: WorkQueueOptions) {
    const fromEnv = Number(process.env['DROVER_WORK_LEASE_SECONDS']);
    this.leaseTtlSeconds = options.leaseTtlSeconds ?? (Number.isFinite(fromEnv) && fromEnv >= 1 ? fromEnv : DEFAULT_LEASE_TTL_SECONDS);
    this.load();
  }

  /** The items and tokens kept before a restart; leases held then run on (and expire) as before. */
  private load(): void {
    for (const row of this.options.managed.list('work_item')) {
      const item = row.body as WorkItem;
      this.items.set(item.id, { ...item, lostWorkerId: item.lostWorkerId ?? null });
    }
    for (const row of this.options.managed.list('work_token')) {
      const grant = row.body as SessionGrant;
      if (this.items.has(grant.workId)) this.tokens.set(row.id, grant);
    }
    if ([...this.items.values()].some((item) => item.leaseUntilMs !== null)) this.ensureTimer();
  }

  /** Writes the item as it is now (an upsert; nothing is logged). */
  private save(item: WorkItem): void {
    const now = nowIso();
    const row = {
      kind: 'work_item' as const,
      id: item.id,
      version: 1,
      body: item,
      parent: item.environment_id,
      created_at: item.created_at,
      updated_at: now,
      archived_at: null,
    };
    try {
      this.options.managed.transaction(() => {
        if (this.options.managed.get('work_item', item.id) === null) this.options.managed.insert(row);
        else this.options.managed.replace(row);
      });
    } catch (error) {
      this.options.log(`Keeping work item ${item.id} failed (it is lost at a restart)`, error);
    }
  }

  // ---- environment keys ----

  /** A new environment key for a self-hosted environment (the old one stops working at once). Shown once: only its hash is kept. */
  mintKey(environmentId: string): string {
    const key = `drover-env-${randomBytes(32).toString('base64url')}`;
    const now = nowIso();
    const row = {
      kind: 'environment_key' as const,
      id: environmentId,
      version: 1,
      body: { sha256: sha256(key), last4: key.slice(-4), created_at: now },
      parent: environmentId,
      created_at: now,
      updated_at: now,
      archived_at: null,
    };
    this.options.managed.transaction(() => {
      if (this.options.managed.get('environment_key', environmentId) === null) this.options.managed.insert(row);
      else this.options.managed.replace(row);
    });
    return key;
  }

  /** Revokes the environment's key: workers using it are refused from their next request. */
  revokeKey(environmentId: string): void {
    this.options.managed.remove('environment_key', environmentId);
  }

  /** Whether `presented` is the environment's current key. */
  keyMatches(environmentId: string, presented: string | null): boolean {
    if (presented === null) return false;
    const row = this.options.managed.get('environment_key', environmentId);
    const stored = (row?.body as { sha256?: unknown } | undefined)?.sha256;
    return typeof stored === 'string' && sameHash(stored, sha256(presented));
  }

  /** What a sessions token grants, or null when it is not one (or its claim is over). */
  grantOf(presented: string | null): SessionGrant | null {
    if (presented === null) return null;
    const grant = this.tokens.get(sha256(presented));
    if (grant === undefined) return null;
    const item = this.items.get(grant.workId);
    if (item === undefined || item.state === 'stopped') return null;
    return grant;
  }

  // ---- the queue ----

  /** Queues work for the session unless it has work that is not stopped (a session has one worker at a time). */
  ensureWork(environmentId: string, sessionId: string): WorkItem {
    for (const item of this.items.values())
      if (item.session_id === sessionId && item.state !== 'stopped' && item.state !== 'stopping') return item;
    const item: WorkItem = {
      id: `work_${randomBytes(16).toString('hex')}`,
      environment_id: environmentId,
      session_id: sessionId,
      state: 'queued',
      created_at: nowIso(),
      acknowledged_at: null,
      started_at: null,
      latest_heartbeat_at: null,
      stop_requested_at: null,
      stopped_at: null,
      metadata: {},
      claimedAtMs: null,
      generation: 0,
      leaseUntilMs: null,
      ttlSeconds: this.leaseTtlSeconds,
      workerId: null,
      remote: null,
      lostWorkerId: null,
    };
    this.items.set(item.id, item);
    this.save(item);
    this.wakePollers(environmentId);
    return item;
  }

  /** Claims the oldest available item (waiting up to `blockMs` for one); null when there is none. */
  async poll(
    environmentId: string,
    options: { blockMs: number; reclaimOlderThanMs: number | null; workerId: string | null; remote: string | null; signal: AbortSignal },
  ): Promise<{ item: WorkItem; token: string } | null> {
    if (options.workerId !== null) {
      const workers = this.polled.get(environmentId) ?? new Map<string, number>();
      workers.set(options.workerId, Date.now());
      this.polled.set(environmentId, workers);
    }
    this.ensureTimer();
    const reclaimMs = options.reclaimOlderThanMs ?? DEFAULT_RECLAIM_MS;
    const claim = (): { item: WorkItem; token: string } | null => {
      const now = Date.now();
      const item = [...this.items.values()].find(
        (each) =>
          each.environment_id === environmentId &&
          each.state === 'queued' &&
          (each.claimedAtMs === null || now - each.claimedAtMs >= reclaimMs),
      );
      if (item === undefined) return null;
      item.claimedAtMs = now;
      item.generation += 1;
      item.workerId = options.workerId;
      item.remote = options.remote;
      this.retireTokens(item.id);
      const token = `drover-ses-${randomBytes(32).toString('base64url')}`;
      const grant: SessionGrant = { workId: item.id, environmentId, sessionId: item.session_id, generation: item.generation };
      const hash = sha256(token);
      this.tokens.set(hash, grant);
      const at = nowIso();
      try {
        this.options.managed.insert({
          kind: 'work_token',
          id: hash,
          version: 1,
          body: grant,
          parent: item.id,
          created_at: at,
          updated_at: at,
          archived_at: null,
        });
      } catch (error) {
        this.options.log(`Keeping the token of work item ${item.id} failed (it is refused after a restart)`, error);
      }
      this.save(item);
      return { item, token };
    };
    const now = claim();
    if (now !== null || options.blockMs <= 0) return now;
    await new Promise<void>((resolve) => {
      const waiters = this.pollers.get(environmentId) ?? new Set<() => void>();
      this.pollers.set(environmentId, waiters);
      const done = (): void => {
        clearTimeout(timeout);
        waiters.delete(done);
        options.signal.removeEventListener('abort', done);
        resolve();
      };
      const timeout = setTimeout(done, options.blockMs);
      waiters.add(done);
      options.signal.addEventListener('abort', done, { once: true });
    });
    return options.signal.aborted ? null : claim();
  }

  get(environmentId: string, workId: string): WorkItem {
    const item = this.items.get(workId);
    if (item === undefined || item.environment_id !== environmentId)
      throw new AppError('not-found', `The environment ${environmentId} has no work item ${workId.slice(0, 80)}.`);
    return item;
  }

  /** The session's latest work item as the Hands panel shows it (none: it never queued work). */
  workersOf(sessionId: string): WorkerStatus[] {
    const item = [...this.items.values()].filter((each) => each.session_id === sessionId).at(-1);
    return item === undefined ? [] : [workerStatusOf(item)];
  }

  /** The environment's key, without it: its last 4 characters and when it was made. */
  keyInfo(environmentId: string): { hint: string; created_at: string } | null {
    const body = this.options.managed.get('environment_key', environmentId)?.body as { last4?: unknown; created_at?: unknown } | undefined;
    return typeof body?.last4 === 'string' && typeof body.created_at === 'string'
      ? { hint: body.last4, created_at: body.created_at }
      : null;
  }

  /** The environment's items, newest first. */
  list(environmentId: string): WorkItem[] {
    return [...this.items.values()].filter((item) => item.environment_id === environmentId).reverse();
  }

  stats(environmentId: string): BetaSelfHostedWorkQueueStats {
    const items = this.list(environmentId).filter((item) => item.state === 'queued');
    const cutoff = Date.now() - 30_000;
    const workers = [...(this.polled.get(environmentId) ?? new Map<string, number>()).values()].filter((at) => at >= cutoff);
    return {
      type: 'work_queue_stats',
      depth: items.filter((item) => item.claimedAtMs === null).length,
      pending: items.filter((item) => item.claimedAtMs !== null).length,
      oldest_queued_at: items.at(-1)?.created_at ?? null,
      workers_polling: workers.length,
    };
  }

  /** The worker has the item: `queued` → `starting`; its lease runs from now until the first heartbeat. */
  ack(environmentId: string, workId: string): WorkItem {
    const item = this.get(environmentId, workId);
    if (item.state !== 'queued' || item.claimedAtMs === null)
      throw new AppError(
        'conflict',
        `The work item ${workId} is ${item.state}${item.state === 'queued' ? ' and not polled' : ''}: only a polled, queued item can be acknowledged. Poll again.`,
      );
    item.state = 'starting';
    item.lostWorkerId = null;
    item.acknowledged_at = nowIso();
    item.leaseUntilMs = Date.now() + item.ttlSeconds * 1000;
    this.save(item);
    return item;
  }

  /**
   * Renews the lease of the claim `grant` holds (when `expected` is the stored heartbeat), or says
   * it stops. Throws the 412's lease state when another claim holds the item or `expected` is stale.
   */
  heartbeat(
    item: WorkItem,
    claim: number | null,
    expected: string | null,
    desiredTtl: number | null,
  ): { last_heartbeat: string; lease_extended: boolean; state: WorkState; ttl_seconds: number } {
    if (item.state === 'stopping' || item.state === 'stopped')
      return { last_heartbeat: item.latest_heartbeat_at ?? '', lease_extended: false, state: item.state, ttl_seconds: item.ttlSeconds };
    const stored = item.latest_heartbeat_at ?? 'NO_HEARTBEAT';
    if ((claim !== null && claim !== item.generation) || (expected !== null && expected !== stored) || item.state === 'queued')
      throw new LeaseMismatch({
        last_heartbeat: item.latest_heartbeat_at,
        lease_extended: false,
        state: item.state,
        ttl_seconds: item.ttlSeconds,
      });
    if (desiredTtl !== null) item.ttlSeconds = Math.max(1, Math.min(MAX_LEASE_TTL_SECONDS, Math.round(desiredTtl)));
    let now = nowIso();
    // Each heartbeat has its own value, so an echo of an older one is always stale.
    if (now <= (item.latest_heartbeat_at ?? '')) now = new Date(Date.parse(item.latest_heartbeat_at ?? now) + 1).toISOString();
    const first = item.state === 'starting';
    item.latest_heartbeat_at = now;
    item.leaseUntilMs = Date.now() + item.ttlSeconds * 1000;
    if (first) {
      item.state = 'active';
      item.started_at ??= now;
      const local = item.remote === null || LOCAL_ADDRESSES.includes(item.remote);
      const where = local ? ' on this computer' : ` on ${item.remote ?? ''}`;
      this.record(item.session_id, {
        type: 'hand.ready',
        payload: {
          hand_id: WORKER_HAND_ID,
          detail: `Self-hosted worker ${item.workerId ?? '(no worker id)'}${where} holds work ${item.id} (lease ${item.ttlSeconds} s, first heartbeat ${now}).`,
          ...(local || item.remote === null ? {} : { container: item.remote }),
        },
      });
    }
    this.save(item);
    return { last_heartbeat: now, lease_extended: true, state: item.state, ttl_seconds: item.ttlSeconds };
  }

  /** Stops an item: at once (`force`), or by telling its worker at the next heartbeat. */
  stop(item: WorkItem, force: boolean): WorkItem {
    if (item.state === 'stopped') throw new AppError('conflict', `The work item ${item.id} is already stopped.`);
    const now = nowIso();
    item.stop_requested_at ??= now;
    if (force || item.state === 'queued') {
      item.state = 'stopped';
      item.stopped_at = now;
      item.leaseUntilMs = null;
      this.retireTokens(item.id);
      this.interruptTools(
        item.session_id,
        `Not finished: the self-hosted worker ${item.workerId ?? ''} stopped its work item before answering this tool call, so its outcome is unknown. It was not run again. Check its effects before running it again.`,
      );
    } else item.state = 'stopping';
    this.save(item);
    return item;
  }

  updateMetadata(item: WorkItem, patch: Record<string, string | null>): WorkItem {
    for (const [key, value] of Object.entries(patch)) {
      if (value === null || value === '') delete item.metadata[key];
      else item.metadata[key] = value;
    }
    this.save(item);
    return item;
  }

  // ---- tool calls ----

  /** Waits for the worker's result for the tool use event `eventUuid` (queuing work for the session if it has none). */
  waitForResult(
    environmentId: string,
    sessionId: string,
    eventUuid: string,
  ): Promise<{ content: ContentBlock[]; isError: boolean; status: 'completed' | 'interrupted' }> {
    this.ensureTimer();
    const early = this.early.get(eventUuid);
    if (early !== undefined && early.sessionId === sessionId) {
      this.early.delete(eventUuid);
      return Promise.resolve({ content: early.content, isError: early.isError, status: 'completed' });
    }
    this.ensureWork(environmentId, sessionId);
    return new Promise((resolve) => this.waiters.set(eventUuid, { sessionId, resolve }));
  }

  forget(eventUuid: string): void {
    this.waiters.delete(eventUuid);
    this.early.delete(eventUuid);
  }

  /** Whether a tool call of the session waits for its result. */
  waiting(sessionId: string, eventUuid: string): boolean {
    return this.waiters.get(eventUuid)?.sessionId === sessionId;
  }

  /**
   * Hands a worker's result to the waiting tool call (see `waiting`); with `early`, a result for a
   * call that is recorded but not waiting yet is kept for it. False when it was neither.
   */
  deliver(sessionId: string, eventUuid: string, content: ContentBlock[], isError: boolean, early = false): boolean {
    const waiter = this.waiters.get(eventUuid);
    if (waiter === undefined || waiter.sessionId !== sessionId) {
      if (!early) return false;
      this.early.set(eventUuid, { sessionId, content, isError });
      return true;
    }
    this.waiters.delete(eventUuid);
    waiter.resolve({ content, isError, status: 'completed' });
    return true;
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const waiters of this.pollers.values()) for (const done of [...waiters]) done();
  }

  // ---- internals ----

  private ensureTimer(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.expireLeases(), 250);
    this.timer.unref();
  }

  /** Leases not renewed in time: queued again for another worker; their tools are answered as interrupted. */
  private expireLeases(): void {
    const now = Date.now();
    for (const item of this.items.values()) {
      if ((item.state !== 'starting' && item.state !== 'active' && item.state !== 'stopping') || item.leaseUntilMs === null) continue;
      if (item.leaseUntilMs > now) continue;
      const worker = item.workerId ?? '(no worker id)';
      if (item.state === 'stopping') {
        item.state = 'stopped';
        item.stopped_at = nowIso();
      } else {
        item.state = 'queued';
        item.lostWorkerId = worker;
        item.claimedAtMs = null;
        item.acknowledged_at = null;
        item.latest_heartbeat_at = null;
      }
      item.leaseUntilMs = null;
      this.retireTokens(item.id);
      this.save(item);
      this.record(item.session_id, {
        type: 'hand.lost',
        payload: {
          hand_id: WORKER_HAND_ID,
          reason:
            `The self-hosted worker ${worker} stopped heartbeating (its ${item.ttlSeconds} s lease expired). ${item.state === 'queued' ? 'Its work is queued again for the next worker that polls.' : ''}`.trim(),
        },
      });
      this.interruptTools(
        item.session_id,
        `Interrupted: the self-hosted worker ${worker} running this tool stopped answering (its ${item.ttlSeconds} s lease expired), so the tool's outcome is unknown. It was not run again. Check its effects before running it again.`,
      );
      this.wakePollers(item.environment_id);
    }
  }

  private interruptTools(sessionId: string, text: string): void {
    for (const [uuid, waiter] of [...this.waiters]) {
      if (waiter.sessionId !== sessionId) continue;
      this.waiters.delete(uuid);
      waiter.resolve({ content: [{ type: 'text', text }], isError: true, status: 'interrupted' });
    }
  }

  private retireTokens(workId: string): void {
    for (const [hash, grant] of [...this.tokens]) {
      if (grant.workId !== workId) continue;
      this.tokens.delete(hash);
      try {
        this.options.managed.remove('work_token', hash);
      } catch (error) {
        this.options.log(`Forgetting a token of work item ${workId} failed`, error);
      }
    }
  }

  private wakePollers(environmentId: string): void {
    for (const done of [...(this.pollers.get(environmentId) ?? [])]) done();
  }

  private record(sessionId: string, event: NewEvent): void {
    try {
      this.options.store.emitEvent(sessionId, event);
    } catch (error) {
      this.options.log(`Recording ${event.type} for session ${sessionId} failed`, error);
    }
  }
}

/** A heartbeat refused: another claim holds the item, or the heartbeat echoed is not the stored one. */
export class LeaseMismatch extends Error {
  constructor(readonly current: { last_heartbeat: string | null; lease_extended: false; state: WorkState; ttl_seconds: number }) {
    super('heartbeat precondition failed');
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function sameHash(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let index = 0; index < Math.min(a.length, b.length); index++) diff |= a.charCodeAt(index) ^ b.charCodeAt(index);
  return diff === 0;
}
