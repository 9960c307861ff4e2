/**
 * One wake of a threaded session (issue 21): every thread that has work runs at once, each as a
 * `SessionRun` over its own view of the log (thread-view.ts) — one model request in flight per
 * thread, its own agent's model, system prompt and tools from the roster, the session's approvals
 * and budget. Calls on a hand that is not concurrent are serialised across threads by a per-hand
 * lock. The primary ends its turn (the session's idle) only when every other thread is idle or
 * ended; a thread's end of turn sends its final text to its parent, which wakes the parent.
 *
 * Stateless like a single-thread wake: which thread has work is folded from the log, so a process
 * killed anywhere is continued thread by thread by the next wake. Nothing is kept between wakes.
 */
import type { NewEvent, SessionSettings, StoredEvent } from '#shared/events';
import type { Hand } from '#services/hands/hand';
import { unqualifiedToolName } from '#services/guardrails/policy';
import type { SessionStore } from '#services/session/store';
import { applyGuardrailEvent, type GuardrailsState } from './approvals.ts';
import { coordinatorHand } from './coordinator-tools.ts';
import { readAll } from './fold-log.ts';
import type { Harness, HarnessOptions } from './harness.ts';
import type { RetryPolicy } from './retry.ts';
import { SessionRun } from './session-run.ts';
import { needsResume, nextStep } from './state.ts';
import { resolveThreadHand } from './thread-hands.ts';
import { PRIMARY, projectEvent, scopeEvents, ThreadsFold, type ThreadKey } from './thread-view.ts';

/** What a thread's `SessionRun` asks of its threaded wake. */
export interface ThreadScope {
  readonly thread: ThreadKey;
  /** The event as this thread sees it; null: not part of its view. */
  project(event: StoredEvent): StoredEvent | null;
  /** What the thread records, as the log takes it (`view`: its view so far). */
  scope(events: NewEvent[], view: readonly StoredEvent[]): NewEvent[];
  /** The thread's settings: the session's, with its roster agent's model and system prompt. */
  settings(base: SessionSettings): SessionSettings;
  /** The primary's turn end waits: another thread is still running or has work. */
  holdsFinish(): boolean;
  /** Lays the thread's roster agent's policies over the session's (later `policy.set` events still win). */
  adjustGuardrails(state: GuardrailsState): void;
}

/** Whether the session's log has threads or a roster (its wakes are threaded). */
export function isThreaded(store: SessionStore, sessionId: string): boolean {
  return store.getEvents(sessionId, { types: ['session.roster_set', 'session.thread_created'], limit: 1 }).length > 0;
}

/**
 * Whether Drover, starting, must wake a threaded session: its log folded thread by thread (each
 * thread as its own session, as a wake sees it), and any thread — the primary or another — has a
 * turn cut by the last stop or input it was never sent. The session's own status is only the
 * primary's: a thread goes on after the session's idle (an approval answered for a thread's call),
 * so the whole log folded as one thread can miss a thread cut mid-turn.
 */
export function threadsNeedResume(store: SessionStore, sessionId: string): boolean {
  const fold = new ThreadsFold();
  for (const event of readAll(store, sessionId)) fold.apply(event);
  if (needsResume(fold.primary)) return true;
  return fold.alive().some((info) => needsResume(info.state));
}

/** A promise-chain lock: one holder at a time, in order. */
class Lock {
  private tail: Promise<void> = Promise.resolve();
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

export class ThreadsRun {
  done: Promise<void> = Promise.resolve();
  private readonly fold = new ThreadsFold();
  private readonly runs = new Map<ThreadKey, SessionRun>();
  private readonly locks = new Map<string, Lock>();
  private unsubscribe: () => void = () => undefined;
  private stopping = false;
  private resolve: () => void = () => undefined;
  private reject: (error: unknown) => void = () => undefined;
  private failure: unknown = null;

  constructor(
    private readonly harness: Harness,
    private readonly store: SessionStore,
    private readonly sessionId: string,
    private readonly options: HarnessOptions,
    private readonly retry: RetryPolicy,
    private readonly release: () => void,
  ) {}

