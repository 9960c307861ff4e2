/**
 * The brain: wakes a session from its log, calls the model, routes tool uses to hands, and
 * records everything as events until the turn ends. This module is its front: `Harness` (waking,
 * sending, interrupting, outcomes, settings, models, keys) and its options. A wake's work is a
 * `SessionRun` (session-run.ts), with its tools (tool-run.ts), grading (outcome-run.ts) and
 * retries (retry.ts).
 *
 * Stateless by construction. A wake reads the log, folds it into a SessionState (state.ts) and
 * asks `nextStep` what to do; every step appends events and the fold moves on. Nothing about a
 * session survives a wake in memory, so a process killed at any instant is continued by the next
 * `wake()` from the log alone:
 * - a response is stored in one transaction when it completes (with its request's end span), so
 *   a response cut by a crash leaves only an open request span, which the next wake closes and
 *   sends again (recorded as a retry);
 * - a tool runs only after its tool use is durable, and its result is stored when it finishes;
 *   a tool use found without a result by a *new* wake may have run, so it is recorded as
 *   interrupted and the model is told — it is never silently run again.
 *
 * It must never hold session state between wakes, never store a live delta, and never put a key
 * in an event. (The fold a finished wake ended with may be kept for the session's next wake — a
 * cache equal to a fresh fold of the log, since a session's view only grows; never a decision.)
 */
import Anthropic from '@anthropic-ai/sdk';
import { AppError } from '#shared/errors';
import type { ContentBlock, OutcomeDefinition, OutcomeDefinitionInput, SessionSettings, StoredEvent } from '#shared/events';
import { OutcomeDefinitionSchema, SessionSettingsSchema, describeIssues, issuesText } from '#shared/events';
import type { LiveUpdate, ModelList, SessionUsage } from '#shared/harness';
import type { Hand } from '#services/hands/hand';
import type { SessionStore } from '#services/session/store';
import { DEFAULT_SETTINGS, FALLBACK_MODELS, pickDefaultModel, usageTotals } from './models.ts';
import { foldLog, readAll } from './fold-log.ts';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.ts';
import { SessionRun } from './session-run.ts';
import { isThreaded, ThreadsRun, threadsNeedResume } from './threads-run.ts';
import type { GuardrailsState } from './approvals.ts';
import { needsResume, type SessionState } from './state.ts';

/** A finished wake's fold of a session's log (its view and both folds), for the session's next wake. */
export interface KeptFold {
  events: StoredEvent[];
  state: SessionState;
  guardrails: GuardrailsState;
}

/** Folds kept for the sessions woken last (each may hold a long log's events). */
const KEPT_FOLDS = 4;

/** The events that wake their session, whoever appended them. */
const WAKING: ReadonlySet<StoredEvent['type']> = new Set([
  'user.message',
  'user.tool_confirmation',
  'user.custom_tool_result',
  'session.budget_set',
]);

/** Where the API key comes from (the vault, with ANTHROPIC_API_KEY as override). Null: none set. */
export type KeyProvider = () => Promise<string | null> | string | null;

export interface HarnessOptions {
  store: SessionStore;
  keyProvider: KeyProvider;
  /** An Anthropic-compatible endpoint; the SDK's default (or ANTHROPIC_BASE_URL) when unset. */
  baseURL?: string | undefined;
  /** The hands attached to a session (their tools are what the model can call). */
  /** `signal` aborts when the user interrupts (an MCP server still starting stops being waited for). */
  handsFor?: (sessionId: string, signal?: AbortSignal) => readonly Hand[] | Promise<readonly Hand[]>;
  /** Live stream updates (not stored). */
  onLive?: (sessionId: string, update: LiveUpdate) => void;
  /**
   * A turn stopped on a failure its log could not take (a full or unwritable disk): the log still
   * says it runs, so the UI must hear it here. Cleared by the session's next wake.
   */
  onFault?: (sessionId: string, fault: SessionFault) => void;
  retry?: Partial<RetryPolicy>;
  /** Per model request. */
  requestTimeoutMs?: number;
  log?: (message: string, error?: unknown) => void;
}

