/** Waits on a session's log in a real store, for tests that drive a harness or a host. */
import type { EventOf, EventType } from '#shared/events';
import type { SessionStore } from '#services/session/store';

/**
 * Resolves with the first event of `type` (already logged or to come) that `match`es; rejects after
 * `timeoutMs` naming the types the log holds by then.
 */
export function waitForEvent<K extends EventType>(
  store: SessionStore,
  sessionId: string,
  type: K,
  match: (event: EventOf<K>) => boolean = () => true,
  timeoutMs = 30_000,
): Promise<EventOf<K>> {
  return new Promise((resolve, reject) => {
    const found = store.getEvents(sessionId, { types: [type] }).find((event) => match(event as EventOf<K>));
    if (found) return resolve(found as EventOf<K>);
    const timer = setTimeout(() => {
      stop();
      const log = store.getEvents(sessionId).map((event) => event.type);
      reject(new Error(`no ${type} within ${timeoutMs} ms; log: ${log.join(', ')}`));
    }, timeoutMs);
    const stop = store.subscribe(sessionId, (event) => {
      if (event.type !== type || !match(event as EventOf<K>)) return;
      clearTimeout(timer);
      stop();
      resolve(event as EventOf<K>);
    });
  });
}
