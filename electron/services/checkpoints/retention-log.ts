/**
 * What the log says about thinned checkpoints (issue 20 item 5): `hand.checkpoints_pruned` events
 * name, per hand, the `at_seq`s of a session's own `hand.checkpoint` events that no longer count.
 * A checkpoint is identified by (session whose log holds it, hand, at_seq). No I/O beyond the store.
 */
import type { StoredEvent } from '#shared/events';
import type { SessionStore } from '#services/session/store';

type CheckpointEvent = Extract<StoredEvent, { type: 'hand.checkpoint' }>;

/** `<hand>/<at_seq>`: a pruned checkpoint of one session. */
export function prunedKey(hand: string, atSeq: number): string {
  return `${hand}/${atSeq}`;
}

/** The pruned checkpoints among `events` (a session's own events): `<hand>/<at_seq>` keys. */
export function prunedIn(events: Iterable<StoredEvent>): Set<string> {
  const pruned = new Set<string>();
  for (const event of events) {
    if (event.type !== 'hand.checkpoints_pruned') continue;
    for (const at of event.payload.at_seqs) pruned.add(prunedKey(event.payload.hand_id, at));
  }
  return pruned;
}

/** Every event of a session's own log of these types (after its fork point), oldest first, paged. */
export function ownEvents<K extends StoredEvent['type']>(store: SessionStore, sessionId: string, types: K[]): StoredEvent[] {
  const found: StoredEvent[] = [];
  let afterSeq = store.getSession(sessionId).forkSeq ?? 0;
  for (;;) {
    const page = store.getEvents(sessionId, { types, afterSeq, limit: 1000 });
    found.push(...page);
    const last = page.at(-1);
    if (page.length < 1000 || last === undefined) return found;
    afterSeq = last.seq;
  }
}

/** A session's own checkpoints that still count (not pruned), oldest first. */
export function keptCheckpoints(store: SessionStore, sessionId: string): CheckpointEvent[] {
  const events = ownEvents(store, sessionId, ['hand.checkpoint', 'hand.checkpoints_pruned']);
  const pruned = prunedIn(events);
  return events.filter(
    (event): event is CheckpointEvent =>
      event.type === 'hand.checkpoint' && !pruned.has(prunedKey(event.payload.hand_id, event.payload.at_seq)),
  );
}

/**
 * The checkpoint a hand's files at event `atSeq` of `sessionId`'s view come from: the kept one
 * with the largest `at_seq` ≤ `atSeq` in the session's own log, else in its parent's up to the fork
 * point (and so on up) — as findRestoreSource picks. Null: none.
 */
export function checkpointAt(
  store: SessionStore,
  sessionId: string,
  hand: string,
  atSeq: number,
): { sessionId: string; atSeq: number; manifest: string } | null {
  let session = store.getSession(sessionId);
  let limit = atSeq;
  for (;;) {
    let best: CheckpointEvent | null = null;
    for (const event of keptCheckpoints(store, session.id)) {
      if (event.payload.hand_id !== hand || event.payload.at_seq > limit) continue;
      if (!best || event.payload.at_seq > best.payload.at_seq) best = event;
    }
    if (best) return { sessionId: session.id, atSeq: best.payload.at_seq, manifest: best.payload.manifest };
    if (session.parentId === null || session.forkSeq === null) return null;
    limit = Math.min(limit, session.forkSeq);
    session = store.getSession(session.parentId);
  }
}

/** Ids of the thinned `hand.checkpoint` events a session's view can see (its own and its ancestors'). */
export function prunedCheckpointIds(store: SessionStore, sessionId: string): Set<string> {
  const ids = new Set<string>();
  let session = store.getSession(sessionId);
  for (;;) {
    const events = ownEvents(store, session.id, ['hand.checkpoint', 'hand.checkpoints_pruned']);
    const pruned = prunedIn(events);
    for (const event of events)
      if (event.type === 'hand.checkpoint' && pruned.has(prunedKey(event.payload.hand_id, event.payload.at_seq))) ids.add(event.id);
    if (session.parentId === null) return ids;
    session = store.getSession(session.parentId);
  }
}
