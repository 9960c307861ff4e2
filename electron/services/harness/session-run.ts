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
  toolResult,
  zeroUsage,
  type PreparedRequest,
  type RunContext,
} from './run-context.ts';
import { applyEvent, emptyState, nextStep, stateOf, type IdleReason, type NextStep, type SessionState } from './state.ts';
import type { ThreadScope } from './threads-run.ts';
import { ToolRun } from './tool-run.ts';

/** A custom tool call in a response being stored that Drover answers itself (it never reaches the program), and why. */
interface UnanswerableCall {
  toolUseId: string;
  why: 'response-interrupted' | 'bad-input';
  detail?: string;
}

/** One wake of one session. Lives only while the session has work; holds nothing afterwards. */
export class SessionRun implements RunContext {
  done: Promise<void> = Promise.resolve();
  events: StoredEvent[] = [];
  state: SessionState = emptyState();
  /** Set by `shutdown` only. */
  stopping = false;
  /** A request started in the same commit as the last tool result (see `ToolRun`). */
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
      case 'close-request': {
        // Our own request, started in the commit of the tool result it answers — unless the user
        // interrupted in between; anything else is a request a crash cut off.
        const prepared = this.prepared;
        if (prepared && this.state.openRequest?.seq === prepared.seq && !this.state.interruptRequested) await this.sendPrepared(prepared);
        else this.closeOpenRequest();
        this.prepared = null;
        return;
      }
      case 'tools':
        await this.tools.handle(step.toolUses, this.ownToolUses);
        return;
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
        {
          type: 'session.error',
          payload: { error: { type: 'authentication_error', message: NO_KEY_MESSAGE }, retry_status: { type: 'terminal' } },
        },
        idle('authentication_failed', NO_KEY_MESSAGE),
      );
      return;
    }
    await this.stream(this.client(key), prepared.model, prepared.view);
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
    const unanswerable: UnanswerableCall[] = [];
    for (const [index, block] of response.blocks.entries()) {
      // The id the live preview of this block promised (API clients join the two by it).
      const promised = response.eventIds?.[index];
      const id = promised === undefined ? {} : { id: promised };
      switch (block.type) {
        case 'text':
          blocks.push({ type: 'agent.message', payload: { content: [{ type: 'text', text: block.text }] }, ...id });
          break;
        case 'thinking':
          blocks.push({ type: 'agent.thinking', payload: { thinking: block.thinking, signature: block.signature }, ...id });
          break;
        case 'redacted_thinking':
          blocks.push({ type: 'agent.thinking', payload: { redacted: true, data: block.data }, ...id });
          break;
        case 'tool_use': {
          if (this.tools.isCustom(block.name)) {
            // Nothing runs here: the program answers it (custom-tools.ts). Drover answers it only if it never reaches the program.
            blocks.push({ type: 'agent.custom_tool_use', payload: { tool_use_id: block.id, name: block.name, input: block.input } });
            if (interrupted) unanswerable.push({ toolUseId: block.id, why: 'response-interrupted' });
            else if (block.inputError !== undefined) unanswerable.push({ toolUseId: block.id, why: 'bad-input', detail: block.inputError });
            break;
          }
          const hand = this.tools.handFor(block.name);
          const mcp = hand?.kind === 'mcp';
          // What the session's policies say of it, recorded on it: allow runs now, ask waits for the user, deny is answered.
          const permission =
            hand && !interrupted && block.inputError === undefined ? this.guard.evaluate(hand, block.name, block.input) : undefined;
          const evaluated = permission === undefined ? {} : { evaluated_permission: permission };
          blocks.push(
            hand && mcp
              ? {
                  type: 'agent.mcp_tool_use',
                  payload: { tool_use_id: block.id, server_name: hand.id, name: block.name, input: block.input, ...evaluated },
                }
              : {
                  type: 'agent.tool_use',
                  payload: {
                    tool_use_id: block.id,
                    name: block.name,
                    input: block.input,
                    ...(hand ? { hand_id: hand.id } : {}),
                    ...evaluated,
                  },
                },
          );
          if (interrupted)
            results.push(
              toolResult(block.id, 'Not run: the user interrupted the response before this tool started.', true, 'interrupted', mcp),
            );
          else if (block.inputError !== undefined)
            results.push(
              toolResult(
                block.id,
                `The tool was not run: ${block.inputError}. Send a JSON object that matches the tool's input schema.`,
                true,
                'completed',
                mcp,
              ),
            );
          else if (!hand)
            results.push(
              toolResult(
                block.id,
                `There is no tool named "${block.name}". Available tools: ${this.tools.names().join(', ') || 'none'}.`,
                true,
              ),
            );
          else if (permission === 'allow') runnable.push(block.id);
          break;
        }
      }
    }
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
