/**
 * Which hand a thread's tool call runs on (issue 21, item 3: passing hands). The run asks
 * `resolveThreadHand` for each of the session's hands when it loads a thread's tools; the answer is
 * the hand to offer — the same one when shared, a read-only or fresh one by the thread's grant — or
 * null when the thread does not hold it. `grantThreadHands` checks and records what `thread_start`
 * passes; `returnThreadHand` answers a thread's `thread_return_hand`.
 *
 * Who holds what is the registry's fold of the log (`hand.thread_access`: services/hands/thread-access.ts),
 * reached through each hand's `threads`. A hand without one (given to the harness directly, like the
 * coordinator tools' own) is shared by every thread.
 */
import type { NewEvent, StoredEvent } from '#shared/events';
import { copyName, handHolders } from '#shared/hand-holders';
import type { HandAccessMode } from '#shared/threads';
import type { Hand } from '#services/hands/hand';

export interface ThreadHandContext {
  sessionId: string;
  /** The session's hands (what the primary holds). */
  hands: readonly Hand[];
  /** The session's log so far, for hands the registry did not make (the registry's hands read the log themselves). */
  events: readonly StoredEvent[];
}

/** The hand thread `threadId` uses for the session's hand `handName`; null: the thread does not hold it. */
export function resolveThreadHand(threadId: string, handName: string, context: ThreadHandContext): Hand | null {
  const hand = context.hands.find((candidate) => candidate.id === handName);
  if (!hand) return null;
  return hand.threads ? hand.threads.forThread(threadId) : hand;
}

/**
 * The `hand.thread_access` grants for a thread `grantor` (null: the primary) starts with `hands`, to
 * record with its `session.thread_created`; or, when one cannot be passed, why (for the model: nothing
 * is recorded then). A copy (a fresh one, or a Docker read-only one) is named `box~<thread>` and made
 * on the thread's first call on it.
 */
export function grantThreadHands(
  threadId: string,
  grantor: string | null,
  hands: ReadonlyArray<{ hand: string; mode: HandAccessMode }>,
  context: ThreadHandContext,
): { events: NewEvent[] } | { refused: string } {
  const reasons: string[] = [];
  const events: NewEvent[] = [];
  const seen = new Set<string>();
  for (const { hand: name, mode } of hands) {
    const hand = context.hands.find((candidate) => candidate.id === name);
    if (!hand) {
      reasons.push(`there is no hand named "${name}" in this session.`);
      continue;
    }
    if (seen.has(name)) {
      reasons.push(`${name} is listed twice: pass each hand once, with one mode.`);
      continue;
    }
    seen.add(name);
    // A hand the registry did not make is shared by every thread: it can be passed shared only.
    const refusal = hand.threads
      ? hand.threads.refusal(mode, grantor)
      : mode === 'shared'
        ? null
        : `${name} is shared by every thread; pass it shared.`;
    if (refusal !== null) {
      reasons.push(refusal);
      continue;
    }
    const copy = mode === 'fresh' || (mode === 'read_only' && hand.kind !== 'mcp');
    events.push({
      type: 'hand.thread_access',
      payload: {
        hand: name,
        session_thread_id: threadId,
        mode,
        action: 'granted',
        ...(copy ? { fresh_hand: copyName(name, threadId) } : {}),
      },
    });
  }
  return reasons.length > 0 ? { refused: `thread_start was not run: ${reasons.join(' ')}` } : { events };
}

/** What to record when thread `threadId` returns `handName`, and what the model is told. */
export function returnThreadHand(threadId: string, handName: string, context: ThreadHandContext): { events: NewEvent[]; message: string } {
  const hand = context.hands.find((candidate) => candidate.id === handName);
  const holdings = hand?.threads ? hand.threads.holdings() : handHolders(context.events);
  const held = holdings.find((holding) => holding.session_thread_id === threadId && holding.hand === handName);
  if (!held) {
    const yours = holdings.filter((holding) => holding.session_thread_id === threadId).map((holding) => holding.hand);
    return {
      events: [],
      message: `You do not hold a hand named "${handName}". ${yours.length > 0 ? `Your hands: ${yours.join(', ')}.` : 'You hold no hands.'}`,
    };
  }
  return {
    events: [{ type: 'hand.thread_access', payload: { hand: handName, session_thread_id: threadId, mode: held.mode, action: 'returned' } }],
    message: held.copy === null ? `Returned ${handName}.` : `Returned ${handName}; your copy ${held.copy} is removed.`,
  };
}
