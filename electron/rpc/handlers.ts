/**
 * The handler table: every RPC method implemented on top of the services. Arguments arrive
 * validated by the dispatcher. Nothing here may return a secret.
 */
import { AppError } from '#shared/errors';
import type { AppInfo, HandlerImpl } from '#shared/rpc';
import type { SessionSummary, StoredSession } from '#shared/sessions';
import { DEFAULT_SETTINGS } from '#services/harness/models';
import { mergeSettings, type Harness } from '#services/harness/harness';
import type { HandRegistry } from '#services/hands/registry';
import { SessionStats } from '#services/harness/session-stats';
import type { SessionStore } from '#services/session/store';
import type { Credentials } from '#services/vault/credentials';

export interface HandlerServices {
  store: SessionStore;
  harness: Harness;
  hands: HandRegistry;
  credentials: Credentials;
  log?: (message: string, error?: unknown) => void;
  info: AppInfo;
  /** Called after sessions are created, forked, imported or deleted (pushes `sessions-changed`). */
  onSessionsChanged?: (sessionId: string) => void;
}

export function createHandlers({ store, harness, hands, credentials, info, onSessionsChanged, log }: HandlerServices): HandlerImpl {
  const stats = new SessionStats(store);
  const summarize = (session: StoredSession): SessionSummary => stats.summarize(session);
  const changed = (session: StoredSession): SessionSummary => {
    onSessionsChanged?.(session.id);
    return summarize(session);
  };
  return {
    'app-info': () => info,
    'sessions-list': () => store.listSessions().map(summarize),
    'sessions-create': ({ title }) => changed(store.createSession({ title })),
    'sessions-launch': ({ title, settings, hands: launchHands, message }) => {
      // Checked before anything is created, so bad settings leave no half-made session behind.
      const resolved = mergeSettings(DEFAULT_SETTINGS, settings ?? {});
      const summary = store.createSession({ title });
      store.emitEvents(summary.id, [
        { type: 'session.configured', payload: resolved },
        ...(launchHands ?? []).map((hand) => ({ type: 'hand.attached' as const, payload: { hand_id: hand.name, config: hand.config } })),
      ]);
      if (message !== undefined) harness.send(summary.id, message);
      return changed(store.getSession(summary.id));
    },
    'sessions-get': ({ sessionId }) => summarize(store.getSession(sessionId)),
    'sessions-send': ({ sessionId, text }) => {
      harness.send(sessionId, text);
      return null;
    },
    'sessions-interrupt': ({ sessionId, reason }) => {
      harness.interrupt(sessionId, reason);
      return null;
    },
    'sessions-settings': ({ sessionId }) => harness.settings(sessionId),
    'sessions-configure': ({ sessionId, settings }) => harness.configure(sessionId, settings),
    'sessions-usage': ({ sessionId }) => harness.usage(sessionId),
    'models-list': () => harness.listModels(),
    'hands-list': ({ sessionId }) => {
      store.getSession(sessionId); // not-found for an unknown session
      return hands.statuses(sessionId);
    },
    'hands-attach': ({ sessionId, hand }) => hands.attach(sessionId, hand),
    'hands-detach': ({ sessionId, name }) => hands.detach(sessionId, name),
    'docker-status': async () => {
      const reason = await hands.dockerUnavailableReason();
      return { available: reason === null, reason };
    },
    'sessions-events': ({ sessionId, query }) => store.getEvents(sessionId, query),
    'sessions-fork': ({ sessionId, atSeq, title }) => changed(store.fork(sessionId, atSeq, { title })),
    'sessions-rewind': ({ sessionId, atSeq }) => {
      // Rewinding means the agent went the wrong way: stop it there rather than let it go on
      // spending on a branch the user has just left.
      if (harness.isRunning(sessionId)) harness.interrupt(sessionId, `Rewound to event ${atSeq}: the conversation continues on a new branch.`);
      const branch = store.rewind(sessionId, atSeq);
      onSessionsChanged?.(branch.conversationId);
      return changed(branch);
    },
    'sessions-switch-branch': ({ sessionId }) => {
      const branch = store.switchBranch(sessionId);
      onSessionsChanged?.(branch.conversationId);
      return summarize(branch);
    },
    'sessions-tree': ({ sessionId }) => store.getTree(sessionId),
    'sessions-timeline': ({ sessionId }) => store.getTimeline(sessionId),
    'sessions-delete': ({ sessionId }) => {
      if (harness.isRunning(sessionId)) {
        throw new AppError('conflict', `Claude is still working in "${store.getSession(sessionId).title}". Stop it first, then delete the session.`);
      }
      store.deleteSession(sessionId);
      stats.forget(sessionId);
      onSessionsChanged?.(sessionId);
      // Its containers and snapshots go in the background; a failure is retried at the next start.
      hands.sessionDeleted(sessionId).catch((error: unknown) => log?.(`Removing the containers of session ${sessionId} failed`, error));
      return null;
    },
    'sessions-export': ({ sessionId }) => {
      const { title } = store.getSession(sessionId);
      const slug = title.replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '').slice(0, 60) || 'session';
      return { fileName: `${slug}.drover.jsonl`, jsonl: `${[...store.exportSession(sessionId)].join('\n')}\n` };
    },
    'sessions-import': ({ jsonl }) => changed(store.importSession([jsonl])),
    'vault-status': () => credentials.status(),
    'secrets-list': () => credentials.list(),
    'secrets-create': (secret) => credentials.create(secret),
    'secrets-replace': ({ id, value }) => credentials.replace(id, value),
    'secrets-delete': async ({ id }) => {
      await credentials.remove(id);
      return null;
    },
    'api-key-status': () => credentials.apiKeyStatus(),
    'api-key-set': ({ value }) => credentials.setApiKey(value),
    'api-key-test': () => credentials.testApiKey(),
  };
}
