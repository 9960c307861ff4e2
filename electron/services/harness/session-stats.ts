/**
 * The figures the sessions list shows next to each session, derived from its log: what it is
 * doing (its latest status event), what it has cost so far (its model requests), and where its
 * outcome stands (its latest `user.define_outcome` and the evaluations since).
 *
 * Costs are summed incrementally: a session's view only grows, so each call reads just the
 * model requests appended since the last one. It must never write to the log.
 */
import type { EventOf } from '#shared/events';
import type { OutcomeSummary, SessionStatus, SessionSummary, StoredSession } from '#shared/sessions';
import type { SessionStore } from '#services/session/store';
import { readAll } from './fold-log.ts';
import type { SessionFault } from './harness.ts';
import { usageTotals } from './models.ts';
import { foldOutcome } from './state.ts';

/** Stop reasons that mean the turn failed rather than ended. */
const FAILED_STOPS: ReadonlySet<string> = new Set(['error', 'retries_exhausted', 'authentication_failed', 'model_context_window_exceeded']);

export class SessionStats {
  private readonly costs = new Map<string, { throughSeq: number; costUsd: number }>();

  /** `faultOf`: why a session's turn stopped when its log could not say so (the harness's `fault`). */
  constructor(
    private readonly store: SessionStore,
    private readonly faultOf: (sessionId: string) => SessionFault | null = () => null,
  ) {}

  /** The stored session with its status, last unusual stop reason and cost. */
  summarize(session: StoredSession): SessionSummary {
    const [last] = this.store.getEvents(session.id, {
      types: ['session.status_running', 'session.status_idle', 'session.status_terminated'],
      direction: 'backward',
      limit: 1,
    });
    let status: SessionStatus = 'new';
    let stopReason: string | null = null;
    if (last?.type === 'session.status_running') status = 'running';
    else if (last?.type === 'session.status_terminated') {
      status = 'terminated';
      stopReason = last.payload.reason;
    } else if (last?.type === 'session.status_idle') {
      const stop = (last as EventOf<'session.status_idle'>).payload.stop_reason;
      status = FAILED_STOPS.has(stop.type) ? 'error' : 'idle';
      stopReason = stop.type === 'end_turn' ? null : stop.type;
    }
    // The log still says running, but the turn stopped on a failure the log could not take.
    const fault = status === 'running' ? this.faultOf(session.id) : null;
    if (fault) {
      status = 'error';
      stopReason = fault.reason;
    }
    return { ...session, status, stopReason, costUsd: this.costOf(session), outcome: this.outcomeOf(session.id) };
  }

  /** The current outcome, counted the way the brain counts it (state.ts `foldOutcome`); null when none was defined. */
  private outcomeOf(sessionId: string): OutcomeSummary | null {
    const [definition] = this.store.getEvents(sessionId, { types: ['user.define_outcome'], direction: 'backward', limit: 1 });
    if (!definition) return null;
    let outcome = foldOutcome(null, definition);
    for (const event of readAll(
      this.store,
      sessionId,
      ['span.outcome_evaluation_start', 'span.outcome_evaluation_end', 'session.status_idle'],
      definition.seq,
    )) {
      outcome = foldOutcome(outcome, event);
    }
    if (!outcome) return null;
    return {
      description: outcome.definition.description,
      maxIterations: outcome.definition.max_iterations,
      iterations: outcome.finished,
      state: outcome.evaluating === null ? outcome.last : 'evaluating',
    };
  }

  /** Forgets a deleted session. */
  forget(sessionId: string): void {
    this.costs.delete(sessionId);
  }

  private costOf(session: StoredSession): number {
    const cached = this.costs.get(session.id) ?? { throughSeq: 0, costUsd: 0 };
    if (session.lastSeq > cached.throughSeq) {
      const ends = readAll(this.store, session.id, ['span.model_request_end'], cached.throughSeq);
      cached.costUsd += usageTotals(ends).cost_usd;
      cached.throughSeq = session.lastSeq;
      this.costs.set(session.id, cached);
    }
    return cached.costUsd;
  }
}
