/**
 * The roster's RPC method (issue 21): which agents a session's coordinator may start as threads
 * (each with its own model, system prompt and tools) and whether it may start copies of itself.
 * Recorded as `session.roster_set` (the latest wins; forks inherit it); from the next request on,
 * the primary thread is offered the coordinator tools (coordinator-tools.ts).
 */
import type { Roster } from '#shared/threads';
import type { HandlerImpl } from '#shared/rpc';
import type { SessionStore } from '#services/session/store';

export function createRosterHandlers({ store }: { store: SessionStore }): Pick<HandlerImpl, 'sessions-set-roster'> {
  return {
    'sessions-set-roster': ({ sessionId, roster }): Roster => {
      store.getSession(sessionId); // not-found for an unknown session
      store.emitEvent(sessionId, { type: 'session.roster_set', payload: roster });
      return roster;
    },
  };
}
