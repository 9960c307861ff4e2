/**
 * One-file restore and "Rewind files only" for SSH hands (issue 20): the live hand's working folder
 * (or one path in it) is put back as the checkpoint at event N of the session's view has it, then
 * captured and recorded as a `hand.checkpoint` at its own seq (with `rewind` for a files-only
 * rewind), like the Docker versions (changes-restore.ts, rewind-files.ts). Only the working folder
 * is ever written; a hand with no checkpoint at or before N is refused: its files then are unknown.
 */
import { AppError } from '#shared/errors';
import type { RestoredFile } from '#shared/changes';
import type { SessionStore } from '#services/session/store';
import { checkpointAt, type FoundCheckpoint } from './changes.ts';
import type { SshFolderAccess } from './ssh-restore.ts';

function checkedTarget(
  store: SessionStore,
  sessionId: string,
  hand: string,
  atSeq: number,
  access: SshFolderAccess | null,
): FoundCheckpoint {
  const session = store.getSession(sessionId);
  if (atSeq > session.lastSeq) {
    throw new AppError(
      'invalid-argument',
      `This session's last event is ${session.lastSeq}, so there is no event ${atSeq} to restore from.`,
    );
  }
  const from = checkpointAt(store, sessionId, hand, atSeq);
  if (from === null) {
    throw new AppError(
      'conflict',
      `${hand} has no checkpoint at or before event ${atSeq} (its machine's files then were never read), so nothing can be put back from it; pick a later event.`,
    );
  }
  if (access?.checkpointBase == null) {
    throw new AppError(
      'conflict',
      `${hand} is not connected with checkpoints on now; send a message so it connects, then restore again (or fork at event ${atSeq}).`,
    );
  }
  if (from.base !== access.checkpointBase) {
    throw new AppError(
      'conflict',
      `At event ${atSeq} ${hand} kept ${from.base.slice(4)}, but now it works in ${access.checkpointBase.slice(4)}, so its files cannot be put back in place.`,
    );
  }
  return from;
}

function recordedAfter(store: SessionStore, sessionId: string, hand: string, afterSeq: number): number | null {
  const events = store.getEvents(sessionId, { types: ['hand.checkpoint'], afterSeq, limit: 100 });
  const mine = events.filter((event) => event.type === 'hand.checkpoint' && event.payload.hand_id === hand);
  return mine.at(-1)?.seq ?? null;
}

/** Puts one path of an SSH hand's folder back as it was at event `atSeq`. */
export async function restoreSshFileAt(request: {
  store: SessionStore;
  access: SshFolderAccess | null;
  sessionId: string;
  hand: string;
  path: string;
  atSeq: number;
}): Promise<RestoredFile> {
  const { store, access, sessionId, hand, atSeq } = request;
  const path = request.path.replace(/\/+$/, '');
  const from = checkedTarget(store, sessionId, hand, atSeq, access);
  const before = store.getSession(sessionId).lastSeq;
  try {
    await access?.restoreFiles({ target: from.manifest, path });
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('conflict', `Could not restore ${path}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const checkpointSeq = recordedAfter(store, sessionId, hand, before);
  const ref = { sessionId: from.sessionId, seq: from.seq, atSeq: from.atSeq, manifest: from.manifest };
  return {
    path,
    from: ref,
    checkpointSeq,
    summary:
      checkpointSeq === null
        ? `${path} already was as at event ${atSeq} (from event ${from.atSeq}'s checkpoint); nothing changed.`
        : `${path} is back as it was at event ${atSeq} (from event ${from.atSeq}'s checkpoint).`,
  };
}

/** A checked files-only rewind of one SSH hand, applied by `run` (after every hand was checked). */
export interface SshRewindPlan {
  name: string;
  run(): Promise<string>;
}

/**
 * Checks a files-only rewind of an SSH hand to event `atSeq`: a note when there is nothing to do
 * (no checkpoint in the log — turn-end snapshots only — or already as at `atSeq`), else a plan.
 */
export function planSshRewind(
  store: SessionStore,
  sessionId: string,
  hand: string,
  atSeq: number,
  access: SshFolderAccess | null,
): SshRewindPlan | string {
  const latest = checkpointAt(store, sessionId, hand, Number.MAX_SAFE_INTEGER);
  if (latest === null) return `${hand} is an SSH machine without checkpoints in this session: its files are not rewound.`;
  const target = checkedTarget(store, sessionId, hand, atSeq, access);
  if (target.manifest === latest.manifest) return `${hand}'s files already are as at event ${atSeq}.`;
  return {
    name: hand,
    run: async () => {
      try {
        await access?.restoreFiles({
          target: target.manifest,
          rewind: { keep: 'files', session_id: target.sessionId, at_seq: atSeq },
        });
      } catch (error) {
        if (error instanceof AppError) throw error;
        throw new AppError(
          'conflict',
          `Could not put ${hand}'s working folder back as at event ${atSeq}: ${error instanceof Error ? error.message : String(error)}. The folder may be partly restored; rewind "Conversation and files" to event ${atSeq} to put it back whole.`,
          { cause: error },
        );
      }
      return `${hand}'s working folder is back as at event ${atSeq} (from event ${target.atSeq}'s checkpoint).`;
    },
  };
}
