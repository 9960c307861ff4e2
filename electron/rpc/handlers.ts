/**
 * The handler table: every RPC method implemented on top of the services. Arguments arrive
 * validated by the dispatcher. Nothing here may return a secret.
 */
import { AppError } from '#shared/errors';
import type { OutcomeDefinition } from '#shared/events';
import type { HostKey, SshHandConfig, SshTestResult } from '#shared/hands';
import type { AppInfo, HandlerImpl } from '#shared/rpc';
import type { SshConfigListing } from '#shared/ssh';
import type { SessionSummary, StoredSession } from '#shared/sessions';
import { DEFAULT_SETTINGS } from '#services/harness/models';
import { mergeSettings, type Harness } from '#services/harness/harness';
import type { HandRegistry } from '#services/hands/registry';
import { importMcpConfig, ImportError } from '#services/hands/mcp/import-config';
import { SessionStats } from '#services/harness/session-stats';
import { dataDirExposure } from '#services/data-dir';
import type { SessionStore } from '#services/session/store';
import type { Credentials } from '#services/vault/credentials';
import { DefaultBudget } from '#services/guardrails/default-budget';
import { createChangesHandlers } from './changes-handlers.ts';
import { createCustomToolsHandlers } from './custom-tools-handlers.ts';
import { createGuardrailsHandlers, launchGuardrailEvents } from './guardrails-handlers.ts';
import { createLocalApiHandlers, type LocalApiControl } from './local-api-handlers.ts';
import { createStorageHandlers } from './storage-handlers.ts';
import { createEnginesHandlers } from './engines-handlers.ts';
import { createHandLibraryHandlers } from './hand-library-handlers.ts';
import { createRewindHandler } from './rewind-handler.ts';
import { createTerminalHandlers } from './terminals-handlers.ts';
import type { TerminalService } from '#services/terminals/terminal-service';
import { createSearchHandlers } from './search-handlers.ts';
import type { SearchIndex } from '#services/search/search-index';
import { createTimeDensityHandlers } from './time-density-handlers.ts';
import { createThreadsHandlers } from './threads-handlers.ts';
import { createRosterHandlers } from './roster-handlers.ts';
import { ThreadViews } from '#services/harness/thread-views';

/**
 * SSH machines: the connection test and the known hosts (`#services/hands/ssh/connection`,
 * `#services/hands/ssh/known-hosts`), and the user's ~/.ssh/config (`#services/hands/ssh/ssh-config`).
 */
export interface SshServices {
  /** `testConnection(config, { secrets, knownHosts })`: resolves with `ok: false` for a machine it cannot reach. */
  test(config: SshHandConfig): Promise<SshTestResult>;
  trust(key: HostKey): void;
  forget(host: string, port: number): void;
  configHosts(): Promise<SshConfigListing>;
  /** The first IdentityFile of a ~/.ssh/config alias, checked to be a private key (`readIdentityKey`). */
  identityKey(alias: string): Promise<{ fileName: string; text: string }>;
}

export interface HandlerServices {
  store: SessionStore;
  harness: Harness;
  hands: HandRegistry;
  credentials: Credentials;
  /** The budget new sessions get when their launch names none (default: `default-budget.json` in the data folder). */
  defaultBudget?: DefaultBudget;
  /** Absent: SSH machines cannot be tested or imported here (the methods say so). */
  ssh?: SshServices;
  log?: (message: string, error?: unknown) => void;
  info: AppInfo;
  /** Called after sessions are created, forked, imported or deleted (pushes `sessions-changed`). */
  onSessionsChanged?: (sessionId: string) => void;
  /** Settings → Local API (absent: its methods say this Drover has none). */
  localApi?: LocalApiControl;
  /** Terminals on hands (absent: the terminal methods say this Drover has none). */
  terminals?: TerminalService;
  /** The search index (absent: `search` says this Drover has none). */
  search?: SearchIndex;
}

/** A verification command runs on one of the session's hands: refuse a name that is not one of them. */
function checkVerificationHand(outcome: OutcomeDefinition, handNames: readonly string[]): void {
  const handId = outcome.verification?.hand_id;
  if (handId === undefined || handNames.includes(handId)) return;
  const attached = handNames.length > 0 ? `Its hands are: ${handNames.join(', ')}.` : 'It has no hands yet.';
  throw new AppError(
    'invalid-argument',
    `The verification command is to run on the hand "${handId}", but this session has no hand by that name. ${attached} Attach that hand first, or pick one of these.`,
  );
}