/** Why a turn stopped when its log could not record it (see `HarnessOptions.onFault`). */
export interface SessionFault {
  /** In a stop reason's words, e.g. `storage_full` (shown as "Stopped: storage full"). */
  reason: string;
  /** What happened and what to do. */
  message: string;
}

export class Harness {
  private readonly store: SessionStore;
  private readonly options: HarnessOptions;
  private readonly retry: RetryPolicy;
  private readonly runs = new Map<string, SessionRun | ThreadsRun>();
  /** Turns that stopped without their log saying so (the store refused the record); until the next wake. */
  private readonly faults = new Map<string, SessionFault>();
  private readonly clients = new Map<string, Anthropic>();
  /**
   * The fold each of the last few sessions' wakes ended with. Only a cache: a session's view only
   * grows (a rewind or fork is another session), so folding the events appended since gives what a
   * fresh fold of the whole log would; a new process has none and folds the log.
   */
  private readonly folds = new Map<string, KeptFold>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(options: HarnessOptions) {
    this.store = options.store;
    this.options = options;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    // A user message wakes its session, whoever appended it; so do an answer to a tool call that
    // waits for approval and a budget change (a session its budget stopped continues). Deferred:
    // waking subscribes to the store, which must not happen inside the store's own notification.
    this.unsubscribe = this.store.subscribeAll((sessionId, event) => {
      if (!WAKING.has(event.type)) return;
      // A budget change wakes only a session its budget stopped (a fork that waits for the user stays waiting).
      if (event.type === 'session.budget_set' && !this.stoppedByBudget(sessionId)) return;
      queueMicrotask(() => {
        this.wake(sessionId).catch((error: unknown) => this.log(`Session ${sessionId} could not run`, error));
      });
    });
  }

  /**
   * Reads the session's log and carries on from its last event until the session is idle.
   * Resolves at once when there is nothing to do; concurrent calls share one run.
   */
  wake(sessionId: string): Promise<void> {
    const running = this.runs.get(sessionId);
    if (running) return running.done;
    if (this.closed) return Promise.resolve();
    // The run gives up its slot synchronously with its last decision (and its subscription), so
    // a message appended right after is either seen by the run or wakes a new one — never lost.
    const release = (): void => {
      if (this.runs.get(sessionId) === run) this.runs.delete(sessionId);
    };
    // A session with a roster or threads runs each thread with work at once (threads-run.ts).
    const run = isThreaded(this.store, sessionId)
      ? new ThreadsRun(this, this.store, sessionId, this.options, this.retry, release)
      : new SessionRun(this, this.store, sessionId, this.options, this.retry, release);
    this.runs.set(sessionId, run);
    this.faults.delete(sessionId); // this run records how it ends, or reports a new fault
    run.done = run.execute();
    return run.done;
  }

  /** Appends a user message; the session wakes to answer it. */
  send(sessionId: string, content: string | ContentBlock[]): StoredEvent {
    const blocks: ContentBlock[] = typeof content === 'string' ? [{ type: 'text', text: content }] : content;
    if (blocks.every((block) => block.type === 'text' && block.text.trim() === '')) {
      throw new AppError('invalid-argument', 'The message is empty. Type something to send.');
    }
    return this.store.emitEvent(sessionId, { type: 'user.message', payload: { content: blocks } });
  }

  /** Records a user interrupt; a running stream or tool stops within milliseconds. `threadId`: that thread only (absent: all). */
  interrupt(sessionId: string, reason?: string, threadId?: string): StoredEvent {
    const payload = { ...(reason === undefined ? {} : { reason }), ...(threadId === undefined ? {} : { session_thread_id: threadId }) };
    const event = this.store.emitEvent(sessionId, { type: 'user.interrupt', payload });
    // Not running here: the log may still say running (a crash); a wake records the stop.
    if (!this.runs.has(sessionId))
      void this.wake(sessionId).catch((error: unknown) => this.log(`Session ${sessionId} could not stop`, error));
    return event;
  }

