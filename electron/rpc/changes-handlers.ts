/**
 * The changes view's RPC methods (issue 20): a hand's files between two events, one file's diff,
 * and putting one file back as it was at an event. They read the session's `hand.checkpoint`
 * events and the checkpoint blob store (electron/services/checkpoints/changes*.ts); only the
 * restore writes — into the hand's running container, then one `hand.checkpoint` — and a refused
 * restore (unknown hand, no running container, a turn in progress, a path out of scope) changes
 * nothing.
 */
import type Docker from 'dockerode';
import { AppError } from '#shared/errors';
import type { HandStatus } from '#shared/hands';
import type { HandlerImpl } from '#shared/rpc';
import { BlobStore } from '#services/checkpoints/blob-store';
import { changesBetween, fileDiff } from '#services/checkpoints/changes';
import { restoreFileAt } from '#services/checkpoints/changes-restore';
import { restoreSshFileAt } from '#services/checkpoints/ssh-rewind';
import type { DockerEngine } from '#services/hands/docker/engine';
import type { HandRegistry } from '#services/hands/registry';
import type { SessionStore } from '#services/session/store';

export type ChangesMethod = 'sessions-changes' | 'sessions-file-diff' | 'hands-restore-file';

export interface ChangesServices {
  store: SessionStore;
  hands: HandRegistry;
  /** Default: the data folder's checkpoint blobs. */
  blobs?: BlobStore;
  /** Default: each hand's own engine (HandRegistry.handEngine: this computer's, or another machine's, issue 22). */
  engine?: DockerEngine;
}

/** Whether a turn is running: the latest status event of the view is `session.status_running`. */
function running(store: SessionStore, sessionId: string): boolean {
  const [latest] = store.getEvents(sessionId, {
    types: ['session.status_running', 'session.status_idle', 'session.status_terminated'],
    direction: 'backward',
    limit: 1,
  });
  return latest?.type === 'session.status_running';
}

export function createChangesHandlers(services: ChangesServices): Pick<HandlerImpl, ChangesMethod> {
  const { store, hands } = services;
  const blobs = services.blobs ?? new BlobStore(store.dataDir);
  const engineOf = (sessionId: string, hand: string): DockerEngine => services.engine ?? hands.handEngine(sessionId, hand);

  const statusOf = (sessionId: string, hand: string): HandStatus => {
    const status = hands.statuses(sessionId).find((candidate) => candidate.name === hand);
    if (!status) {
      const names = hands.statuses(sessionId).map((candidate) => candidate.name);
      throw new AppError(
        'not-found',
        `This session has no hand named "${hand}"${names.length > 0 ? ` (its hands: ${names.join(', ')})` : ''}; pick one of its hands.`,
      );
    }
    return status;
  };

  const containerOf = (sessionId: string, hand: string): Docker.Container => {
    const status = statusOf(sessionId, hand);
    if (status.kind !== 'docker') {
      throw new AppError('conflict', `${hand} is an MCP server: one-file restore works on Docker and SSH hands.`);
    }
    if (status.container === null) {
      throw new AppError(
        'conflict',
        `${hand} has no running container now (it starts on its next tool call); restore the file once it runs, or fork or rewind at that event to get its files back.`,
      );
    }
    return engineOf(sessionId, hand).docker.getContainer(status.container);
  };

  return {
    'sessions-changes': async ({ sessionId, fromSeq, toSeq, hand }) => ({
      fromSeq,
      toSeq,
      hands: await changesBetween(store, blobs, (name) => engineOf(sessionId, name), sessionId, hand ?? null, fromSeq, toSeq),
    }),
    'sessions-file-diff': ({ sessionId, hand, path, fromSeq, toSeq }) =>
      fileDiff(store, blobs, engineOf(sessionId, hand), sessionId, hand, path, fromSeq, toSeq),
    'hands-restore-file': async ({ sessionId, hand, path, atSeq }) => {
      store.getSession(sessionId); // not-found for an unknown session
      if (running(store, sessionId)) {
        throw new AppError('conflict', 'A turn is running: wait until it ends (or interrupt it), then restore the file.');
      }
      if (statusOf(sessionId, hand).kind === 'ssh') {
        await hands.settled(); // a capture of the last tool call may still run
        return restoreSshFileAt({ store, access: hands.sshHand(sessionId, hand), sessionId, hand, path, atSeq });
      }
      const container = containerOf(sessionId, hand);
      return restoreFileAt({ store, blobs, engine: engineOf(sessionId, hand), container, sessionId, hand, path, atSeq });
    },
  };
}
