/**
 * The hands of a session as they stood at one event, folded from its `hand.*` events: which
 * were attached, what state each was in, and whether its files came from a snapshot. Used when
 * the user scrubs back in time. Pure: no I/O.
 */
import type { StoredEvent } from '#shared/events';
import type { HandConfig, HandState } from '#shared/hands';
import { handHolders, type HandHolding } from '#shared/hand-holders';

export interface HandAsOf {
  name: string;
  config: HandConfig;
  state: HandState;
  /** The last thing that happened to it, in words. */
  detail: string | null;
  /** Where its files came from when it last started, if from a snapshot. */
  restoredFrom: { sessionId: string; atSeq: number } | null;
  /** Snapshots of its files taken up to this point. */
  snapshots: number;
  /** The threads holding it at that event (issue 21), in grant order: folded from `hand.thread_access` and `session.thread_created`. */
  holders: HandHolding[];
}

/** The hands attached at event `atSeq`, in the order they were attached. */
export function handsAsOf(events: readonly StoredEvent[], atSeq: number): HandAsOf[] {
  const hands = new Map<string, HandAsOf>();
  for (const event of events) {
    if (event.seq > atSeq) break;
    if (event.type === 'hand.attached') {
      hands.set(event.payload.hand_id, {
        name: event.payload.hand_id,
        config: event.payload.config,
        state: 'idle',
        detail: null,
        restoredFrom: null,
        snapshots: 0,
        holders: [],
      });
      continue;
    }
    const handId = handIdOf(event);
    const hand = handId === undefined ? undefined : hands.get(handId);
    if (hand === undefined) continue;
    switch (event.type) {
      case 'hand.detached':
        hands.delete(hand.name);
        break;
      case 'hand.provisioning':
        hand.state = 'provisioning';
        hand.detail = event.payload.message ?? event.payload.phase;
        break;
      case 'hand.ready':
        hand.state = 'ready';
        hand.detail = event.payload.detail ?? (event.payload.container === undefined ? 'ready' : `container ${event.payload.container}`);
        hand.restoredFrom =
          event.payload.restored_from === undefined
            ? null
            : { sessionId: event.payload.restored_from.session_id, atSeq: event.payload.restored_from.at_seq };
        break;
      case 'hand.lost':
        hand.state = 'lost';
        hand.detail = event.payload.reason;
        break;
      case 'hand.failed':
        hand.state = 'failed';
        hand.detail = event.payload.message;
        break;
      case 'hand.snapshot':
        hand.snapshots++;
        break;
      default:
        break;
    }
  }
  for (const holding of handHolders(events, atSeq)) hands.get(holding.hand)?.holders.push(holding);
  return [...hands.values()];
}

function handIdOf(event: StoredEvent): string | undefined {
  switch (event.type) {
    case 'hand.detached':
    case 'hand.provisioning':
    case 'hand.ready':
    case 'hand.lost':
    case 'hand.failed':
    case 'hand.snapshot':
      return event.payload.hand_id;
    default:
      return undefined;
  }
}