  /**
   * Records what "done" means for the session (replacing any earlier outcome): from the next turn
   * end on, a grader checks the agent's work against it. Nothing runs now; an idle session waits
   * for its next message. Which hands exist is the caller's to check (the registry knows them).
   */
  defineOutcome(sessionId: string, outcome: OutcomeDefinitionInput): OutcomeDefinition {
    const parsed = OutcomeDefinitionSchema.safeParse(outcome);
    if (!parsed.success) {
      const issues = describeIssues(parsed.error.issues, ['outcome']);
      throw new AppError('invalid-argument', `This outcome is not valid: ${issuesText(issues)}.`, { issues });
    }
    this.store.emitEvent(sessionId, { type: 'user.define_outcome', payload: parsed.data });
    return parsed.data;
  }

  /** The session's model settings (the latest `session.configured`, else the defaults). */
  settings(sessionId: string): SessionSettings {
    const [latest] = this.store.getEvents(sessionId, { types: ['session.configured'], direction: 'backward', limit: 1 });
    return latest?.type === 'session.configured' ? latest.payload : DEFAULT_SETTINGS;
  }

  /** Records new settings (merged over the current ones) in the log; they apply from the next request. */
  configure(sessionId: string, changes: Partial<SessionSettings>): SessionSettings {
    const settings = mergeSettings(this.settings(sessionId), changes);
    this.store.emitEvent(sessionId, { type: 'session.configured', payload: settings });
    return settings;
  }

  usage(sessionId: string): SessionUsage {
    return usageTotals(readAll(this.store, sessionId, ['span.model_request_end']));
  }

  /** Whether the session's last status is idle with `budget_reached`. */
  private stoppedByBudget(sessionId: string): boolean {
    const [last] = this.store.getEvents(sessionId, {
      types: ['session.status_running', 'session.status_idle', 'session.status_terminated'],
      direction: 'backward',
      limit: 1,
    });
    return last?.type === 'session.status_idle' && last.payload.stop_reason.type === 'budget_reached';
  }

  /** @internal the fold a wake of the session starts from, if one was kept (taken: a run owns it). */
  takeFold(sessionId: string): KeptFold | undefined {
    const kept = this.folds.get(sessionId);
    this.folds.delete(sessionId);
    return kept;
  }

  /** @internal keeps a finished wake's fold for the session's next wake. */
  keepFold(sessionId: string, fold: KeptFold): void {
    if (this.closed) return;
    this.folds.set(sessionId, fold);
    for (const oldest of this.folds.keys()) {
      if (this.folds.size <= KEPT_FOLDS) break;
      this.folds.delete(oldest);
    }
  }

  isRunning(sessionId: string): boolean {
    return this.runs.has(sessionId);
  }

  /** Why the session's last turn stopped when its log could not say so; null when its log tells the truth. */
  fault(sessionId: string): SessionFault | null {
    return this.faults.get(sessionId) ?? null;
  }

  /** @internal a run's end its log could not take. */
  reportFault(sessionId: string, fault: SessionFault): void {
    this.faults.set(sessionId, fault);
    this.options.onFault?.(sessionId, fault);
  }

