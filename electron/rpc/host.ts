/**
 * Everything a UI host (the Electron main process, serve mode) runs behind its transport: the
 * brain over the session store, the handler table, the dispatcher, and the pushes to the UI.
 * One place, so both hosts behave the same and each stays a thin adapter.
 *
 * It must never push or return a secret: pushes carry events and live deltas only.
 */
import type { AppInfo, PushMessage } from '#shared/rpc';
import type { Hand } from '#services/hands/hand';
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
  handsFor?: (sessionId: string) => readonly Hand[] | Promise<readonly Hand[]>;
  log: (message: string, error?: unknown) => void;
}

export interface Host {
  dispatch: Dispatch;
  harness: Harness;
  /** Stops the brain (runs resume at the next start) and the pushes; the store stays open. */
  close(): Promise<void>;
}

export function createHost(options: HostOptions): Host {
  const { store, push, log } = options;
  const harness = new Harness({
    store,
    keyProvider: options.keyProvider,
    baseURL: options.baseURL,
    ...(options.handsFor ? { handsFor: options.handsFor } : {}),
    onLive: (sessionId, update) => push({ push: 'session-live', arg: { sessionId, update } }),
    log,
  });
  const handlers = createHandlers({
    store,
    harness,
    info: options.info,
    onSessionsChanged: (sessionId) => push({ push: 'sessions-changed', arg: { sessionId } }),
  });
  const dispatch = createDispatcher(handlers, { error: log });
  const unsubscribe = store.subscribeAll((sessionId, event) => push({ push: 'session-event', arg: { sessionId, event } }));
  // Sessions that were mid-turn when Drover last stopped carry on from their logs.
  harness.resumeInterrupted();
  return {
    dispatch,
    harness,
    async close() {
      unsubscribe();
      await harness.close();
    },
  };
}
