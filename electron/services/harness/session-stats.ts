/**
 * The figures the sessions list shows next to each session, derived from its log: what it is
 * doing (its latest status event) and what it has cost so far (its model requests).
 *
 * Costs are summed incrementally: a session's view only grows, so each call reads just the
 * model requests appended since the last one. It must never write to the log.
 */
import type { EventOf } from '#shared/events';
import type { SessionStatus, SessionSummary, StoredSession } from '#shared/sessions';
import type { SessionStore } from '#services/session/store';
import { readAll } from './harness.ts';
import { usageTotals } from './models.ts';

/** Stop reasons that mean the turn failed rather than ended. */
const FAILED_STOPS: ReadonlySet<string> = new Set(['error', 'retries_exhausted', 'authentication_failed', 'model_context_window_exceeded']);

export class SessionStats {
  private readonly costs = new Map<string, { throughSeq: number; costUsd: number }>();

  constructor(private readonly store: SessionStore) {}

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
    return { ...session, status, stopReason, costUsd: this.costOf(session) };
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
