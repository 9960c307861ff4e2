/**
 * Everything a UI host (the Electron main process, serve mode) runs behind its transport: the
 * brain over the session store, the handler table, the dispatcher, and the pushes to the UI.
 * One place, so both hosts behave the same and each stays a thin adapter.
 *
 * It must never push or return a secret: pushes carry events and live deltas only.
 */
import path from 'node:path';
import type { AppInfo, PushMessage } from '#shared/rpc';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import type { Hand } from '#services/hands/hand';
import { HandRegistry } from '#services/hands/registry';
import { Harness, type KeyProvider } from '#services/harness/harness';
import type { SessionStore } from '#services/session/store';
import { createDispatcher, type Dispatch } from './dispatch.ts';
import { createHandlers } from './handlers.ts';

export interface HostOptions {
  store: SessionStore;
  info: AppInfo;
  /** Sends a push to every connected UI. */
  push: (message: PushMessage) => void;
  keyProvider: KeyProvider;
  baseURL?: string | undefined;
  /** Replaces the session's hands (tests with in-process hands); by default each session's attached hands. */
  handsFor?: (sessionId: string) => readonly Hand[] | Promise<readonly Hand[]>;
  /** Containers outlive a quit this long, to be reused by the next start (default: DROVER_KEEP_CONTAINERS_MINUTES, else 0: removed at quit). */
  keepContainersMs?: number;
  log: (message: string, error?: unknown) => void;
}

export interface Host {
  dispatch: Dispatch;
  harness: Harness;
  hands: HandRegistry;
  /** Stops the brain (runs resume at the next start) and the pushes; the store stays open. */
  close(): Promise<void>;
}

export function createHost(options: HostOptions): Host {
  const { store, push, log } = options;
  const hands = new HandRegistry({
    store,
    docker: new DockerEngine({ instance: instanceIdOf(store.dataDir) }),
    onProgress: (sessionId, progress) => push({ push: 'hand-progress', arg: { sessionId, progress } }),
    keepAliveMs: options.keepContainersMs ?? keepContainersFromEnvironment(process.env, log),
    keepFile: path.join(store.dataDir, 'kept-containers.json'),
    log,
  });
  const harness = new Harness({
    store,
    keyProvider: options.keyProvider,
    baseURL: options.baseURL,
    handsFor: options.handsFor ?? ((sessionId) => hands.handsFor(sessionId)),
    onLive: (sessionId, update) => push({ push: 'session-live', arg: { sessionId, update } }),
    log,
  });
  const handlers = createHandlers({
    store,
    harness,
    hands,
    log,
    info: options.info,
    onSessionsChanged: (sessionId) => push({ push: 'sessions-changed', arg: { sessionId } }),
  });
  const dispatch = createDispatcher(handlers, { error: log });
  const unsubscribe = store.subscribeAll((sessionId, event) => push({ push: 'session-event', arg: { sessionId, event } }));
  // Containers a crash left behind go; then sessions that were mid-turn carry on from their logs.
  hands.cleanUp().catch((error: unknown) => log('Cleaning up containers left from an earlier run failed', error));
  harness.resumeInterrupted();
  return {
    dispatch,
    harness,
    hands,
    async close() {
      unsubscribe();
      await harness.close();
      await hands.close();
    },
  };
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
