/**
 * A session's threads as the cockpit and the API show them (shared/thread-view.ts's fold over
 * the store's log), priced with the sessions list's prices, and which thread each event belongs
 * to. Folded incrementally: a session's log only grows, so each call reads just the events
 * appended since the last one. A few sessions are kept; the rest are folded again when asked.
 * The one thing it writes is an archive (`session.thread_archived`), checked against the same fold.
 */
import { AppError } from '#shared/errors';
import type { StoredEvent } from '#shared/events';
import { ThreadFold, type SessionThreads, type ThreadSummary } from '#shared/thread-view';
import type { SessionStore } from '#services/session/store';
import { usageTotals } from './models.ts';

/** Sessions whose fold is kept (the ones open in the cockpit or read through the API). */
const KEPT = 16;
const PAGE = 2_000;

interface Folded {
  fold: ThreadFold;
  /** codes[i]: the thread index of event i + 1. */
  codes: number[];
}

export class ThreadViews {
  private readonly folds = new Map<string, Folded>();

  constructor(private readonly store: SessionStore) {}

  /** The threads, and the lane of every event after `afterSeq` (none when the session has no threads). */
  view(sessionId: string, afterSeq = 0): SessionThreads {
    const { fold, codes } = this.folded(sessionId);
    const threads = fold.summaries(price);
    const from = Math.min(Math.max(0, afterSeq), codes.length);
    return {
      threads,
      throughSeq: fold.throughSeq,
      lanes: { fromSeq: from + 1, codes: fold.size > 1 ? codes.slice(from) : [] },
    };
  }

  /** The threads only (the primary first). */
  threads(sessionId: string): ThreadSummary[] {
    return this.folded(sessionId).fold.summaries(price);
  }

  /** The thread index of each event (1-based seq → index into `threads`), for filtering a thread's events. */
  laneOf(sessionId: string): (seq: number) => number {
    const { codes } = this.folded(sessionId);
    return (seq) => codes[seq - 1] ?? 0;
  }

  /**
   * Archives a thread: records `session.thread_archived` (so forks taken after it, and any reader of the log, see it
   * archived) and answers the thread. Refused for the primary, a running thread or one not in the session; a thread
   * archived already is answered as it is, nothing recorded.
   */
  archive(sessionId: string, threadId: string): ThreadSummary {
    const find = (): ThreadSummary | undefined => this.threads(sessionId).find((thread) => thread.id === threadId);
    const thread = find();
    if (thread === undefined) throw new AppError('not-found', `The session has no thread ${threadId}. List its threads to see their ids.`);
    if (thread.archivedAt !== null) return thread;
    if (thread.status === 'running')
      throw new AppError(
        'invalid-argument',
        `The thread ${threadId} (${thread.agentName}) is running: a running thread cannot be archived. Wait until it is idle or ended (or interrupt it), then archive it.`,
      );
    this.store.emitEvent(sessionId, { type: 'session.thread_archived', payload: { session_thread_id: threadId } });
    return find() as ThreadSummary;
  }

  /** Forgets a session (deleted). */
  forget(sessionId: string): void {
    this.folds.delete(sessionId);
  }

  private folded(sessionId: string): Folded {
    const lastSeq = this.store.getSession(sessionId).lastSeq;
    let folded = this.folds.get(sessionId);
    if (folded === undefined || folded.fold.throughSeq > lastSeq) folded = { fold: new ThreadFold(), codes: [] };
    this.folds.delete(sessionId);
    this.folds.set(sessionId, folded);
    while (this.folds.size > KEPT) {
      const oldest = this.folds.keys().next().value;
      if (oldest === undefined) break;
      this.folds.delete(oldest);
    }
    for (let after = folded.fold.throughSeq; after < lastSeq;) {
      const page = this.store.getEvents(sessionId, { afterSeq: after, limit: PAGE });
      if (page.length === 0) break;
      for (const event of page) {
        // The timeline is dense (one code per seq): a gap would misplace every later lane.
        while (folded.codes.length < event.seq - 1) folded.codes.push(0);
        folded.codes.push(folded.fold.add(event));
      }
      after = (page.at(-1) as StoredEvent).seq;
    }
    return folded;
  }
}

function price(ends: readonly StoredEvent[]): { costUsd: number; unpricedModels: string[] } {
  const totals = usageTotals(ends);
  return { costUsd: totals.cost_usd, unpricedModels: totals.unpriced_models };
}
