/**
 * `sessions-rewind` (issue 20: rewind the conversation, the files, or both). 'both' is the rewind
 * as before: a new branch from event N, whose Docker hands start from the checkpoint at or before N.
 * 'conversation' also records, in the new branch, the files the left branch has now
 * (checkpoints/rewind-files.ts); 'files' makes no branch and puts the running containers' files
 * back as at N. Every choice is in the log as events, so forks inherit it and wakes derive from it.
 */
import { AppError } from '#shared/errors';
import type { HandlerImpl } from '#shared/rpc';
import type { SessionSummary, StoredSession } from '#shared/sessions';
import { BlobStore } from '#services/checkpoints/blob-store';
import { keepFilesInBranch, rewindFilesInPlace, type RewindFilesServices } from '#services/checkpoints/rewind-files';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import type { HandRegistry } from '#services/hands/registry';
import type { Harness } from '#services/harness/harness';
import type { SessionStore } from '#services/session/store';

export interface RewindServices {
  store: SessionStore;
  harness: Pick<Harness, 'isRunning' | 'interrupt'>;
  hands: Pick<HandRegistry, 'statuses' | 'settled'> & Partial<Pick<HandRegistry, 'sshHand' | 'handEngine'>>;
  summarize(session: StoredSession): SessionSummary;
  onSessionsChanged?: ((sessionId: string) => void) | undefined;
  log?: ((message: string, error?: unknown) => void) | undefined;
  blobs?: BlobStore;
  engine?: DockerEngine;
}

/** How long a 'conversation' rewind waits for the interrupted turn to stop before it reads the files it keeps. */
const STOP_WAIT_MS = 30_000;

async function stopped(harness: RewindServices['harness'], sessionId: string): Promise<void> {
  const until = Date.now() + STOP_WAIT_MS;
  while (harness.isRunning(sessionId) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
}

export function createRewindHandler(services: RewindServices): Pick<HandlerImpl, 'sessions-rewind'> {
  const { store, harness, hands, summarize, onSessionsChanged, log } = services;
  const files: RewindFilesServices = {
    store,
    blobs: services.blobs ?? new BlobStore(store.dataDir),
    engine: services.engine ?? new DockerEngine({ instance: instanceIdOf(store.dataDir) }),
    // Each Docker hand's own engine (another machine's, issue 22), unless one is given (tests).
    ...(services.engine === undefined && hands.handEngine ? { engineOf: hands.handEngine.bind(hands) } : {}),
    statuses: (sessionId) => hands.statuses(sessionId),
    settled: () => hands.settled(),
    sshHand: (sessionId, name) => hands.sshHand?.(sessionId, name) ?? null,
  };
  return {
    'sessions-rewind': async ({ sessionId, atSeq, keep = 'both' }) => {
      if (keep === 'files') {
        store.getSession(sessionId); // not-found for an unknown session
        if (harness.isRunning(sessionId)) {
          throw new AppError(
            'conflict',
            'Claude is working in this session: stop it (or wait until the turn ends), then rewind the files.',
          );
        }
        for (const note of await rewindFilesInPlace(files, sessionId, atSeq)) log?.(`Session ${sessionId}: ${note}`);
        onSessionsChanged?.(store.getSession(sessionId).conversationId);
        return summarize(store.getSession(sessionId));
      }
      const source = store.getSession(sessionId);
      if (atSeq > source.lastSeq) {
        // Checked before the turn is stopped: a refused rewind changes nothing.
        throw new AppError(
          'invalid-argument',
          `Cannot rewind "${source.title}" to event ${atSeq}: it has events 1 to ${source.lastSeq}. Pick an event in that range.`,
        );
      }
      // Rewinding means the agent went the wrong way: stop it there rather than let it go on
      // spending on a branch the user has just left.
      if (harness.isRunning(sessionId)) {
        harness.interrupt(sessionId, `Rewound to event ${atSeq}: the conversation continues on a new branch.`);
        // The files kept are the ones the stopped turn left.
        if (keep === 'conversation') await stopped(harness, sessionId);
      }
      const branch = store.rewind(sessionId, atSeq);
      if (keep === 'conversation') {
        const kept = await keepFilesInBranch(files, sessionId, branch.id);
        if (kept.length > 0) log?.(`Session ${branch.id}: kept the files of ${kept.join(', ')} from the branch it left.`);
      }
      onSessionsChanged?.(branch.conversationId);
      onSessionsChanged?.(branch.id);
      return summarize(branch);
    },
  };
}
