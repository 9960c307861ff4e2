/**
 * A session's hands as the UI keeps them: the list from 'hands-list' (refreshed whenever a
 * `hand.*` event is recorded for the session), the live provisioning progress from the
 * 'hand-progress' push, and attach / detach.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { HandProgress, HandSpecInput, HandStatus } from '#shared/hands';
import type { SecretMeta } from '#shared/vault';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';

export interface SessionHands {
  /** null until the first list arrives. */
  hands: readonly HandStatus[] | null;
  /** Live progress per hand name, while the hand starts. */
  progress: ReadonlyMap<string, HandProgress>;
  /** Why the list could not be loaded (cleared by the next list that loads). */
  loadError: string | null;
  /** Adds a hand; rejects with the RPC error (the caller shows it next to its form). */
  attach: (hand: HandSpecInput) => Promise<void>;
  /** Removes a hand; rejects with the RPC error. */
  detach: (name: string) => Promise<void>;
}

/** A hand whose status is settled needs no progress bar; neither does a hand no longer there. */
const SETTLED = new Set<HandStatus['state']>(['ready', 'failed']);

export function useHands(transport: Transport, sessionId: string): SessionHands {
  const [hands, setHands] = useState<readonly HandStatus[] | null>(null);
  const [progress, setProgress] = useState<ReadonlyMap<string, HandProgress>>(new Map());
  const [loadError, setLoadError] = useState<string | null>(null);
  /** Lists apply in the order their requests started: a slow, older answer never overwrites a newer one. */
  const started = useRef(0);
  const applied = useRef(0);
  const currentSession = useRef(sessionId);

  const apply = useCallback((ticket: number, forSession: string, list: readonly HandStatus[]) => {
    if (forSession !== currentSession.current || ticket <= applied.current) return;
    applied.current = ticket;
    setHands(list);
    setProgress((current) => withoutSettled(current, list));
  }, []);

  const refresh = useCallback(async () => {
    const ticket = ++started.current;
    try {
      apply(ticket, sessionId, await transport.call('hands-list', { sessionId }));
      if (sessionId === currentSession.current) setLoadError(null);
    } catch (reason) {
      if (sessionId === currentSession.current) setLoadError(messageOf(reason));
    }
  }, [transport, sessionId, apply]);

  useEffect(() => {
    currentSession.current = sessionId;
    // eslint-disable-next-line react-hooks/set-state-in-effect -- a new session's subscription starts from nothing; what it shows comes from the host
    setHands(null);
    setProgress(new Map());
    setLoadError(null);
    const offEvent = transport.on('session-event', ({ sessionId: id, event }) => {
      if (id !== sessionId || !event.type.startsWith('hand.')) return;
      if (event.type === 'hand.ready' || event.type === 'hand.failed' || event.type === 'hand.detached') {
        const name = event.payload.hand_id;
        setProgress((current) => withoutHand(current, name));
      }
      void refresh();
    });
    const offProgress = transport.on('hand-progress', ({ sessionId: id, progress: update }) => {
      if (id === sessionId) setProgress((current) => new Map(current).set(update.hand_id, update));
    });
    void refresh();
    return () => {
      offEvent();
      offProgress();
    };
  }, [transport, sessionId, refresh]);

  const attach = useCallback(
    async (hand: HandSpecInput) => {
      const ticket = ++started.current;
      apply(ticket, sessionId, await transport.call('hands-attach', { sessionId, hand }));
    },
    [transport, sessionId, apply],
  );

  const detach = useCallback(
    async (name: string) => {
      const ticket = ++started.current;
      apply(ticket, sessionId, await transport.call('hands-detach', { sessionId, name }));
    },
    [transport, sessionId, apply],
  );

  return { hands, progress, loadError, attach, detach };
}

function withoutSettled(progress: ReadonlyMap<string, HandProgress>, list: readonly HandStatus[]): ReadonlyMap<string, HandProgress> {
  const starting = new Set(list.filter((hand) => !SETTLED.has(hand.state)).map((hand) => hand.name));
  if ([...progress.keys()].every((name) => starting.has(name))) return progress;
  return new Map([...progress].filter(([name]) => starting.has(name)));
}

function withoutHand(progress: ReadonlyMap<string, HandProgress>, name: string): ReadonlyMap<string, HandProgress> {
  if (!progress.has(name)) return progress;
  const next = new Map(progress);
  next.delete(name);
  return next;
}

export interface DockerStatus {
  available: boolean;
  /** Why it does not answer and what to do, in the main process's words. */
  reason: string | null;
}

/** Whether the Docker engine answers, asked again whenever `active` turns true (it may have started since). */
export function useDockerStatus(transport: Transport, active = true): DockerStatus | null {
  const [docker, setDocker] = useState<DockerStatus | null>(null);
  useEffect(() => {
    if (!active) return;
    let current = true;
    transport.call('docker-status', undefined).then(
      (status) => {
        if (current) setDocker(status);
      },
      (reason: unknown) => {
        if (current) setDocker({ available: false, reason: messageOf(reason) });
      },
    );
    return () => {
      current = false;
    };
  }, [transport, active]);
  return docker;
}

/**
 * The vault's credentials (metadata only), asked again whenever `active` turns true — a token
 * may have been added in Settings since. Null when there is no vault (public repositories only).
 */
export function useCredentials(transport: Transport, active = true): readonly SecretMeta[] | null {
  const [credentials, setCredentials] = useState<readonly SecretMeta[] | null>(null);
  useEffect(() => {
    if (!active) return;
    let current = true;
    transport.call('secrets-list', undefined).then(
      (list) => {
        if (current) setCredentials(list);
      },
      () => {
        if (current) setCredentials(null);
      },
    );
    return () => {
      current = false;
    };
  }, [transport, active]);
  return credentials;
}