  /** Models from the Models API; the built-in list (with the reason) when it cannot be reached. */
  async listModels(): Promise<ModelList> {
    const fallback = (reason: string): ModelList => ({
      models: [...FALLBACK_MODELS],
      defaultModel: pickDefaultModel(FALLBACK_MODELS),
      fallbackReason: reason,
    });
    const key = await this.options.keyProvider();
    if (!key) return fallback('No API key is set yet.');
    try {
      const models = [];
      for await (const model of this.client(key).models.list({ limit: 100 }, { timeout: 10_000 })) {
        models.push({ id: model.id, displayName: model.display_name });
      }
      if (models.length === 0) return fallback('The Models API listed no models.');
      return { models, defaultModel: pickDefaultModel(models), fallbackReason: null };
    } catch (error) {
      return fallback(`The Models API could not be reached: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * Tries `key` against the Models API: whether it is accepted, in words the user can act on.
   * The key is used for this one request only; it never appears in the message.
   */
  async testKey(key: string): Promise<{ ok: boolean; message: string }> {
    try {
      await this.client(key).models.list({ limit: 1 }, { timeout: 15_000, maxRetries: 0 });
      return { ok: true, message: 'The API accepted the key.' };
    } catch (error) {
      const status = typeof error === 'object' && error !== null && 'status' in error ? (error as { status?: unknown }).status : undefined;
      if (status === 401 || status === 403) {
        return { ok: false, message: `The API refused the key (${status}). Check it at console.anthropic.com, then paste it again.` };
      }
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, message: `The key could not be tested: ${reason}. Check the network (or ANTHROPIC_BASE_URL) and test again.` };
    }
  }

  /**
   * Wakes every session whose log asks for work when Drover starts: a turn cut by the last stop,
   * or a user message stored just before it that was never answered (see `needsResume`).
   */
  resumeInterrupted(): string[] {
    const resumed: string[] = [];
    for (const session of this.store.listSessions()) {
      // Cheap first: a log that ends idle or terminated has nothing pending (most sessions). A threaded
      // log's idle is only its primary's: its threads are judged one by one (threads-run.ts).
      const [last] = this.store.getEvents(session.id, { direction: 'backward', limit: 1 });
      if (!last || last.type === 'session.status_terminated') continue;
      const threaded = isThreaded(this.store, session.id);
      if (!threaded && last.type === 'session.status_idle') continue;
      if (!(threaded ? threadsNeedResume(this.store, session.id) : needsResume(foldLog(this.store, session.id).state))) continue;
      resumed.push(session.id);
      this.wake(session.id).catch((error: unknown) => this.log(`Session ${session.id} could not resume`, error));
    }
    return resumed;
  }

  /**
   * Stops every run without recording anything (as a crash would): the log stays as it was and
   * the next start's `resumeInterrupted()` carries on.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.folds.clear();
    this.unsubscribe();
    const runs = [...this.runs.values()];
    for (const run of runs) run.shutdown();
    await Promise.allSettled(runs.map((run) => run.done));
  }

  /** @internal one SDK client per key (the SDK keeps connections alive). */
  client(key: string): Anthropic {
    let client = this.clients.get(key);
    if (!client) {
      client = new Anthropic({
        apiKey: key,
        maxRetries: 0,
        timeout: this.options.requestTimeoutMs ?? 10 * 60_000,
        ...(this.options.baseURL === undefined ? {} : { baseURL: this.options.baseURL }),
      });
      this.clients.clear(); // a replaced key should not keep the old client around
      this.clients.set(key, client);
    }
    return client;
  }

  /** @internal */
  log(message: string, error?: unknown): void {
    (this.options.log ?? ((m: string, e?: unknown) => console.error(m, e)))(message, error);
  }
}

/** `changes` over `base`, checked as a whole; an AppError naming each bad field otherwise. */
export function mergeSettings(base: SessionSettings, changes: Partial<SessionSettings>): SessionSettings {
  const parsed = SessionSettingsSchema.safeParse({ ...base, ...changes });
  if (parsed.success) return parsed.data;
  const issues = describeIssues(parsed.error.issues, ['settings']);
  throw new AppError('invalid-argument', `These settings are not valid: ${issuesText(issues)}.`, { issues });
}

/** The key from ANTHROPIC_API_KEY, the override of any stored key. */
export function environmentKey(): string | null {
  const key = process.env['ANTHROPIC_API_KEY']?.trim();
  return key ? key : null;
}
