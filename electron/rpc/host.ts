/**
 * Everything a UI host (the Electron main process, serve mode) runs behind its transport: the
 * brain over the session store, the handler table, the dispatcher, and the pushes to the UI.
 * One place, so both hosts behave the same and each stays a thin adapter.
 *
 * It must never push or return a secret: pushes carry events and live deltas only.
 */
import path from 'node:path';
import { isAppError } from '#shared/errors';
import type { LiveUpdate } from '#shared/harness';
import type { AppInfo, PushMessage, RpcCaller } from '#shared/rpc';
import { EnginePool } from '#services/engines/engine-pool';
import { EngineStore } from '#services/engines/engine-store';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import type { Hand } from '#services/hands/hand';
import { HandRegistry } from '#services/hands/registry';
import { environmentKey, Harness, type KeyProvider } from '#services/harness/harness';
import type { SessionStore } from '#services/session/store';
import { sshConfigReader } from '#services/hands/ssh/ssh-config';
import { testConnection } from '#services/hands/ssh/connection';
import { KnownHosts } from '#services/hands/ssh/known-hosts';
import { Credentials, type VaultLike } from '#services/vault/credentials';
import { DefaultBudget } from '#services/guardrails/default-budget';
import { Redactor } from '#services/vault/redact';
import { TerminalService } from '#services/terminals/terminal-service';
import { SearchIndex } from '#services/search/search-index';
import { createDispatcher, type Dispatch } from './dispatch.ts';
import { createHandlers } from './handlers.ts';
import type { LocalApiControl } from './local-api-handlers.ts';

export interface HostOptions {
  store: SessionStore;
  info: AppInfo;
  /** Sends a push to every connected UI. */
  push: (message: PushMessage) => void;
  /** The vault (none: secrets cannot be stored, and `vaultUnavailable` says why). */
  vault?: VaultLike | null;
  vaultUnavailable?: string;
  /** Overrides where the API key comes from (default: ANTHROPIC_API_KEY, else the vault's). */
  keyProvider?: KeyProvider;
  baseURL?: string | undefined;
  /** Replaces the session's hands (tests with in-process hands); by default each session's attached hands. */
  handsFor?: (sessionId: string, signal?: AbortSignal) => readonly Hand[] | Promise<readonly Hand[]>;
  /** Containers outlive a quit this long, to be reused by the next start (default: DROVER_KEEP_CONTAINERS_MINUTES, else 0: removed at quit). */
  keepContainersMs?: number;
  /** Settings → Local API: the Managed Agents API server's control (electron/api/local-api.ts); absent: none here. */
  localApi?: LocalApiControl;
  log: (message: string, error?: unknown) => void;
}

export interface Host {
  dispatch: Dispatch;
  harness: Harness;
  hands: HandRegistry;
  credentials: Credentials;
  redactor: Redactor;
  /** Terminals on hands (issue 23), each owned by the connection that opened it. */
  terminals: TerminalService;
  /** Adds hands to sessions beyond their attached ones (the API's self-hosted workers); returns a removal. */
  addHandSource(source: HandSource): () => void;
  /** Listens to the harness's live (never stored) updates of every session, as the UI's `session-live` push has them; returns an unsubscribe. */
  onLive(listener: LiveListener): () => void;
  /** Stops the brain (runs resume at the next start) and the pushes; the store stays open. */
  close(): Promise<void>;
}

/** More hands for a session (none: an empty list). */
export type HandSource = (sessionId: string) => readonly Hand[];

/** A listener of live updates (already redacted). */
export type LiveListener = (sessionId: string, update: LiveUpdate) => void;

