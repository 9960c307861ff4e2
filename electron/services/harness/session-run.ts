/**
 * One wake of one session: folds its log, asks `nextStep` what to do, and does it — a model
 * request (streamed live, stored whole), compaction, closing what a crash left open, tools
 * (tool-run.ts) or grading (outcome-run.ts) — until the session has nothing left to do.
 *
 * Every step records something, and the fold moves on from what was recorded:
 * - a response is stored in one transaction when it completes (with its request's end span), so
 *   a response cut by a crash leaves only an open request span, which the next wake closes and
 *   sends again (recorded as a retry);
 * - a failure the log cannot take (a full disk) is reported to the harness, never swallowed.
 *
 * A run lives only while its session has work. It must never outlive its wake with state in
 * memory, never store a live delta, and never put a key in an event.
 */
import { performance } from 'node:perf_hooks';
import type Anthropic from '@anthropic-ai/sdk';
import { AppError } from '#shared/errors';
import type { NewEvent, SessionSettings, StoredEvent } from '#shared/events';
import type { LiveUpdate } from '#shared/harness';
import type { ToolSpec } from '#services/hands/hand';
import type { SessionStore } from '#services/session/store';
import { buildContext, compactionCut, compactionRequest, type ContextView } from './context.ts';
import { foldLog, guardrailsOfSession, readAll } from './fold-log.ts';
import { cancelledCustomResult } from './custom-tools.ts';
import { GuardrailsRun, supersededResult } from './guardrails-run.ts';
import type { Harness, HarnessOptions } from './harness.ts';
import { ModelCallError, streamMessage, type ModelResponse } from './model-client.ts';
import { contextBudget, DEFAULT_SETTINGS } from './models.ts';
import { OutcomeRun } from './outcome-run.ts';
import { errorDetail, retryLater, type RetryPolicy } from './retry.ts';
import {
  evaluationEnd,
  finishMessage,
  idle,
  NO_KEY_MESSAGE,
  spanEnd,
  zeroUsage,
  type PreparedRequest,
  type RunContext,
} from './run-context.ts';
import { applyEvent, emptyState, nextStep, stateOf, type IdleReason, type NextStep, type SessionState } from './state.ts';
import type { ThreadScope } from './threads-run.ts';
import { ToolRun } from './tool-run.ts';
import { responseEvents, type UnanswerableCall } from './response-events.ts';

/** One wake of one session. Lives only while the session has work; holds nothing afterwards. */
export class SessionRun implements RunContext {
  done: Promise<void> = Promise.resolve();
  events: StoredEvent[] = [];
  state: SessionState = emptyState();
  /** Set by `shutdown` only. */
  stopping = false;
  /** The request to send with the step's last tool result, which is committed once it is sent (see `sendPrepared`). */
  prepared: PreparedRequest | null = null;
  private controller = new AbortController();
  private unsubscribe: () => void = () => undefined;
  /** Tool uses this run stored (so it knows they have not started); others found open may have run. */
  private readonly ownToolUses = new Set<string>();
  /** The run ended with nothing left to do and its fold follows the log: the next wake may start from it. */
  private foldReusable = false;
  /** A compaction was recorded: the next wake folds afresh (its view starts at the compaction). */
  private compacted = false;
  readonly guard = new GuardrailsRun();
  private readonly tools = new ToolRun(this);
  private readonly outcome = new OutcomeRun(this);

