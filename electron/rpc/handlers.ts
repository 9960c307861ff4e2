/**
 * The handler table: every RPC method implemented on top of the services. Arguments arrive
 * validated by the dispatcher. Nothing here may return a secret.
 */
import type { AppInfo, HandlerImpl } from '#shared/rpc';
import type { SessionStore } from '#services/session/store';

export interface HandlerServices {
  store: SessionStore;
  info: AppInfo;
  /** Called after sessions are created, forked, imported or deleted (pushes `sessions-changed`). */
  onSessionsChanged?: (sessionId: string) => void;
}

export function createHandlers({ store, info, onSessionsChanged }: HandlerServices): HandlerImpl {
  const changed = <T extends { id: string }>(summary: T): T => {
    onSessionsChanged?.(summary.id);
    return summary;
  };
  return {
    'app-info': () => info,
    'sessions-list': () => store.listSessions(),
    'sessions-create': ({ title }) => changed(store.createSession({ title })),
    'sessions-get': ({ sessionId }) => store.getSession(sessionId),
    'sessions-events': ({ sessionId, query }) => store.getEvents(sessionId, query),
    'sessions-fork': ({ sessionId, atSeq, title }) => changed(store.fork(sessionId, atSeq, { title })),
    'sessions-tree': ({ sessionId }) => store.getTree(sessionId),
    'sessions-delete': ({ sessionId }) => {
      store.deleteSession(sessionId);
      onSessionsChanged?.(sessionId);
      return null;
    },
    'sessions-export': ({ sessionId }) => {
      const { title } = store.getSession(sessionId);
      const slug = title.replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '').slice(0, 60) || 'session';
      return { fileName: `${slug}.drover.jsonl`, jsonl: `${[...store.exportSession(sessionId)].join('\n')}\n` };
    },
    'sessions-import': ({ jsonl }) => changed(store.importSession([jsonl])),
  };
}