  execute(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      for (const event of readAll(this.store, this.sessionId)) this.fold.apply(event);
      this.unsubscribe = this.store.subscribe(this.sessionId, (event) => {
        this.fold.apply(event);
        queueMicrotask(() => this.check());
      });
      this.check();
    });
  }

  shutdown(): void {
    this.stopping = true;
    for (const run of this.runs.values()) run.shutdown();
  }

  /** Starts a run for every thread that has work and none; ends the wake when no thread has any. */
  private check(): void {
    if (this.stopping && this.runs.size === 0) return this.end();
    if (this.stopping) return;
    for (const key of [PRIMARY, ...this.fold.threads.keys()]) {
      if (this.runs.has(key) || !this.hasWork(key)) continue;
      this.start(key);
    }
    if (this.runs.size === 0) this.end();
  }

  private end(): void {
    this.unsubscribe();
    this.release();
    if (this.failure !== null && !this.stopping) this.reject(this.failure);
    else this.resolve();
  }

  private hasWork(key: ThreadKey): boolean {
    const state = this.fold.stateOf(key);
    if (!state) return false;
    const step = nextStep(state);
    if (step.kind === 'none') return false;
    return !(key === PRIMARY && step.kind === 'finish' && this.othersActive());
  }

  /** Whether a thread other than the primary runs or has work. */
  private othersActive(): boolean {
    for (const key of this.runs.keys()) if (key !== PRIMARY) return true;
    for (const id of this.fold.threads.keys()) if (this.fold.busy(id)) return true;
    return false;
  }

  private start(key: ThreadKey): void {
    const parent = key === PRIMARY ? PRIMARY : (this.fold.threads.get(key)?.parent ?? PRIMARY);
    const scope: ThreadScope = {
      thread: key,
      project: (event) => projectEvent(event, key),
      scope: (events, view) => (key === PRIMARY ? this.primaryEvents(events) : scopeEvents(events, key, parent, view)),
      settings: (base) => this.settingsOf(key, base),
      holdsFinish: () => key === PRIMARY && this.othersActive(),
      adjustGuardrails: (state) => {
        for (const policy of this.fold.agentOf(key)?.policies ?? []) {
          // After every event of the log (never counted as imported); a later policy.set of the session replaces it.
          applyGuardrailEvent(state, { seq: Number.MAX_SAFE_INTEGER, id: '', ts: '', type: 'policy.set', payload: policy });
        }
      },
    };
    const options: HarnessOptions = { ...this.options, handsFor: (sessionId, signal) => this.handsOf(key, sessionId, signal) };
    const run = new SessionRun(this.harness, this.store, this.sessionId, options, this.retry, () => undefined, scope);
    this.runs.set(key, run);
    run.done = run.execute();
    run.done
      .catch((error: unknown) => {
        this.failure ??= error;
        this.harness.log(`Session ${this.sessionId}, thread ${key ?? 'primary'}: the run failed`, error);
      })
      .finally(() => {
        this.runs.delete(key);
        this.check();
      });
  }

  /**
   * The primary's events: its idle is the session's, so when threads wait for the user's approval
   * (or a program's custom tool result) the session's idle says so (`requires_action` naming them).
   */
  private primaryEvents(events: NewEvent[]): NewEvent[] {
    return events.map((event) => {
      if (event.type !== 'session.status_idle' || event.payload.stop_reason.type !== 'end_turn') return event;
      const waiting: string[] = [];
      for (const info of this.fold.threads.values()) {
        if (info.state.terminated) continue;
        for (const use of info.state.openToolUses) if (info.state.awaiting.has(use.payload.tool_use_id)) waiting.push(use.id);
        waiting.push(...info.state.customWaiting.keys());
      }
      if (waiting.length === 0) return event;
      const message = 'Tool calls of threads wait for your approval (or your program’s result); the threads go on once answered.';
      return { type: 'session.status_idle', payload: { stop_reason: { type: 'requires_action', event_ids: waiting, message } } };
    });
  }

  private settingsOf(key: ThreadKey, base: SessionSettings): SessionSettings {
    const agent = this.fold.agentOf(key);
    if (!agent) return base;
    return {
      ...base,
      ...(agent.model === undefined ? {} : { model: agent.model }),
      ...(agent.system === undefined ? {} : { system: agent.system }),
    };
  }

  /** The hands a thread's tools come from: the ones it holds (locked when not concurrent), its roster agent's tools only, and the thread tools. */
  private async handsOf(key: ThreadKey, sessionId: string, signal?: AbortSignal): Promise<readonly Hand[]> {
    const base = (await this.options.handsFor?.(sessionId, signal)) ?? [];
    const held =
      key === PRIMARY ? base : base.flatMap((hand) => resolveThreadHand(key, hand.id, { sessionId, hands: base, events: [] }) ?? []);
    const allowed = this.fold.agentOf(key)?.tools;
    const hands = held.map((hand) => this.wrap(hand, allowed));
    const coordinates = key !== PRIMARY || this.fold.roster !== null;
    return coordinates ? [...hands, coordinatorHand({ store: this.store, sessionId, caller: key, fold: this.fold, hands: base })] : hands;
  }

  /** The hand with only the allowed tools, its calls serialised across threads when it is not concurrent. */
  private wrap(hand: Hand, allowed: readonly string[] | undefined): Hand {
    const live = hand.runsOn ?? hand.id; // a thread's own copy of a hand has its own lock (thread-hands.ts)
    let lock = this.locks.get(live);
    if (!lock) this.locks.set(live, (lock = new Lock()));
    const serial = lock;
    const wrapped: Hand = {
      id: hand.id,
      concurrent: hand.concurrent,
      tools: () => (allowed === undefined ? hand.tools() : hand.tools().filter((tool) => toolAllowed(allowed, tool.name))),
      ownToolName: (name) => hand.ownToolName?.(name) ?? unqualifiedToolName(hand.id, name),
      execute: (name, input, options) =>
        hand.concurrent ? hand.execute(name, input, options) : serial.run(() => hand.execute(name, input, options)),
    };
    if (hand.kind !== undefined) Object.assign(wrapped, { kind: hand.kind });
    if (hand.permission) Object.assign(wrapped, { permission: hand.permission.bind(hand) });
    return wrapped;
  }
}

/** Whether a roster agent's `tools` allow `name`: named exactly, or `<hand>__*` (every tool of that hand). */
export function toolAllowed(allowed: readonly string[], name: string): boolean {
  return allowed.some((entry) => entry === name || (entry.endsWith('__*') && name.startsWith(entry.slice(0, -1))));
}