  constructor(
    private readonly harness: Harness,
    readonly store: SessionStore,
    readonly sessionId: string,
    readonly options: HarnessOptions,
    readonly retry: RetryPolicy,
    private readonly release: () => void,
    /** One thread of a threaded session (threads-run.ts): its view, what it records, its settings. */
    private readonly scope?: ThreadScope,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get settings(): SessionSettings {
    const settings = this.state.settings ?? DEFAULT_SETTINGS;
    return this.scope ? this.scope.settings(settings) : settings;
  }

  client(key: string): Anthropic {
    return this.harness.client(key);
  }

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
        // A threaded session's primary ends its turn only once every other thread is idle (the run wakes it then).
        if (step.kind === 'none' || (step.kind === 'finish' && this.scope?.holdsFinish())) {
          this.foldReusable = !this.compacted && !this.scope;
          return;
        }
        this.controller = new AbortController();
        // Tool uses an interrupt came before (between the response that asked for them and their run) are not run.
        if (step.kind === 'tools' && this.state.interruptRequested) this.controller.abort();
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
      if (this.foldReusable && !this.stopping)
        this.harness.keepFold(this.sessionId, { events: this.events, state: this.state, guardrails: this.guard.state });
      this.release();
    }
  }

  /**
   * Loads the view (from the latest compaction on) and follows new events — in one synchronous
   * step, so none is missed. The fold the session's last wake ended with, when the harness kept
   * it, is carried on with the events appended since (the same fold, without reading the whole log
   * again); otherwise the log is folded afresh.
   */
  private load(): void {
    const kept = this.scope ? undefined : this.harness.takeFold(this.sessionId);
    if (this.scope) {
      const scope = this.scope;
      const all = readAll(this.store, this.sessionId);
      this.events = all.flatMap((event) => scope.project(event) ?? []);
      this.state = stateOf(this.events);
      this.guard.state = guardrailsOfSession(this.store, this.sessionId, all);
      scope.adjustGuardrails(this.guard.state);
    } else if (kept) {
      ({ events: this.events, state: this.state } = kept);
      this.guard.state = kept.guardrails;
      for (const event of readAll(this.store, this.sessionId, undefined, this.events.at(-1)?.seq ?? 0)) this.follow(event);
    } else {
      const folded = foldLog(this.store, this.sessionId, { guardrails: true });
      ({ events: this.events, state: this.state } = folded);
      if (folded.guardrails) this.guard.state = folded.guardrails;
    }
    this.unsubscribe = this.store.subscribe(this.sessionId, (event) => {
      const own = this.follow(event);
      if (own?.type === 'user.interrupt') this.controller.abort();
    });
  }

  /** Follows one event of the log; returns it as this run's view holds it (null: not part of the view). */
  private follow(event: StoredEvent): StoredEvent | null {
    this.guard.apply(event);
    const own = this.scope ? this.scope.project(event) : event;
    if (own === null) return null;
    this.events.push(own);
    applyEvent(this.state, own);
    if (own.type === 'agent.thread_context_compacted') this.compacted = true;
    return own;
  }

  /** Appends events as the log takes them (a thread's scoped: threads-run.ts). */
  private write(events: NewEvent[]): StoredEvent[] {
    const scoped = this.scope ? this.scope.scope(events, this.events) : events;
    if (scoped.length === 1) return [this.store.emitEvent(this.sessionId, scoped[0] as NewEvent)];
    return this.store.emitEvents(this.sessionId, scoped);
  }

  emit(...given: NewEvent[]): void {
    // Every model request's end is followed, in the same commit, by the session's usage after it.
    this.write(this.guard.withUsage(given));
  }

  /**
   * Emits a step's events, and in the same commit the idle that would be the next step anyway
   * (decided by folding the events into a copy of the state): a turn's last response and its end
   * cost one fsync, not two.
   */
  emitEndingTurn(...events: NewEvent[]): void {
    const probe = structuredClone(this.state);
    let seq = this.events.at(-1)?.seq ?? 0;
    for (const event of events) applyEvent(probe, { ...event, seq: ++seq, id: '', ts: '' } as StoredEvent);
    const next = nextStep(probe);
    if (next.kind === 'finish' && !this.scope?.holdsFinish()) events.push(idle(next.reason, this.finishMessage(next.reason)));
    this.emit(...events);
  }

  live(update: LiveUpdate): void {
    this.options.onLive?.(this.sessionId, update);
  }

  private async perform(step: Exclude<NextStep, { kind: 'none' }>): Promise<void> {
    switch (step.kind) {
      case 'close-request':
        // A request a crash cut off (our own are committed only once sent, with their tool result).
        this.closeOpenRequest();
        return;
      case 'tools': {
        this.prepared = null;
        await this.tools.handle(step.toolUses, this.ownToolUses);
        const prepared = this.prepared as PreparedRequest | null;
        this.prepared = null;
        if (prepared !== null) await this.sendPrepared(prepared);
        return;
      }
      case 'await-approval':
        this.emit(this.guard.requiresAction([...this.state.customWaiting.values()]));
        return;
      case 'supersede-approvals':
        this.emit(...step.toolUses.map(supersededResult), ...step.customUses.map((use) => cancelledCustomResult(use.id, 'superseded')));
        return;
      case 'cancel-custom':
        this.emit(
          ...step.customUses.map((use) => cancelledCustomResult(use.id, 'interrupted')),
          idle('interrupted', 'Stopped by the user; the custom tool calls that waited for results were cancelled.'),
        );
        return;
      case 'finish':
        if (step.closeEvaluation === undefined) this.emit(idle(step.reason, this.finishMessage(step.reason)));
        else
          this.emit(
            evaluationEnd(step.closeEvaluation, 'interrupted', 'Stopped by the user before the check finished.'),
            idle(step.reason, this.finishMessage(step.reason)),
          );
        return;
      case 'grade': {
        const stop = this.guard.budgetStop(this.settings.model);
        if (stop) {
          this.emit(...stop);
          return;
        }
        // Resumed by a budget change after its stop: the session runs again.
        if (!this.state.running) this.emit({ type: 'session.status_running', payload: {} });
        await this.outcome.grade(step.iteration, step.resume);
        return;
      }
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
      this.emit(
        { type: 'session.error', payload: { error: { type, message: detail }, retry_status: { type: 'terminal' } } },
        idle('error', message),
      );
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
    const settings = this.settings;
    // No request starts past the budget (the one that crossed it has finished and counted).
    const stop = this.guard.budgetStop(settings.model);
    if (stop) {
      this.emit(...stop);
      return;
    }
    const starting: NewEvent[] = this.state.running ? [] : [{ type: 'session.status_running', payload: {} }];
    const signal = this.controller.signal;
    const key = await this.options.keyProvider();
    if (this.stopping || signal.aborted) return;
    if (!key) {
      this.emit(
        ...starting,
        {
          type: 'session.error',
          payload: { error: { type: 'authentication_error', message: NO_KEY_MESSAGE }, retry_status: { type: 'terminal' } },
        },
        idle('authentication_failed', NO_KEY_MESSAGE),
      );
      return;
    }
    const client = this.client(key);
    const tools = await this.tools.load(starting);
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
   * Sends the request that carries a step's last tool result, then commits the result with the
   * request's start span while the request is on its way: the commit's fsync hides behind the
   * model's time instead of adding to every tool turn. The result is still durable before anyone
   * outside sees it; a crash between the send and the commit leaves a tool use without a result,
   * which the next wake records as interrupted (as a crash during the tool would), and a request
   * whose answer nobody reads. Anything else — stopping, an interrupt, no key, or an event of this
   * run's view appended since the view was built — commits first and goes the usual way.
   */
  private async sendPrepared(prepared: PreparedRequest): Promise<void> {
    const key = await this.options.keyProvider();
    const stale = (this.events.at(-1)?.seq ?? 0) !== prepared.builtAfter;
    if (this.stopping || this.controller.signal.aborted || !key || stale) {
      if (stale && !this.stopping) {
        // The view misses what came since: the result alone, and the next step builds the request afresh.
        this.emit(prepared.commit[0]);
        return;
      }
      this.emit(...prepared.commit);
      if (this.stopping) return;
      if (this.controller.signal.aborted) return this.closeOpenRequest();
      this.emit(
        spanEnd(prepared.model, 'turn', zeroUsage(), null, true, 0),
        {
          type: 'session.error',
          payload: { error: { type: 'authentication_error', message: NO_KEY_MESSAGE }, retry_status: { type: 'terminal' } },
        },
        idle('authentication_failed', NO_KEY_MESSAGE),
      );
      return;
    }
    // The request's own signal: the run's (an interrupt, shutdown), or this commit failing.
    const request = new AbortController();
    const relay = () => request.abort();
    this.controller.signal.addEventListener('abort', relay, { once: true });
    const started = performance.now();
    const response = streamMessage(this.client(key), prepared.view.params, {
      signal: request.signal,
      onLive: (update) => this.live(update),
    });
    // Settled below; until then a rejection (an interrupt while committing) must not count as unhandled.
    response.catch(() => undefined);
    try {
      // One turn of the loop: the SDK writes the request, then the commit blocks the loop for its fsync.
      await new Promise((resolve) => setImmediate(resolve));
      try {
        this.emit(...prepared.commit);
      } catch (error) {
        request.abort();
        throw error;
      }
      await this.settleResponse(response, prepared.model, started);
    } finally {
      this.controller.signal.removeEventListener('abort', relay);
    }
  }

  private async stream(client: Anthropic, model: string, view: ContextView): Promise<void> {
    const started = performance.now();
    const response = streamMessage(client, view.params, { signal: this.controller.signal, onLive: (update) => this.live(update) });
    await this.settleResponse(response, model, started);
  }

  /** Stores a streamed response once complete, or what its failure calls for. */
  private async settleResponse(response: Promise<ModelResponse>, model: string, started: number): Promise<void> {
    try {
      const complete = await response;
      if (this.stopping) return;
      this.storeResponse(complete, model, performance.now() - started, false);
      this.live({ type: 'response_end' });
    } catch (error) {
      if (this.stopping) return;
      await this.handleFailure(error, model, 'turn', started);
    }
  }

  /** Stores a response's blocks and its end span in one transaction; tool uses that cannot run get their error result with them. */
  private storeResponse(response: ModelResponse, model: string, durationMs: number, interrupted: boolean): void {
    const { blocks, results, runnable, unanswerable } = responseEvents(response, interrupted, this.tools, this.guard);
    const end = spanEnd(model, 'turn', response.usage, interrupted ? null : response.stopReason, false, durationMs);
    if (unanswerable.length === 0) this.emitEndingTurn(...blocks, end, ...results);
    else this.storeWithCancelledCalls([...blocks, end], results, unanswerable);
    for (const id of runnable) this.ownToolUses.add(id);
  }

  /**
   * Stores a response with custom tool calls the program will never get (an interrupted response,
   * bad input): Drover's error answer names the call's event id, so the response is stored first
   * and those answers (with the other results) right after.
   */
  private storeWithCancelledCalls(response: NewEvent[], results: NewEvent[], calls: UnanswerableCall[]): void {
    const stored = this.write(this.guard.withUsage(response));
    const idOf = (toolUseId: string): string =>
      stored.find((event) => event.type === 'agent.custom_tool_use' && event.payload.tool_use_id === toolUseId)?.id ?? '';
    this.emitEndingTurn(...results, ...calls.map((call) => cancelledCustomResult(idOf(call.toolUseId), call.why, call.detail)));
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
    const detail = errorDetail(error);
    if (error.kind === 'retryable') {
      if (await retryLater(this, end, error)) return;
      const message = `The model endpoint kept failing (${error.errorType}${error.status ? ` ${error.status}` : ''}: ${error.message}) after ${this.retry.maxAttempts} retries. Send a message to try again later.`;
      this.emit(
        end,
        { type: 'session.error', payload: { error: detail, retry_status: { type: 'exhausted' } } },
        idle('retries_exhausted', message),
      );
      return;
    }
    if (error.kind === 'authentication') {
      const message =
        `The Anthropic API refused the API key (${error.status ?? ''} ${error.errorType}: ${error.message}). ` +
        'Replace the key in Settings → Credentials (or fix ANTHROPIC_API_KEY), then send your message again.';
      this.emit(
        end,
        { type: 'session.error', payload: { error: detail, retry_status: { type: 'terminal' } } },
        idle('authentication_failed', message),
      );
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
    const summary = response.blocks
      .flatMap((block) => (block.type === 'text' ? [block.text] : []))
      .join('\n')
      .trim();
    const end = spanEnd(settings.model, 'compaction', response.usage, response.stopReason, false, performance.now() - started);
    if (summary === '') {
      this.emit(
        end,
        idle('error', 'Compacting the conversation failed: the model returned an empty summary. Send a message to try again.'),
      );
      return false;
    }
    const last = this.events.at(-1) as StoredEvent;
    const probe = [
      ...this.events,
      {
        seq: last.seq + 2,
        id: last.id,
        ts: last.ts,
        type: 'agent.thread_context_compacted',
        payload: { summary, through_seq: cut },
      } as StoredEvent,
    ];
    const after = buildContext({ events: probe, settings, tools, budget }).estimatedTokens;
    this.emit(end, {
      type: 'agent.thread_context_compacted',
      payload: { summary, through_seq: cut, tokens_before: before.estimatedTokens, tokens_after: after },
    });
    return true;
  }

  private finishMessage(reason: IdleReason): string | undefined {
    return finishMessage(reason, this.settings);
  }
}