export function createHandlers({
  store,
  harness,
  hands,
  credentials,
  ssh,
  info,
  onSessionsChanged,
  log,
  localApi,
  terminals,
  search,
  ...rest
}: HandlerServices): HandlerImpl {
  const defaultBudget = rest.defaultBudget ?? new DefaultBudget(store.dataDir, log);
  const stats = new SessionStats(store, (sessionId) => harness.fault(sessionId));
  const summarize = (session: StoredSession): SessionSummary => stats.summarize(session);
  const sshServices = (): SshServices => {
    if (ssh === undefined)
      throw new AppError('conflict', 'SSH machines are not available in this Drover: it was started without SSH support.');
    return ssh;
  };
  const changed = (session: StoredSession): SessionSummary => {
    onSessionsChanged?.(session.id);
    return summarize(session);
  };
  return {
    ...createGuardrailsHandlers({ store, hands, defaultBudget }),
    ...createCustomToolsHandlers({ store }),
    ...createChangesHandlers({ store, hands, blobs: hands.blobs }),
    ...createRewindHandler({ store, harness, hands, summarize, onSessionsChanged, log, blobs: hands.blobs }),
    ...createLocalApiHandlers(localApi),
    ...createStorageHandlers({ store, hands, ...(log ? { log } : {}) }),
    ...createEnginesHandlers(hands.engines),
    ...createTerminalHandlers(terminals),
    ...createSearchHandlers(search),
    ...createThreadsHandlers({ views: new ThreadViews(store) }),
    ...createRosterHandlers({ store }),
    ...createTimeDensityHandlers({ store }),
    ...createHandLibraryHandlers({ dataDir: store.dataDir, listSecrets: () => credentials.list() }),
    'app-info': () => {
      const warning = dataDirExposure(store.dataDir);
      return warning === null ? info : { ...info, dataDirWarning: warning };
    },
    'sessions-list': () => store.listSessions().map(summarize),
    'sessions-create': ({ title }) => changed(store.createSession({ title })),
    'sessions-launch': async ({ title, settings, hands: launchHands, outcome, message, budget, policies, custom_tools: customTools }) => {
      // Checked before anything is created, so bad settings leave no half-made session behind.
      const resolved = mergeSettings(DEFAULT_SETTINGS, settings ?? {});
      if (outcome)
        checkVerificationHand(
          outcome,
          (launchHands ?? []).map((hand) => hand.name),
        );
      const guardrails = launchGuardrailEvents(launchHands ?? [], policies ?? [], budget ?? defaultBudget.get());
      await hands.checkImages(launchHands ?? []);
      const summary = store.createSession({ title });
      store.emitEvents(summary.id, [
        { type: 'session.configured', payload: resolved },
        ...(launchHands ?? []).map((hand) => ({ type: 'hand.attached' as const, payload: { hand_id: hand.name, config: hand.config } })),
        // The budget and policies before the first message, so its first request is held to them.
        ...guardrails,
        // Before the first message, so its first turn end is already checked against it.
        ...(outcome ? [{ type: 'user.define_outcome' as const, payload: outcome }] : []),
        ...(customTools && customTools.length > 0 ? [{ type: 'session.custom_tools_set' as const, payload: { tools: customTools } }] : []),
      ]);
      if (message !== undefined) harness.send(summary.id, message);
      return changed(store.getSession(summary.id));
    },
    'sessions-define-outcome': ({ sessionId, outcome }) => {
      store.getSession(sessionId); // not-found for an unknown session
      checkVerificationHand(
        outcome,
        hands.specs(sessionId).map((spec) => spec.name),
      );
      // Recorded only: a running turn is checked when it ends; an idle session waits for its next message.
      harness.defineOutcome(sessionId, outcome);
      return changed(store.getSession(sessionId));
    },
    'sessions-get': ({ sessionId }) => summarize(store.getSession(sessionId)),
    'sessions-send': (arg) => {
      harness.send(arg.sessionId, 'text' in arg ? arg.text : arg.content);
      return null;
    },
    'sessions-interrupt': ({ sessionId, reason, sessionThreadId }) => {
      harness.interrupt(sessionId, reason, sessionThreadId);
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
    'hands-attach': async ({ sessionId, hand }) => {
      store.getSession(sessionId); // not-found for an unknown session, before asking a registry
      await hands.checkImages([hand]);
      return hands.attach(sessionId, hand);
    },
    'hands-detach': ({ sessionId, name }) => hands.detach(sessionId, name),
    'hands-update': async ({ sessionId, hand }) => {
      // A Docker hand's image is checked; a hand that would change kind is refused by update() as it is.
      if (hands.specs(sessionId).some((spec) => spec.name === hand.name && spec.config.kind === 'docker')) await hands.checkImages([hand]);
      return hands.update(sessionId, hand);
    },
    'hands-approve': ({ sessionId, name, attachedSeq }) => hands.approve(sessionId, name, attachedSeq),
    'hands-mcp-info': ({ sessionId, name }) => hands.mcpInfo(sessionId, name),
    'mcp-test-server': ({ config }) => hands.testMcpServer(config),
    'mcp-recent-servers': () => hands.recentMcpServers(),
    'mcp-import-config': async ({ json }) => {
      const taken = (await credentials.list()).map((secret) => secret.name);
      try {
        return await importMcpConfig(json, { storeSecret: (secret) => credentials.create(secret), takenSecretNames: taken });
      } catch (error) {
        if (error instanceof ImportError) throw new AppError('invalid-argument', error.message);
        throw error;
      }
    },
    'docker-status': async () => {
      const reason = await hands.dockerUnavailableReason();
      return { available: reason === null, reason };
    },
    'ssh-test-connection': ({ config }) => sshServices().test(config),
    'ssh-trust-host': ({ hostKey }) => {
      sshServices().trust(hostKey);
      return null;
    },
    'ssh-forget-host': ({ host, port }) => {
      sshServices().forget(host, port);
      return null;
    },
    'ssh-config-hosts': () => sshServices().configHosts(),
    'ssh-import-key': async ({ alias, name }) => {
      // The path comes from the user's own config, looked up by alias here: the UI cannot name a file.
      const key = await sshServices().identityKey(alias);
      return credentials.create({ name, kind: 'ssh-private-key', value: key.text });
    },
    'sessions-events': ({ sessionId, query }) => store.getEvents(sessionId, query),
    'sessions-fork': ({ sessionId, atSeq, title }) => changed(store.fork(sessionId, atSeq, { title })),
    'sessions-switch-branch': ({ sessionId }) => {
      const branch = store.switchBranch(sessionId);
      onSessionsChanged?.(branch.conversationId);
      return summarize(branch);
    },
    'sessions-rename': ({ sessionId, title }) => {
      const renamed = store.renameSession(sessionId, title);
      onSessionsChanged?.(renamed.conversationId);
      return summarize(renamed);
    },
    'sessions-tree': ({ sessionId }) => store.getTree(sessionId),
    'sessions-timeline': ({ sessionId }) => store.getTimeline(sessionId),
    'sessions-delete': ({ sessionId, withDescendants }) => {
      // The session and, when asked, everything taken from it (the tree lists parents before children).
      const doomed = new Set([sessionId]);
      if (withDescendants === true)
        for (const node of store.getTree(sessionId)) if (node.parentId !== null && doomed.has(node.parentId)) doomed.add(node.id);
      for (const id of doomed) {
        if (harness.isRunning(id)) {
          throw new AppError(
            'conflict',
            `Claude is still working in "${store.getSession(id).title}". Stop it first, then delete the session.`,
          );
        }
      }
      for (const id of store.deleteSession(sessionId, { withDescendants: withDescendants === true })) {
        stats.forget(id);
        onSessionsChanged?.(id);
        // Its containers and snapshots go in the background; a failure is retried at the next start.
        hands.sessionDeleted(id).catch((error: unknown) => log?.(`Removing the containers of session ${id} failed`, error));
      }
      return null;
    },
    'sessions-export': ({ sessionId }) => {
      const { title } = store.getSession(sessionId);
      const slug =
        title
          .replace(/[^\p{L}\p{N}]+/gu, '-')
          .replace(/^-|-$/g, '')
          .slice(0, 60) || 'session';
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
