/**
 * The threads' RPC methods (issue 21): a session's threads and the lane of each event, for the
 * cockpit's timeline lanes, transcript switch, thread tree and per-thread cost; and archiving a
 * thread (`session.thread_archived` in the log).
 */
import type { HandlerImpl } from '#shared/rpc';
import type { ThreadViews } from '#services/harness/thread-views';

export function createThreadsHandlers({
  views,
}: {
  views: ThreadViews;
}): Pick<HandlerImpl, 'sessions-threads' | 'sessions-archive-thread'> {
  return {
    'sessions-threads': ({ sessionId, afterSeq }) => views.view(sessionId, afterSeq),
    'sessions-archive-thread': ({ sessionId, sessionThreadId }) => views.archive(sessionId, sessionThreadId),
  };
}
