/**
 * The threads' RPC method (issue 21): a session's threads and the lane of each event, for the
 * cockpit's timeline lanes, transcript switch, thread tree and per-thread cost. Reads only.
 */
import type { HandlerImpl } from '#shared/rpc';
import type { ThreadViews } from '#services/harness/thread-views';

export function createThreadsHandlers({ views }: { views: ThreadViews }): Pick<HandlerImpl, 'sessions-threads'> {
  return {
    'sessions-threads': ({ sessionId, afterSeq }) => views.view(sessionId, afterSeq),
  };
}
