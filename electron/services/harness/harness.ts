/**
 * The brain: wakes a session from its log, calls the model, routes tool uses to hands, and
 * records everything as events until the turn ends.
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
 * in an event.
 */
import { performance } from 'node:perf_hooks';
import Anthropic from '@anthropic-ai/sdk';
import { AppError } from '#shared/errors';
import type { ContentBlock, NewEvent, OutcomeDefinition, OutcomeDefinitionInput, OutcomeResult, SessionSettings, StoredEvent, Usage } from '#shared/events';
import { qualifiedToolName } from '#shared/hands';
import { OutcomeDefinitionSchema, SessionSettingsSchema, describeIssues, issuesText } from '#shared/events';
import type { LiveUpdate, ModelList, SessionUsage } from '#shared/harness';
import type { Hand, ToolOutcome, ToolSpec } from '#services/hands/hand';
import type { SessionStore } from '#services/session/store';
import { buildContext, compactionCut, compactionRequest, type ContextView } from './context.ts';
import { capVerificationOutput, graderModel, graderRequest, parseVerdict, resultOf, type Criterion, type VerificationRun } from './grader.ts';
import { ModelCallError, streamMessage, type ModelResponse } from './model-client.ts';
import { contextBudget, DEFAULT_SETTINGS, FALLBACK_MODELS, pickDefaultModel, usageTotals } from './models.ts';
import { foldLog, readAll } from './fold-log.ts';
import { applyEvent, emptyState, MAX_CONTINUATIONS, needsResume, nextStep, type IdleReason, type NextStep, type SessionState, type ToolUseEvent } from './state.ts';

/** Where the API key comes from (the vault, with ANTHROPIC_API_KEY as override). Null: none set. */
export type KeyProvider = () => Promise<string | null> | string | null;