export function createHost(options: HostOptions): Host {
  const { store } = options;
  const liveListeners = new Set<LiveListener>();
  // Every way out of the main process — the log, pushes, RPC replies, log lines — passes the
  // redactor, which knows every stored secret's value (and ANTHROPIC_API_KEY).
  const redactor = new Redactor();
  store.useRedactor((payload) => redactor.redactDeep(payload));
  const push = (message: PushMessage) => options.push(redactor.redactDeep(message));
  const log = (message: string, error?: unknown) =>
    options.log(redactor.redact(message), error instanceof Error ? redactError(redactor, error) : redactor.redactDeep(error));
  const harnessRef: { current: Harness | null } = { current: null };
  const handSources = new Set<HandSource>();
  const credentials = new Credentials({
    vault: options.vault ?? null,
    ...(options.vaultUnavailable === undefined ? {} : { unavailable: options.vaultUnavailable }),
    redactor,
    environmentKey,
    testKey: (key) => harnessRef.current?.testKey(key) ?? Promise.resolve({ ok: false, message: 'Drover is still starting.' }),
    log,
  });
  // One record of trusted host keys for the hands and for "Test connection" in the UI.
  const knownHosts = new KnownHosts(path.join(store.dataDir, 'known-hosts.json'));
  const docker = new DockerEngine({ instance: instanceIdOf(store.dataDir) });
  // Settings → Engines (issue 22): Docker hands may run on engines of other machines.
  const engines = new EnginePool({
    store: new EngineStore(path.join(store.dataDir, 'engines.json')),
    local: docker,
    knownHosts,
    secrets: credentials,
  });
  const hands = new HandRegistry({
    store,
    docker,
    engines,
    onProgress: (sessionId, progress) => push({ push: 'hand-progress', arg: { sessionId, progress } }),
    keepAliveMs: options.keepContainersMs ?? keepContainersFromEnvironment(process.env, log),
    keepFile: path.join(store.dataDir, 'kept-containers.json'),
    secrets: credentials,
    knownHosts,
    log,
  });
  const harness = new Harness({
    store,
    keyProvider: options.keyProvider ?? (() => credentials.apiKey()),
    baseURL: options.baseURL,
    handsFor:
      options.handsFor ??
      (async (sessionId, signal) => [
        ...(await hands.handsFor(sessionId, signal)),
        ...[...handSources].flatMap((source) => source(sessionId)),
      ]),
    onLive: (sessionId, update) => {
      push({ push: 'session-live', arg: { sessionId, update } });
      if (liveListeners.size === 0) return;
      const redacted = redactor.redactDeep(update);
      for (const listener of liveListeners) {
        try {
          listener(sessionId, redacted);
        } catch (error) {
          log('A live update listener failed', error);
        }
      }
    },
    onFault: (sessionId, fault) => push({ push: 'session-fault', arg: { sessionId, message: fault.message } }),
    log,
  });
  harnessRef.current = harness;
  // Search across sessions follows the log on its own connection; without it (an index that cannot
  // be opened) everything else still works and `search` says why not.
  const search = openSearch(store, log);
  const terminals = new TerminalService({ store, hands, redactor, log });
  const handlers = createHandlers({
    store,
    terminals,
    harness,
    hands,
    credentials,
    defaultBudget: new DefaultBudget(store.dataDir, log),
    ssh: {
      test: (config) => testConnection(config, { secrets: credentials, knownHosts }),
      trust: (key) => knownHosts.trust(key),
      forget: (host, port) => knownHosts.forget(host, port),
      ...sshConfigReader(),
    },
    log,
    info: options.info,
    onSessionsChanged: (sessionId) => push({ push: 'sessions-changed', arg: { sessionId } }),
    ...(options.localApi === undefined ? {} : { localApi: options.localApi }),
    ...(search === null ? {} : { search }),
  });
  const dispatcher = createDispatcher(handlers, { error: log });
  // A connection's own pushes (a terminal's output) pass the redactor too.
  const callers = new WeakMap<RpcCaller, RpcCaller>();
  const redacting = (caller: RpcCaller): RpcCaller => {
    let wrapped = callers.get(caller);
    if (wrapped === undefined) {
      wrapped = {
        id: caller.id,
        push: (message) => caller.push(redactor.redactDeep(message)),
        onClose: (listener) => caller.onClose(listener),
      };
      callers.set(caller, wrapped);
    }
    return wrapped;
  };
  const dispatch: Dispatch = async (name, arg, caller) =>
    redactor.redactDeep(await dispatcher(name, arg, caller === undefined ? undefined : redacting(caller)));
  const unsubscribe = store.subscribeAll((sessionId, event) => push({ push: 'session-event', arg: { sessionId, event } }));
  // Containers a crash left behind go; then sessions that were mid-turn carry on from their logs —
  // once the redactor knows the stored secrets, so nothing they record can carry one.
  hands.cleanUp().catch((error: unknown) => log('Cleaning up containers left from an earlier run failed', error));
  credentials
    .start()
    .catch((error: unknown) => log('Loading the vault for redaction failed', error))
    .finally(() => resumeInterrupted(harness, log));
  return {
    dispatch,
    harness,
    hands,
    credentials,
    redactor,
    terminals,
    addHandSource(source) {
      handSources.add(source);
      return () => {
        handSources.delete(source);
      };
    },
    onLive(listener) {
      liveListeners.add(listener);
      return () => {
        liveListeners.delete(listener);
      };
    },
    async close() {
      unsubscribe();
      await terminals.closeAll();
      search?.close();
      await harness.close();
      await hands.close();
    },
  };
}

/**
 * Resumes interrupted sessions. Damage found while reading their logs (a page gone bad since the
 * store opened) is reported, not thrown: the host stays up, and every part not damaged still works.
 */
function resumeInterrupted(harness: Harness, log: (message: string, error?: unknown) => void): void {
  try {
    harness.resumeInterrupted();
  } catch (error) {
    if (isAppError(error)) log(`Drover could not resume interrupted sessions: ${error.message}`);
    else log('Drover could not resume interrupted sessions', error);
  }
}

function openSearch(store: SessionStore, log: (message: string, error?: unknown) => void): SearchIndex | null {
  try {
    return SearchIndex.open({ store, log });
  } catch (error) {
    log('The search index could not be opened; search is off until Drover restarts', error);
    return null;
  }
}

/**
 * DROVER_KEEP_CONTAINERS_MINUTES: how long hands' containers outlive a quit (reused by the next
 * start within that time). Unset or 0: removed at quit. A bad value is reported and ignored.
 */
export function keepContainersFromEnvironment(env: Record<string, string | undefined>, log: (message: string) => void): number {
  const raw = env['DROVER_KEEP_CONTAINERS_MINUTES']?.trim();
  if (!raw) return 0;
  const minutes = Number(raw);
  if (!Number.isFinite(minutes) || minutes < 0 || minutes > 7 * 24 * 60) {
    log(`DROVER_KEEP_CONTAINERS_MINUTES must be a number of minutes from 0 to 10080 (got "${raw}"); containers are removed at quit.`);
    return 0;
  }
  return minutes * 60_000;
}

/** An error for the log with its message and stack redacted (its class and cause kept). */
function redactError(redactor: Redactor, error: Error): Error {
  const copy = new Error(
    redactor.redact(error.message),
    error.cause === undefined ? undefined : { cause: redactor.redactDeep(error.cause) },
  );
  copy.name = error.name;
  if (error.stack !== undefined) copy.stack = redactor.redact(error.stack);
  return copy;
}
