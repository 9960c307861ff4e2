/**
 * Who holds which hand (issue 21): a pure fold of a session's `hand.thread_access` events. The
 * primary thread holds every attached hand; a thread holds only what its parent passed it in
 * `thread_start` — the same hand (`shared`), the same one with writes refused (`read_only`), or a
 * copy of its own (`fresh`, and a Docker `read_only`, whose copy is a separate read-only container).
 * A grant ends when the thread returns the hand, the thread ends, or the hand is detached.
 *
 * The thread addresses a hand by the name its parent knows it by (`box`); the live hand its calls
 * run on (`runsOn`) is the session's hand, the copy it was given (`box~a1b2`), or — for a hand a
 * thread passes on to its own thread — whatever the parent's calls run on. Pure: no I/O.
 */
import type { StoredEvent } from './events.ts';
import type { HandAccessMode } from './threads.ts';

export interface HandHolding {
  /** The hand's name as the thread's tools call it (`box` → `box__bash`). */
  hand: string;
  session_thread_id: string;
  /** The thread's agent (from `session.thread_created`); null when the log does not say. */
  agent_name: string | null;
  mode: HandAccessMode;
  /** The copy made for the thread (`box~a1b2`): its own container; null when it holds the hand itself. */
  copy: string | null;
  /** What the parent's calls on the hand ran on when it was granted: the session's hand, or the parent's own copy. */
  source: string;
  /** The live hand its calls run on: its copy, else `source`. */
  runsOn: string;
  /** The `hand.thread_access` event that granted it. */
  grantedSeq: number;
}

/** The copy of `hand` made for a thread: `box~` and the first 8 characters of the thread's id after `sthr_`. */
export function copyName(hand: string, threadId: string): string {
  return `${hand}~${threadId.slice(5, 13)}`;
}

/** Whether a hand name is a thread's copy (`box~a1b2`); attached hands' names never have `~`. */
export function isCopyName(name: string): boolean {
  return name.includes('~');
}

/** The hands threads hold after the events up to `atSeq` (all of them when absent), in grant order. */
export function handHolders(events: readonly StoredEvent[], atSeq?: number): HandHolding[] {
  const holdings = new Map<string, HandHolding>();
  const agents = new Map<string, string>();
  const parents = new Map<string, string | undefined>();
  const key = (thread: string, hand: string): string => `${thread}\u0000${hand}`;
  for (const event of events) {
    if (atSeq !== undefined && event.seq > atSeq) break;
    switch (event.type) {
      case 'session.thread_created':
        agents.set(event.payload.session_thread_id, event.payload.agent_name);
        parents.set(event.payload.session_thread_id, event.payload.parent_thread_id);
        break;
      case 'hand.thread_access': {
        const { hand, session_thread_id: thread, mode, action, fresh_hand: copy } = event.payload;
        if (action === 'returned') {
          holdings.delete(key(thread, hand));
          break;
        }
        // The parent's view of the hand: its own holding when the parent is a thread, else the session's hand.
        const parent = parents.get(thread);
        const through = parent === undefined ? undefined : holdings.get(key(parent, hand));
        holdings.set(key(thread, hand), {
          hand,
          session_thread_id: thread,
          agent_name: agents.get(thread) ?? null,
          mode,
          copy: copy ?? null,
          source: through?.runsOn ?? hand,
          runsOn: copy ?? through?.runsOn ?? hand,
          grantedSeq: event.seq,
        });
        break;
      }
      case 'session.thread_status_terminated':
        for (const [id, holding] of holdings) if (holding.session_thread_id === event.payload.session_thread_id) holdings.delete(id);
        break;
      case 'hand.detached':
        for (const [id, holding] of holdings) if (holding.hand === event.payload.hand_id) holdings.delete(id);
        break;
      default:
        break;
    }
  }
  return [...holdings.values()].sort((a, b) => a.grantedSeq - b.grantedSeq);
}

/** What the hands panel says of a holding: "shared with thread 'tester'", "fresh copy for 'builder'". */
export function describeHolding(holding: HandHolding): string {
  const who = `'${holding.agent_name ?? holding.session_thread_id}'`;
  if (holding.mode === 'shared') return `shared with thread ${who}`;
  if (holding.mode === 'fresh') return `fresh copy for ${who}`;
  return holding.copy === null ? `read-only for ${who}` : `read-only copy for ${who}`;
}