export interface RetryPolicy {
  /** Failed attempts retried before the turn ends with `retries_exhausted`. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 60_000 };

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

export const NO_KEY_MESSAGE =
  'No Anthropic API key is set. Add your key in Settings → Credentials (or set ANTHROPIC_API_KEY before starting Drover), then send your message again.';

/** Why a turn stopped when its log could not record it (see `HarnessOptions.onFault`). */
export interface SessionFault {
  /** In a stop reason's words, e.g. `storage_full` (shown as "Stopped: storage full"). */
  reason: string;
  /** What happened and what to do. */
  message: string;
}

/** Tool output kept per result; more is cut with a marker (hands cap well below this). */
const MAX_TOOL_RESULT_CHARS = 200_000;

export class Harness {
  private readonly store: SessionStore;
  private readonly options: HarnessOptions;
  private readonly retry: RetryPolicy;
  private readonly runs = new Map<string, SessionRun>();
  /** Turns that stopped without their log saying so (the store refused the record); until the next wake. */
  private readonly faults = new Map<string, SessionFault>();
  private readonly clients = new Map<string, Anthropic>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(options: HarnessOptions) {
    this.store = options.store;
    this.options = options;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    // A user message wakes its session, whoever appended it. Deferred: waking subscribes to the
    // store, which must not happen inside the store's own notification.
    this.unsubscribe = this.store.subscribeAll((sessionId, event) => {
      if (event.type !== 'user.message') return;
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
    const run = new SessionRun(this, this.store, sessionId, this.options, this.retry, release);
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

  /** Records a user interrupt; a running stream or tool stops within milliseconds. */
  interrupt(sessionId: string, reason?: string): StoredEvent {
    const event = this.store.emitEvent(sessionId, { type: 'user.interrupt', payload: reason === undefined ? {} : { reason } });
    // Not running here: the log may still say running (a crash); a wake records the stop.
    if (!this.runs.has(sessionId)) void this.wake(sessionId).catch((error: unknown) => this.log(`Session ${sessionId} could not stop`, error));
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
    const fallback = (reason: string): ModelList => ({ models: [...FALLBACK_MODELS], defaultModel: pickDefaultModel(FALLBACK_MODELS), fallbackReason: reason });
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
      // Cheap first: a log that ends idle or terminated has nothing pending (most sessions).
      const [last] = this.store.getEvents(session.id, { direction: 'backward', limit: 1 });
      if (!last || last.type === 'session.status_idle' || last.type === 'session.status_terminated') continue;
      if (!needsResume(foldLog(this.store, session.id).state)) continue;
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

export { readAll };

type ToolRoute = Map<string, Hand>;

interface PreparedRequest {
  /** Seq of its committed start span. */
  seq: number;
  model: string;
  view: ContextView;
}

/** One wake of one session. Lives only while the session has work; holds nothing afterwards. */
class SessionRun {
  done: Promise<void> = Promise.resolve();
  private events: StoredEvent[] = [];
  private state: SessionState = emptyState();
  private controller = new AbortController();
  private stopping = false;
  private unsubscribe: () => void = () => undefined;
  /** Tool uses this run stored (so it knows they have not started); others found open may have run. */
  private readonly ownToolUses = new Set<string>();
  private route: ToolRoute = new Map();
  private tools: ToolSpec[] = [];
  /** The hands the tools came from (an MCP server's tools may change while a turn runs). */
  private hands: readonly Hand[] = [];
  /** A request started in the same commit as the last tool result (see `emitToolResult`). */
  private prepared: PreparedRequest | null = null;

  constructor(
    private readonly harness: Harness,
    private readonly store: SessionStore,
    private readonly sessionId: string,
    private readonly options: HarnessOptions,
    private readonly retry: RetryPolicy,
    private readonly release: () => void,
  ) {}

  shutdown(): void {
    this.stopping = true;
    this.controller.abort();
  }

  async execute(): Promise<void> {
    this.load();
    try {
      let idleSteps = 0;
      for (;;) {
        if (this.stopping) return;
        const step = nextStep(this.state);
        if (step.kind === 'none') return;
        this.controller = new AbortController();
        const seen = this.events.length;
        await this.perform(step);
        // Every step records something. One that does not, twice running, is a bug that would
        // spin and freeze every other session on this thread: stop the turn instead.
        idleSteps = this.events.length === seen ? idleSteps + 1 : 0;
        if (idleSteps >= 2) throw new Error(`the brain made no progress (step "${step.kind}" recorded nothing)`);
      }
    } catch (error) {
      if (this.stopping) return;
      this.recordCrash(error);
      throw error;
    } finally {
      this.unsubscribe();
      this.release();
    }
  }

  /** Loads the view (from the latest compaction on) and follows new events — in one synchronous step, so none is missed. */
  private load(): void {
    ({ events: this.events, state: this.state } = foldLog(this.store, this.sessionId));
    this.unsubscribe = this.store.subscribe(this.sessionId, (event) => {
      this.events.push(event);
      applyEvent(this.state, event);
      if (event.type === 'user.interrupt') this.controller.abort();
    });
  }

  private emit(...events: NewEvent[]): void {
    if (events.length === 1) this.store.emitEvent(this.sessionId, events[0] as NewEvent);
    else this.store.emitEvents(this.sessionId, events);
  }

  /**
   * Emits a step's events, and in the same commit the idle that would be the next step anyway
   * (decided by folding the events into a copy of the state): a turn's last response and its end
   * cost one fsync, not two.
   */
  private emitEndingTurn(...events: NewEvent[]): void {
    const probe = structuredClone(this.state);
    let seq = this.events.at(-1)?.seq ?? 0;
    for (const event of events) applyEvent(probe, { ...event, seq: ++seq, id: '', ts: '' } as StoredEvent);
    const next = nextStep(probe);
    if (next.kind === 'finish') events.push(idle(next.reason, this.finishMessage(next.reason)));
    this.emit(...events);
  }

  private live(update: LiveUpdate): void {
    this.options.onLive?.(this.sessionId, update);
  }

  private get settings(): SessionSettings {
    return this.state.settings ?? DEFAULT_SETTINGS;
  }

  private async perform(step: Exclude<NextStep, { kind: 'none' }>): Promise<void> {
    switch (step.kind) {
      case 'close-request': {
        // Our own request, started in the commit of the tool result it answers — unless the user
        // interrupted in between; anything else is a request a crash cut off.
        const prepared = this.prepared;
        if (prepared && this.state.openRequest?.seq === prepared.seq && !this.state.interruptRequested) await this.sendPrepared(prepared);
        else this.closeOpenRequest();
        this.prepared = null;
        return;
      }
      case 'tools': {
        const foreign = step.toolUses.filter((use) => !this.ownToolUses.has(use.payload.tool_use_id));
        if (foreign.length > 0) this.recordLostTools(foreign);
        else await this.runTools(step.toolUses);
        return;
      }
      case 'finish':
        if (step.closeEvaluation === undefined) this.emit(idle(step.reason, this.finishMessage(step.reason)));
        else this.emit(evaluationEnd(step.closeEvaluation, 'interrupted', 'Stopped by the user before the check finished.'), idle(step.reason, this.finishMessage(step.reason)));
        return;
      case 'grade':
        await this.grade(step.iteration, step.resume);
        return;
      case 'request':
        await this.request(step.compact);
        return;
    }
  }

  // ------------------------------------------------------------------------------- recovery

  /** A request whose end is missing: the process died while it streamed. Nothing of it was stored. */
  private closeOpenRequest(): void {
    const open = this.state.openRequest;
    if (!open) return;
    const end = spanEnd(open.model, open.purpose, zeroUsage(), null, true, 0);
    if (open.purpose !== 'turn' || this.state.interruptRequested) {
      this.emit(end);
      return;
    }
    const forked = this.state.forkedAt !== null && this.state.forkedAt > open.seq;
    this.emit(end, {
      type: 'session.error',
      payload: {
        error: {
          type: 'response_lost',
          message: forked
            ? 'This session was forked while Claude was responding, so the response is not part of it; the request is sent again.'
            : 'Drover stopped while Claude was responding. The partial response was not kept; the request is sent again.',
        },
        retry_status: { type: 'retrying', attempt: this.state.retryAttempts + 1, delay_ms: 0 },
      },
    });
  }

  /** Tool uses a previous process stored and may have started: recorded as interrupted, never re-run. */
  private recordLostTools(uses: ToolUseEvent[]): void {
    const forkedAt = this.state.forkedAt;
    this.emit(
      ...uses.map(
        (use): NewEvent =>
          toolResult(
            use.payload.tool_use_id,
            forkedAt !== null && forkedAt > use.seq
              ? 'This session was forked before this tool’s result was recorded. The tool was not run in this branch; ' +
                  'if the original session ran it, its effects on shared machines may be there. Run it again if you need its result.'
              : 'Drover stopped while this tool was running or about to run, so its outcome is unknown. ' +
                  'It was not run again. Check its effects before running it again.',
            true,
            'interrupted',
            use.type === 'agent.mcp_tool_use',
          ),
      ),
    );
  }

  /**
   * An unexpected failure (a bug, a full disk): ends the turn with it in the log if the log still
   * takes writes; if it does not, the UI is told (`onFault`) and the session stops counting as
   * running until its next wake.
   */
  private recordCrash(error: unknown): void {
    const storage = error instanceof AppError && error.code.startsWith('storage-');
    const detail = error instanceof Error ? error.message : String(error);
    const type = storage ? (error as AppError).code.replaceAll('-', '_') : 'internal_error';
    const message = storage
      ? `Drover could not save this turn, so it stopped. ${detail} Once there is room, send a message to carry on.`
      : `Drover hit an internal error and stopped this turn: ${detail}. Send a message to try again.`;
    this.live({ type: 'response_discarded', reason: message });
    try {
      this.emit({ type: 'session.error', payload: { error: { type, message: detail }, retry_status: { type: 'terminal' } } }, idle('error', message));
    } catch (secondary) {
      this.harness.log(`Session ${this.sessionId}: could not record the failure`, secondary);
      const unsaved = secondary instanceof Error ? secondary.message : String(secondary);
      this.harness.reportFault(this.sessionId, {
        reason: type,
        message:
          `This session’s turn stopped, and Drover could not record why in its log: ${storage ? detail : `${message} (${unsaved})`} ` +
          'Once the disk has room, send a message (or restart Drover) to carry on from where its log ends.',
      });
    }
  }

  // ------------------------------------------------------------------------------- model calls

  private async request(compact: boolean): Promise<void> {
    // Recorded with the first thing the turn writes (one commit, one fsync, fewer per turn).
    const starting: NewEvent[] = this.state.running ? [] : [{ type: 'session.status_running', payload: {} }];
    const signal = this.controller.signal;
    const settings = this.settings;
    const key = await this.options.keyProvider();
    if (this.stopping || signal.aborted) return;
    if (!key) {
      this.emit(
        ...starting,
        { type: 'session.error', payload: { error: { type: 'authentication_error', message: NO_KEY_MESSAGE }, retry_status: { type: 'terminal' } } },
        idle('authentication_failed', NO_KEY_MESSAGE),
      );
      return;
    }
    const client = this.harness.client(key);
    const tools = await this.loadTools(starting);
    if (this.stopping || signal.aborted) return;
    if (tools === null) return;

    const budget = contextBudget(settings);
    let view = buildContext({ events: this.events, settings, tools, budget });
    if (view.overBudget || compact) {
      const cut = compactionCut(this.events, budget);
      if (cut === null && compact) {
        this.emit(...starting.splice(0), idle('model_context_window_exceeded', this.finishMessage('model_context_window_exceeded')));
        return;
      }
      if (cut !== null) {
        const compacted = await this.compact(client, settings, tools, budget, cut, view, starting.splice(0));
        if (!compacted) return;
        view = buildContext({ events: this.events, settings, tools, budget });
      }
    }

    this.emit(...starting, { type: 'span.model_request_start', payload: { model: settings.model, purpose: 'turn' } });
    await this.stream(client, settings.model, view);
  }

  /**
   * Sends a request whose start span was committed together with the tool result it carries
   * (see `emitToolResult`): the view was built then, from exactly the events now in the log.
   */
  private async sendPrepared(prepared: PreparedRequest): Promise<void> {
    this.prepared = null;
    const key = await this.options.keyProvider();
    if (this.stopping) return;
    if (this.controller.signal.aborted) {
      this.closeOpenRequest();
      return;
    }
    if (!key) {
      this.emit(
        spanEnd(prepared.model, 'turn', zeroUsage(), null, true, 0),
        { type: 'session.error', payload: { error: { type: 'authentication_error', message: NO_KEY_MESSAGE }, retry_status: { type: 'terminal' } } },
        idle('authentication_failed', NO_KEY_MESSAGE),
      );
      return;
    }
    await this.stream(this.harness.client(key), prepared.model, prepared.view);
  }

  private async stream(client: Anthropic, model: string, view: ContextView): Promise<void> {
    const started = performance.now();
    try {
      const response = await streamMessage(client, view.params, { signal: this.controller.signal, onLive: (update) => this.live(update) });
      if (this.stopping) return;
      this.storeResponse(response, model, performance.now() - started, false);
      this.live({ type: 'response_end' });
    } catch (error) {
      if (this.stopping) return;
      await this.handleFailure(error, model, 'turn', started);
    }
  }

  /** Stores a response's blocks and its end span in one transaction; tool uses that cannot run get their error result with them. */
  private storeResponse(response: ModelResponse, model: string, durationMs: number, interrupted: boolean): void {
    const blocks: NewEvent[] = [];
    const results: NewEvent[] = [];
    const runnable: string[] = [];
    for (const block of response.blocks) {
      switch (block.type) {
        case 'text':
          blocks.push({ type: 'agent.message', payload: { content: [{ type: 'text', text: block.text }] } });
          break;
        case 'thinking':
          blocks.push({ type: 'agent.thinking', payload: { thinking: block.thinking, signature: block.signature } });
          break;
        case 'redacted_thinking':
          blocks.push({ type: 'agent.thinking', payload: { redacted: true, data: block.data } });
          break;
        case 'tool_use': {
          const hand = this.route.get(block.name);
          const mcp = hand?.kind === 'mcp';
          blocks.push(
            hand && mcp
              ? { type: 'agent.mcp_tool_use', payload: { tool_use_id: block.id, server_name: hand.id, name: block.name, input: block.input } }
              : { type: 'agent.tool_use', payload: { tool_use_id: block.id, name: block.name, input: block.input, ...(hand ? { hand_id: hand.id } : {}) } },
          );
          if (interrupted) results.push(toolResult(block.id, 'Not run: the user interrupted the response before this tool started.', true, 'interrupted', mcp));
          else if (block.inputError !== undefined) results.push(toolResult(block.id, `The tool was not run: ${block.inputError}. Send a JSON object that matches the tool's input schema.`, true, 'completed', mcp));
          else if (!hand) results.push(toolResult(block.id, `There is no tool named "${block.name}". Available tools: ${[...this.route.keys()].join(', ') || 'none'}.`, true));
          else runnable.push(block.id);
          break;
        }
      }
    }
    const end = spanEnd(model, 'turn', response.usage, interrupted ? null : response.stopReason, false, durationMs);
    this.emitEndingTurn(...blocks, end, ...results);
    for (const id of runnable) this.ownToolUses.add(id);
  }

  private async handleFailure(error: unknown, model: string, purpose: 'turn' | 'compaction', started: number): Promise<void> {
    if (!(error instanceof ModelCallError)) throw error;
    const duration = performance.now() - started;
    if (error.kind === 'aborted') {
      // The user interrupted: keep what they saw (finished blocks and the text so far).
      if (purpose === 'turn') this.storeResponse(error.partial, model, duration, true);
      else this.emit(spanEnd(model, purpose, error.partial.usage, null, false, duration));
      this.live({ type: 'response_end' });
      return;
    }
    this.live({ type: 'response_discarded', reason: error.message });
    const end = spanEnd(model, purpose, error.partial.usage, null, true, duration);
    const detail = { type: error.errorType, message: error.message, ...(error.status === undefined ? {} : { status: error.status }) };
    if (error.kind === 'retryable') {
      const attempt = this.state.retryAttempts + 1;
      if (attempt > this.retry.maxAttempts) {
        const message = `The model endpoint kept failing (${error.errorType}${error.status ? ` ${error.status}` : ''}: ${error.message}) after ${this.retry.maxAttempts} retries. Send a message to try again later.`;
        this.emit(end, { type: 'session.error', payload: { error: detail, retry_status: { type: 'exhausted' } } }, idle('retries_exhausted', message));
        return;
      }
      const delay = backoff(attempt, this.retry, error.retryAfterMs);
      this.emit(end, { type: 'session.error', payload: { error: detail, retry_status: { type: 'retrying', attempt, delay_ms: delay } } });
      await sleep(delay, this.controller.signal);
      return;
    }
    if (error.kind === 'authentication') {
      const message =
        `The Anthropic API refused the API key (${error.status ?? ''} ${error.errorType}: ${error.message}). ` +
        'Replace the key in Settings → Credentials (or fix ANTHROPIC_API_KEY), then send your message again.';
      this.emit(end, { type: 'session.error', payload: { error: detail, retry_status: { type: 'terminal' } } }, idle('authentication_failed', message));
      return;
    }
    const message = `The model request failed (${error.errorType}${error.status ? ` ${error.status}` : ''}: ${error.message}). Check the session settings, then send a message to try again.`;
    this.emit(end, { type: 'session.error', payload: { error: detail, retry_status: { type: 'terminal' } } }, idle('error', message));
  }

  /** Summarises events through `cut` and records it; false when the turn stopped instead. */
  private async compact(
    client: Anthropic,
    settings: SessionSettings,
    tools: readonly ToolSpec[],
    budget: number,
    cut: number,
    before: ContextView,
    starting: NewEvent[],
  ): Promise<boolean> {
    const params = compactionRequest({ events: this.events, settings, tools, budget }, cut);
    this.emit(...starting, { type: 'span.model_request_start', payload: { model: settings.model, purpose: 'compaction' } });
    const started = performance.now();
    let response: ModelResponse;
    try {
      response = await streamMessage(client, params, { signal: this.controller.signal });
    } catch (error) {
      if (this.stopping) return false;
      await this.handleFailure(error, settings.model, 'compaction', started);
      return false;
    }
    if (this.stopping) return false;
    const summary = response.blocks.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n').trim();
    const end = spanEnd(settings.model, 'compaction', response.usage, response.stopReason, false, performance.now() - started);
    if (summary === '') {
      this.emit(end, idle('error', 'Compacting the conversation failed: the model returned an empty summary. Send a message to try again.'));
      return false;
    }
    const last = this.events.at(-1) as StoredEvent;
    const probe = [...this.events, { seq: last.seq + 2, id: last.id, ts: last.ts, type: 'agent.thread_context_compacted', payload: { summary, through_seq: cut } } as StoredEvent];
    const after = buildContext({ events: probe, settings, tools, budget }).estimatedTokens;
    this.emit(end, { type: 'agent.thread_context_compacted', payload: { summary, through_seq: cut, tokens_before: before.estimatedTokens, tokens_after: after } });
    return true;
  }

  // ------------------------------------------------------------------------------- outcomes

  /**
   * Checks the agent's work against the session's outcome: runs the verification command (when
   * the outcome has one), then a grader request with its own context (grader.ts), and records the
   * evaluation; a `needs_revision` result is the agent's next turn (state.ts, context.ts).
   * `resume`: the evaluation's start is in the log already (a retry, or a crash cut it), so it runs
   * again under the same iteration — its verification command too (a check, not the agent's work).
   */
  private async grade(iteration: number, resume: boolean): Promise<void> {
    const outcome = this.state.outcome;
    if (!outcome) throw new Error('a grading step without an outcome in the log');
    const definition = outcome.definition;
    const signal = this.controller.signal;
    const settings = this.settings;
    const starting: NewEvent[] = resume ? [] : [{ type: 'span.outcome_evaluation_start', payload: { iteration } }];
    const key = await this.options.keyProvider();
    // Interrupted: the next step records the stop (and closes an evaluation already started).
    if (this.stopping || signal.aborted) return;
    if (!key) {
      this.emitEndingTurn(...starting, evaluationEnd(iteration, 'failed', `The work could not be checked. ${NO_KEY_MESSAGE}`));
      return;
    }
    let verification: VerificationRun | null = null;
    if (definition.verification) {
      // Recorded first, so the log shows the check under way while the command runs.
      if (starting.length > 0) this.emit(...starting.splice(0));
      verification = await this.verify(definition.verification, signal);
      if (this.stopping || signal.aborted) return;
    }
    const params = graderRequest({ events: this.events, outcome: definition, settings, verification });
    const model = graderModel(definition, settings);
    this.emit(...starting, { type: 'span.model_request_start', payload: { model, purpose: 'grading' } });
    const started = performance.now();
    let response: ModelResponse;
    try {
      // Not streamed to the UI: the grader's words are not the agent's; its verdict is stored whole.
      response = await streamMessage(this.harness.client(key), params, { signal });
    } catch (error) {
      if (this.stopping) return;
      await this.gradingFailure(error, model, iteration, started, verification);
      return;
    }
    if (this.stopping) return;
    const end = spanEnd(model, 'grading', response.usage, response.stopReason, false, performance.now() - started);
    const evidence = verification ? { verification } : {};
    const verdict = parseVerdict(response.blocks, response.stopReason);
    if (!verdict.ok) {
      this.emitEndingTurn(end, evaluationEnd(iteration, 'failed', verdict.explanation, evidence));
      return;
    }
    const result = resultOf(verdict.verdict, iteration, definition.max_iterations);
    this.emitEndingTurn(end, evaluationEnd(iteration, result, verdict.explanation, { criteria: verdict.criteria, ...evidence }));
  }

  /** Runs the outcome's verification command with the hand's bash tool; what went wrong is the output when it cannot run. */
  private async verify(check: { hand_id: string; command: string }, signal: AbortSignal): Promise<VerificationRun> {
    const run = (output: string, isError: boolean): VerificationRun => ({ hand_id: check.hand_id, command: check.command, output: capVerificationOutput(output), is_error: isError });
    const hands = (await this.options.handsFor?.(this.sessionId, signal)) ?? [];
    const hand = hands.find((candidate) => candidate.id === check.hand_id);
    if (!hand) {
      const attached = hands.map((candidate) => candidate.id).join(', ') || 'none';
      return run(`The verification command was not run: this session has no hand named "${check.hand_id}" (attached: ${attached}).`, true);
    }
    const tool = qualifiedToolName(check.hand_id, 'bash');
    if (!hand.tools().some((spec) => spec.name === tool)) {
      return run(`The verification command was not run: the hand "${check.hand_id}" has no bash tool (${tool}).`, true);
    }
    try {
      const outcome = await untilAborted(hand.execute(tool, { command: check.command }, { signal }), signal);
      const output = outcome.content.map((block) => (block.type === 'text' ? block.text : '[image]')).join('\n');
      return run(output, outcome.isError);
    } catch (error) {
      return run(`The verification command could not run: ${error instanceof Error ? error.message : String(error)}`, true);
    }
  }

  /** A failed grader request: interrupted, retried like a turn's (bounded), or recorded as a failed evaluation. */
  private async gradingFailure(error: unknown, model: string, iteration: number, started: number, verification: VerificationRun | null): Promise<void> {
    if (!(error instanceof ModelCallError)) throw error;
    const duration = performance.now() - started;
    const evidence = verification ? { verification } : {};
    if (error.kind === 'aborted') {
      this.emitEndingTurn(
        spanEnd(model, 'grading', error.partial.usage, null, false, duration),
        evaluationEnd(iteration, 'interrupted', 'Stopped by the user before the check finished.', evidence),
      );
      return;
    }
    const end = spanEnd(model, 'grading', error.partial.usage, null, true, duration);
    const detail = { type: error.errorType, message: error.message, ...(error.status === undefined ? {} : { status: error.status }) };
    const what = `${error.errorType}${error.status ? ` ${error.status}` : ''}: ${error.message}`;
    const open = 'The outcome stays open: it is checked again when Claude next ends a turn.';
    if (error.kind === 'retryable') {
      const attempt = this.state.retryAttempts + 1;
      if (attempt <= this.retry.maxAttempts) {
        const delay = backoff(attempt, this.retry, error.retryAfterMs);
        this.emit(end, { type: 'session.error', payload: { error: detail, retry_status: { type: 'retrying', attempt, delay_ms: delay } } });
        await sleep(delay, this.controller.signal);
        return;
      }
      this.emitEndingTurn(
        end,
        { type: 'session.error', payload: { error: detail, retry_status: { type: 'exhausted' } } },
        evaluationEnd(iteration, 'failed', `The grader’s model endpoint kept failing (${what}) after ${this.retry.maxAttempts} retries. ${open}`, evidence),
      );
      return;
    }
    const message =
      error.kind === 'authentication'
        ? `The Anthropic API refused the API key (${what}), so the work could not be checked. Replace the key in Settings → Credentials (or fix ANTHROPIC_API_KEY). ${open}`
        : `The grader request failed (${what}). ${open}`;
    this.emitEndingTurn(end, { type: 'session.error', payload: { error: detail, retry_status: { type: 'terminal' } } }, evaluationEnd(iteration, 'failed', message, evidence));
  }

  // ------------------------------------------------------------------------------- tools

  /** The session's tools, and which hand runs each; null (turn ended) when two hands clash. */
  private async loadTools(starting: NewEvent[]): Promise<ToolSpec[] | null> {
    const hands = (await this.options.handsFor?.(this.sessionId, this.controller.signal)) ?? [];
    const route: ToolRoute = new Map();
    const tools: ToolSpec[] = [];
    for (const hand of hands) {
      for (const tool of hand.tools()) {
        const other = route.get(tool.name);
        if (other) {
          const message = `Two hands offer a tool named "${tool.name}" (${other.id} and ${hand.id}). Detach one of them, then send a message again.`;
          this.emit(...starting, { type: 'session.error', payload: { error: { type: 'tool_conflict', message }, retry_status: { type: 'terminal' } } }, idle('error', message));
          return null;
        }
        route.set(tool.name, hand);
        tools.push(tool);
      }
    }
    this.route = route;
    this.tools = tools;
    this.hands = hands;
    return tools;
  }

  /** Whether the hands still offer exactly the tools the last request offered. */
  private toolsUnchanged(): boolean {
    const now = this.hands.flatMap((hand) => hand.tools().map((tool) => tool.name));
    return now.length === this.tools.length && now.every((name, index) => name === this.tools[index]?.name);
  }

  /** Runs tool uses: concurrently across hands and within a hand that allows it; each result is stored when it finishes. */
  private async runTools(uses: ToolUseEvent[]): Promise<void> {
    const signal = this.controller.signal;
    const byHand = new Map<Hand, ToolUseEvent[]>();
    for (const use of uses) {
      const hand = this.route.get(use.payload.name) as Hand;
      byHand.set(hand, [...(byHand.get(hand) ?? []), use]);
    }
    await Promise.all(
      [...byHand].map(async ([hand, group]) => {
        if (hand.concurrent) await Promise.all(group.map((use) => this.runTool(hand, use, signal)));
        else for (const use of group) await this.runTool(hand, use, signal);
      }),
    );
  }

  private async runTool(hand: Hand, use: ToolUseEvent, signal: AbortSignal): Promise<void> {
    const id = use.payload.tool_use_id;
    const mcp = use.type === 'agent.mcp_tool_use';
    if (this.stopping) return;
    if (signal.aborted) {
      this.emit(toolResult(id, 'Not run: the user interrupted before this tool started.', true, 'interrupted', mcp));
      return;
    }
    const started = performance.now();
    let outcome: ToolOutcome;
    let status: 'completed' | 'interrupted' | 'timed_out' = 'completed';
    try {
      outcome = await untilAborted(
        hand.execute(use.payload.name, use.payload.input, { signal, onProgress: (text) => this.live({ type: 'tool_progress', tool_use_id: id, text }) }),
        signal,
      );
    } catch (error) {
      if (this.stopping) return;
      if (signal.aborted) {
        status = 'interrupted';
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        outcome = { isError: true, content: [{ type: 'text', text: `Interrupted by the user after ${seconds} s; the tool was told to stop. Whatever it did before that stays done.` }] };
      } else {
        outcome = { isError: true, content: [{ type: 'text', text: `The tool failed: ${error instanceof Error ? error.message : String(error)}` }] };
      }
    }
    if (this.stopping) return;
    const payload = { tool_use_id: id, content: capContent(outcome.content), is_error: outcome.isError, status: outcome.status ?? status, duration_ms: performance.now() - started };
    this.emitToolResult(
      mcp
        ? { type: 'agent.mcp_tool_result', payload: { ...payload, ...(outcome.structuredContent === undefined ? {} : { structured_content: capStructured(outcome.structuredContent) }) } }
        : { type: 'agent.tool_result', payload },
    );
  }

  /**
   * Stores a tool result. The last result of a step is committed together with the start of the
   * request that will carry it to the model, when that request is certain (no interrupt, no
   * compaction needed): one fsync instead of two per tool round. Its view is built now, from the
   * log as it will be after this commit.
   */
  private emitToolResult(raw: NewEvent): void {
    // The view below is built before the result is stored: build it from what will be stored
    // (secrets in the output already replaced), never from the raw output.
    const result = { ...raw, payload: this.store.redacted(raw.payload) } as NewEvent;
    const last = this.events.at(-1)?.seq ?? 0;
    const probeEvent = { ...result, seq: last + 1, id: '', ts: '' } as StoredEvent;
    const probe = structuredClone(this.state);
    applyEvent(probe, probeEvent);
    const next = nextStep(probe);
    if (next.kind !== 'request' || next.compact || !probe.running || this.controller.signal.aborted || !this.toolsUnchanged()) {
      this.emit(result);
      return;
    }
    const settings = this.settings;
    const view = buildContext({ events: [...this.events, probeEvent], settings, tools: this.tools, budget: contextBudget(settings) });
    if (view.overBudget) {
      this.emit(result);
      return;
    }
    this.emit(result, { type: 'span.model_request_start', payload: { model: settings.model, purpose: 'turn' } });
    this.prepared = { seq: last + 2, model: settings.model, view };
  }

  private finishMessage(reason: IdleReason): string | undefined {
    switch (reason) {
      case 'interrupted':
        return 'Stopped by the user.';
      case 'max_tokens':
        return `Claude hit the output limit (${this.settings.max_tokens} tokens) ${MAX_CONTINUATIONS} times in a row. Raise max tokens in the session settings, or ask for a shorter answer.`;
      case 'pause_turn':
        return `Claude paused its turn ${MAX_CONTINUATIONS} times in a row. Send a message to let it continue.`;
      case 'refusal':
        return 'Claude declined to continue with this request.';
      case 'model_context_window_exceeded':
        return 'The conversation no longer fits the model’s context window, even after compaction. Fork from an earlier event, or start a new session with a summary.';
      default:
        return undefined;
    }
  }
}

// ------------------------------------------------------------------------------------ helpers

function idle(reason: IdleReason, message?: string): NewEvent {
  return { type: 'session.status_idle', payload: { stop_reason: message === undefined ? { type: reason } : { type: reason, message } } };
}

function spanEnd(model: string, purpose: 'turn' | 'compaction' | 'grading', usage: Usage, stopReason: string | null, isError: boolean, durationMs: number): NewEvent {
  return {
    type: 'span.model_request_end',
    payload: { model, purpose, usage, stop_reason: stopReason, is_error: isError, duration_ms: Math.max(0, durationMs) },
  };
}

function toolResult(toolUseId: string, text: string, isError: boolean, status: 'completed' | 'interrupted' = 'completed', mcp = false): NewEvent {
  const payload = { tool_use_id: toolUseId, content: [{ type: 'text' as const, text }], is_error: isError, status };
  return mcp ? { type: 'agent.mcp_tool_result', payload } : { type: 'agent.tool_result', payload };
}

/** Structured content too large to keep whole is replaced by a note (its text content still carries the result). */
function capStructured(value: Record<string, unknown>): Record<string, unknown> {
  const size = JSON.stringify(value).length;
  if (size <= MAX_TOOL_RESULT_CHARS) return value;
  return { drover_note: `The structured result (${size} characters) was too large to keep; its text content was kept.` };
}

function evaluationEnd(
  iteration: number,
  result: OutcomeResult,
  explanation: string,
  extra: { criteria?: Criterion[]; verification?: VerificationRun } = {},
): NewEvent {
  return { type: 'span.outcome_evaluation_end', payload: { iteration, result, explanation, ...extra } };
}

function zeroUsage(): Usage {
  return { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
}

/** Exponential backoff with ±20 % jitter; a server's retry-after wins when it asks for longer. */
export function backoff(attempt: number, policy: RetryPolicy, retryAfterMs?: number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.round(exponential * (0.8 + Math.random() * 0.4));
  return Math.min(Math.max(jittered, retryAfterMs ?? 0), Math.max(policy.maxDelayMs, 5 * 60_000));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Settles with the work, or rejects as soon as `signal` aborts (a hand that ignores the signal cannot hold the turn). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function capContent(content: ContentBlock[]): ContentBlock[] {
  let budget = MAX_TOOL_RESULT_CHARS;
  return content.map((block) => {
    if (block.type !== 'text') return block;
    if (block.text.length <= budget) {
      budget -= block.text.length;
      return block;
    }
    const kept = block.text.slice(0, Math.max(0, budget));
    const cut = block.text.length - kept.length;
    budget = 0;
    return { type: 'text', text: `${kept}\n[… ${cut} more characters not kept: the output was too long …]` };
  });
}

