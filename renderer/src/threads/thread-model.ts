/**
 * The cockpit's threads (issue 21), pure: which thread each event belongs to (the timeline's
 * lanes), the thread tree (the primary, the threads it started, theirs), each thread's colour and
 * label, and which events a one-thread transcript shows. No I/O, no React.
 */
import type { StoredEvent } from '#shared/events';
import { threadOf, type SessionThreads, type ThreadSummary } from '#shared/thread-view';

/** Lane colours, one per thread in creation order (the primary first), readable on both themes. */
export const THREAD_COLORS = ['#7c8aa5', '#d9822b', '#2b9d8f', '#b05cc9', '#c9a227', '#3b82c4', '#d1495b', '#5a9e3a'] as const;

export function threadColor(index: number): string {
  return THREAD_COLORS[index % THREAD_COLORS.length] ?? '#888';
}

/**
 * The lanes as the cockpit holds them: the fold's answer (`sessions-threads`) up to `throughSeq`,
 * and, for events pushed since, the thread their payload names. `merge` answers a new one (the old one is
 * dropped: they share the codes buffer).
 */
export class ThreadLanes {
  private readonly indexOf: ReadonlyMap<string | null, number>;

  private constructor(
    readonly threads: readonly ThreadSummary[],
    private readonly codes: Uint8Array,
    readonly throughSeq: number,
  ) {
    this.indexOf = new Map(threads.map((thread, index) => [thread.id, index]));
  }

  static readonly EMPTY = new ThreadLanes([], new Uint8Array(0), 0);

  /** This, with a later answer of `sessions-threads` (asked with `afterSeq` = this.throughSeq) folded in. */
  merge(answer: SessionThreads): ThreadLanes {
    const needed = answer.throughSeq;
    const codes = needed <= this.codes.length ? this.codes : grow(this.codes, needed);
    answer.lanes.codes.forEach((code, offset) => {
      const seq = answer.lanes.fromSeq + offset;
      if (seq >= 1 && seq <= codes.length) codes[seq - 1] = Math.min(255, code);
    });
    return new ThreadLanes(answer.threads, codes, answer.throughSeq);
  }

  /** Whether the session has threads besides its primary. */
  get many(): boolean {
    return this.threads.length > 1;
  }

  /** The index (in `threads`) of the thread event `seq` belongs to; `event` is read for events newer than the fold. */
  laneAt(seq: number, event?: Pick<StoredEvent, 'payload'>): number {
    if (seq >= 1 && seq <= this.throughSeq) return this.codes[seq - 1] ?? 0;
    return event === undefined ? 0 : (this.indexOf.get(threadOf(event)) ?? 0);
  }

  /** The index of a thread by id (null: the primary); -1 when not known. */
  indexOfThread(id: string | null): number {
    return this.indexOf.get(id) ?? -1;
  }
}

function grow(codes: Uint8Array, length: number): Uint8Array {
  const grown = new Uint8Array(Math.max(length, codes.length * 2, 1024));
  grown.set(codes);
  return grown;
}

/** A thread's label: its agent name, and a number when several threads run the same agent. */
export function threadLabels(threads: readonly ThreadSummary[]): string[] {
  const seen = new Map<string, number>();
  const totals = new Map<string, number>();
  for (const thread of threads) totals.set(thread.agentName, (totals.get(thread.agentName) ?? 0) + 1);
  return threads.map((thread) => {
    const count = (seen.get(thread.agentName) ?? 0) + 1;
    seen.set(thread.agentName, count);
    return (totals.get(thread.agentName) ?? 0) > 1 ? `${thread.agentName} ${count}` : thread.agentName;
  });
}

export interface ThreadNode {
  thread: ThreadSummary;
  index: number;
  label: string;
  children: ThreadNode[];
}

/** The primary with the threads it started below it, and theirs below them (creation order). */
export function threadTree(threads: readonly ThreadSummary[]): ThreadNode | null {
  const labels = threadLabels(threads);
  const nodes = threads.map((thread, index): ThreadNode => ({ thread, index, label: labels[index] ?? thread.agentName, children: [] }));
  const root = nodes[0];
  if (root === undefined) return null;
  const byId = new Map(nodes.map((node) => [node.thread.id, node]));
  for (const node of nodes.slice(1)) (byId.get(node.thread.parentId) ?? root).children.push(node);
  return root;
}

/**
 * The events a one-thread transcript shows: the thread's own, and the creation of the threads it
 * started (so the parent's view says whom it started, with what task). `thread` undefined: all.
 */
export function eventsOfThread(events: readonly StoredEvent[], thread: string | null | undefined): StoredEvent[] {
  if (thread === undefined) return [...events];
  return events.filter(
    (event) =>
      threadOf(event) === thread || (event.type === 'session.thread_created' && (event.payload.parent_thread_id ?? null) === thread),
  );
}

/** Tokens in a line: "12.3k in · 1.2k out". */
export function tokensText(thread: Pick<ThreadSummary, 'inputTokens' | 'outputTokens' | 'cacheReadTokens'>): string {
  const cached = thread.cacheReadTokens > 0 ? ` · ${compact(thread.cacheReadTokens)} cached` : '';
  return `${compact(thread.inputTokens)} in${cached} · ${compact(thread.outputTokens)} out`;
}

export function compact(value: number): string {
  if (value < 1000) return String(value);
  if (value < 1_000_000) return `${(value / 1000).toFixed(value < 10_000 ? 1 : 0)}k`;
  return `${(value / 1_000_000).toFixed(1)}M`;
}

/** Whether the events up to `lastSeq` include a thread's creation (from the timeline's types only). */
export function hasThreadCreated(typeAt: (seq: number) => string | undefined, fromSeq: number, lastSeq: number): boolean {
  for (let seq = Math.max(1, fromSeq); seq <= lastSeq; seq++) if (typeAt(seq) === 'session.thread_created') return true;
  return false;
}
