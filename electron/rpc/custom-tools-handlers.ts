/**
 * The custom tools' RPC methods (issue 19, Managed Agents' custom tools and system messages): the
 * session's custom tool definitions, the program's answers to custom tool calls, and system
 * messages. Each checks its input against the session's log before anything is recorded: a refused
 * call records nothing. What it records is an event, so forks and rewinds inherit it; the harness
 * wakes on a `user.custom_tool_result`, so the last answer of a turn continues the session at once.
 */
import type { HandlerImpl } from '#shared/rpc';
import { customResultEvents } from '#services/harness/custom-tools';
import { guardrailsOfSession } from '#services/harness/fold-log';
import type { SessionStore } from '#services/session/store';

export type CustomToolsMethod = 'sessions-set-custom-tools' | 'sessions-custom-tool-result' | 'sessions-system-message';

export function createCustomToolsHandlers({ store }: { store: SessionStore }): Pick<HandlerImpl, CustomToolsMethod> {
  return {
    'sessions-set-custom-tools': ({ sessionId, tools }) => {
      store.getSession(sessionId); // not-found for an unknown session
      store.emitEvent(sessionId, { type: 'session.custom_tools_set', payload: { tools } });
      return tools;
    },
    'sessions-custom-tool-result': ({ sessionId, results }) => {
      const events = customResultEvents(guardrailsOfSession(store, sessionId).customCalls, results);
      // One commit: answered together, they wake the session once.
      return store.emitEvents(sessionId, events);
    },
    'sessions-system-message': ({ sessionId, text }) => {
      store.getSession(sessionId);
      return store.emitEvent(sessionId, { type: 'system.message', payload: { content: [{ type: 'text', text }] } });
    },
  };
}
