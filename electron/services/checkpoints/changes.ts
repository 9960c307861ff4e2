/**
 * The changes view (issue 20): which files of a hand changed between two events of a session, and
 * one file's diff. The files of a hand at event N are its last `hand.checkpoint` whose `at_seq` is
 * at or before N in the session's view — for a fork, its parent's checkpoints up to the fork point
 * count too, including one recorded after the fork point for a tool call before it (the log of the
 * fork does not hold that event, but its files are the ones the fork started from). No checkpoint
 * yet: the hand's image as it is.
 *
 * Paths one side leaves as in the image are read from the image (docker-restore.ts imageEntries)
 * when an engine is given; without one they are reported as `unknown` — never guessed.
 */
import { createTwoFilesPatch } from 'diff';
import { AppError } from '#shared/errors';
import {
  DIFF_CAP_BYTES,
  type ChangeKind,
  type CheckpointRef,
  type FileChange,
  type FileDiff,
  type FileSide,
  type HandChanges,
} from '#shared/changes';
import type { StoredEvent } from '#shared/events';
import type { DockerEngine } from '#services/hands/docker/engine';
import type { SessionStore } from '#services/session/store';
import type { BlobStore } from './blob-store.ts';
import { fileContent } from './container-io.ts';
import { imageEntries } from './docker-restore.ts';
import { prunedCheckpointIds } from './retention-log.ts';
import { diffManifests, entryMap, imagePathsFor, loadManifest, type Manifest, type ManifestEntry, type PathChange } from './manifest.ts';

type CheckpointEvent = Extract<StoredEvent, { type: 'hand.checkpoint' }>;

/** Checkpoint events read per session at most (a session with more is refused in words, not cut short silently). */
const MAX_CHECKPOINTS = 100_000;

export interface FoundCheckpoint extends CheckpointRef {
  base: string;
}

function checkpointEvents(store: SessionStore, sessionId: string): CheckpointEvent[] {
  const events = store.getEvents(sessionId, { types: ['hand.checkpoint'], limit: MAX_CHECKPOINTS });
  if (events.length >= MAX_CHECKPOINTS) {
    throw new AppError('conflict', `This session has more than ${MAX_CHECKPOINTS} checkpoints; the changes view cannot read them all.`);
  }
  return events.filter((event): event is CheckpointEvent => event.type === 'hand.checkpoint');
}

/** Every checkpoint that can stand for the files of the session's view at some event, with the event bound for each. */
function candidates(store: SessionStore, sessionId: string): Array<{ event: CheckpointEvent; sessionId: string; limit: number }> {
  const found: Array<{ event: CheckpointEvent; sessionId: string; limit: number }> = [];
  let session = store.getSession(sessionId);
  let limit = Number.POSITIVE_INFINITY;
  const seen = new Set<string>();
  const pruned = prunedCheckpointIds(store, sessionId); // thinned by storage retention: the nearest kept earlier one stands
  for (;;) {
    for (const event of checkpointEvents(store, session.id)) {
      if (event.payload.at_seq > limit || pruned.has(event.id)) continue;
      const key = `${event.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      found.push({ event, sessionId: session.id, limit });
    }
    if (session.parentId === null || session.forkSeq === null) return found;
    limit = Math.min(limit, session.forkSeq);
    session = store.getSession(session.parentId);
  }
}

function refOf(found: { event: CheckpointEvent; sessionId: string }): FoundCheckpoint {
  return {
    sessionId: found.sessionId,
    seq: found.event.seq,
    atSeq: found.event.payload.at_seq,
    manifest: found.event.payload.manifest,
    base: found.event.payload.base,
  };
}

/** The checkpoint of `hand` at event `seq` of the session's view (null: none — the hand's image). */
export function checkpointAt(store: SessionStore, sessionId: string, hand: string, seq: number): FoundCheckpoint | null {
  return pick(candidates(store, sessionId), hand, seq);
}

function pick(all: ReadonlyArray<{ event: CheckpointEvent; sessionId: string }>, hand: string, seq: number): FoundCheckpoint | null {
  let best: { event: CheckpointEvent; sessionId: string } | null = null;
  for (const found of all) {
    const payload = found.event.payload;
    if (payload.hand_id !== hand || payload.at_seq > seq) continue;
    const top = best?.event.payload.at_seq ?? -1;
    // The latest tool call; for one tool call checkpointed twice (e.g. after a restore), the later record.
    if (payload.at_seq > top || (payload.at_seq === top && best !== null && found.event.seq > best.event.seq)) best = found;
  }
  return best ? refOf(best) : null;
}

function checkRange(store: SessionStore, sessionId: string, fromSeq: number, toSeq: number): void {
  const session = store.getSession(sessionId); // not-found for an unknown session
  if (fromSeq > toSeq) {
    throw new AppError('invalid-argument', `fromSeq (${fromSeq}) is after toSeq (${toSeq}); give the earlier event first.`);
  }
  if (toSeq > session.lastSeq) {
    throw new AppError(
      'invalid-argument',
      `This session's last event is ${session.lastSeq}, so there is no event ${toSeq}; pick events up to ${session.lastSeq}.`,
    );
  }
}

function mode(entry: ManifestEntry): string {
  return entry.mode.toString(8);
}

function sideOf(entry: ManifestEntry | null, unknown: boolean): FileSide | null {
  if (unknown) return { type: 'unknown', size: 0, mode: '', hash: null, target: null };
  if (entry === null || entry.type === 'deleted') return null;
  return { type: entry.type, size: entry.size, mode: mode(entry), hash: entry.hash ?? null, target: entry.target ?? null };
}

function changeOf(kind: ChangeKind, change: PathChange): FileChange {
  // A side null in a change between two present states is the image's version, not read.
  const present = kind === 'changed' || kind === 'mode_changed';
  return {
    path: change.path,
    kind,
    fromPath: null,
    before: kind === 'added' ? null : sideOf(change.before, present && change.before === null),
    after: kind === 'deleted' ? null : sideOf(change.after, present && change.after === null),
  };
}

interface Pair {
  from: FoundCheckpoint | null;
  to: FoundCheckpoint | null;
  before: Manifest;
  after: Manifest;
}

/** The two manifests of a hand at two events, or a note saying why they cannot be compared. */
async function pairOf(blobs: BlobStore, from: FoundCheckpoint | null, to: FoundCheckpoint | null): Promise<Pair | string> {
  const base = to?.base ?? from?.base ?? null;
  if (from && to && from.base !== to.base && from.base.startsWith('ssh:')) {
    return `The hand's machine or working folder changed between these events (${from.base.slice(4)} → ${to.base.slice(4)}), so its files cannot be compared path by path.`;
  }
  if (from && to && from.base !== to.base) {
    return `The hand's container was made from another image between these events (${from.base.slice(7, 19)} → ${to.base.slice(7, 19)}), so its files cannot be compared path by path.`;
  }
  const before = from ? await loadManifest(blobs, from.manifest) : null;
  const after = to ? await loadManifest(blobs, to.manifest) : null;
  // No checkpoint on one side: the image's files (Docker), or an empty tree for a whole-tree manifest (an SSH hand's folder).
  const empty: Manifest = { version: 1, base: (after ?? before)?.base === null ? null : base, entries: [] };
  return { from, to, before: before ?? empty, after: after ?? empty };
}

/**
 * The files added, changed, deleted, renamed and mode-changed of each hand (or `hand` only)
 * between events `fromSeq` and `toSeq` of the session's view.
 */
export async function changesBetween(
  store: SessionStore,
  blobs: BlobStore,
  /** Where images are read (or each hand's engine: issue 22, hands on other machines' engines). */
  engines: DockerEngine | undefined | ((hand: string) => DockerEngine | undefined),
  sessionId: string,
  hand: string | null,
  fromSeq: number,
  toSeq: number,
): Promise<HandChanges[]> {
  checkRange(store, sessionId, fromSeq, toSeq);
  const all = candidates(store, sessionId);
  const names = hand === null ? [...new Set(all.map((found) => found.event.payload.hand_id))].sort() : [hand];
  const out: HandChanges[] = [];
  for (const name of names) {
    const engine = typeof engines === 'function' ? engines(name) : engines;
    const from = pick(all, name, fromSeq);
    const to = pick(all, name, toSeq);
    if (from === null && to === null) {
      out.push({ hand: name, from, to, files: [], note: `No checkpoint of ${name} at or before event ${toSeq}.` });
      continue;
    }
    const pair = await pairOf(blobs, from, to);
    if (typeof pair === 'string') {
      out.push({ hand: name, from, to, files: [], note: pair });
      continue;
    }
    let image: Map<string, ManifestEntry | null> | undefined;
    let note: string | null =
      from === null
        ? pair.after.base === null
          ? `Before event ${fromSeq} the hand had no checkpoint (its files then were never read): compared with an empty folder.`
          : `Before event ${fromSeq} the hand had no checkpoint: compared with its image.`
        : null;
    const base = pair.after.base;
    const needed = imagePathsFor(pair.before, pair.after);
    if (needed.length > 0 && base !== null) {
      const read = engine ? await imageEntries(engine, blobs, base, needed).catch((error: unknown) => errorOf(error)) : null;
      if (read instanceof Map) image = read;
      else {
        const why = read === null ? 'which was not read' : `which could not be read (${read.message})`;
        note = `${note ? `${note} ` : ''}${needed.length} path(s) are as in the image on one side, ${why}: shown as unknown.`;
      }
    }
    const diff = diffManifests(pair.before, pair.after, image);
    const files: FileChange[] = [
      ...diff.added.map((change) => changeOf('added', change)),
      ...diff.changed.map((change) => changeOf('changed', change)),
      ...diff.deleted.map((change) => changeOf('deleted', change)),
      ...diff.modeChanged.map((change) => changeOf('mode_changed', change)),
      ...diff.renamed.map((rename): FileChange => ({
        path: rename.to,
        kind: 'renamed',
        fromPath: rename.from,
        before: sideOf(rename.entry, false),
        after: sideOf(rename.entry, false),
      })),
    ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    out.push({ hand: name, from: strip(from), to: strip(to), files, note });
  }
  return out;
}

function errorOf(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function strip(found: FoundCheckpoint | null): CheckpointRef | null {
  if (found === null) return null;
  return { sessionId: found.sessionId, seq: found.seq, atSeq: found.atSeq, manifest: found.manifest };
}

/** The entry of `path` on each side (image paths read when an engine is given; `unknown` when not). */
async function entriesOf(
  blobs: BlobStore,
  engine: DockerEngine | undefined,
  pair: Pair,
  path: string,
): Promise<{ before: ManifestEntry | null; after: ManifestEntry | null; unknownBefore: boolean; unknownAfter: boolean }> {
  const before = entryMap(pair.before).get(path) ?? null;
  const after = entryMap(pair.after).get(path) ?? null;
  const base = pair.after.base;
  const present = (entry: ManifestEntry | null): ManifestEntry | null => (entry?.type === 'deleted' ? null : entry);
  // A side that does not name the path is as in the image — absent when the other side's entry says the image lacks it.
  const fromImage = (mine: ManifestEntry | null, other: ManifestEntry | null): boolean =>
    base !== null && mine === null && other !== null && other.added !== true;
  const needBefore = fromImage(before, after);
  const needAfter = fromImage(after, before);
  if (!(needBefore || needAfter)) return { before: present(before), after: present(after), unknownBefore: false, unknownAfter: false };
  if (!engine || base === null)
    return { before: present(before), after: present(after), unknownBefore: needBefore, unknownAfter: needAfter };
  // An image removed since (or an engine not running): said unknown, not guessed.
  const read = await imageEntries(engine, blobs, base, [path]).catch(() => null);
  if (read === null) return { before: present(before), after: present(after), unknownBefore: needBefore, unknownAfter: needAfter };
  const image = read.get(path) ?? null;
  return {
    before: present(needBefore ? image : before),
    after: present(needAfter ? image : after),
    unknownBefore: false,
    unknownAfter: false,
  };
}

async function contentOf(blobs: BlobStore, entry: ManifestEntry): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of fileContent(blobs, entry)) pieces.push(piece);
  return Buffer.concat(pieces);
}

/** Text a diff can show: no NUL in the first 8 KiB and valid UTF-8. */
export function textOf(content: Buffer): string | null {
  if (content.subarray(0, 8192).includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    return null;
  }
}

function describe(side: FileSide | null): string {
  if (side === null) return 'absent';
  if (side.type === 'unknown') return 'as in the image (not read)';
  if (side.type === 'symlink') return `a link to ${side.target ?? '?'}`;
  if (side.type === 'dir') return `a folder (mode ${side.mode})`;
  return `${side.size} bytes, mode ${side.mode}${side.hash ? `, sha256 ${side.hash.slice(0, 12)}…` : ''}`;
}

/** One path's diff between events `fromSeq` and `toSeq` of the session's view: a unified diff for text files, a summary otherwise. */
export async function fileDiff(
  store: SessionStore,
  blobs: BlobStore,
  engine: DockerEngine | undefined,
  sessionId: string,
  hand: string,
  path: string,
  fromSeq: number,
  toSeq: number,
): Promise<FileDiff> {
  checkRange(store, sessionId, fromSeq, toSeq);
  const all = candidates(store, sessionId);
  const pair = await pairOf(blobs, pick(all, hand, fromSeq), pick(all, hand, toSeq));
  if (typeof pair === 'string') throw new AppError('conflict', pair);
  const found = await entriesOf(blobs, engine, pair, path);
  const before = sideOf(found.before, found.unknownBefore);
  const after = sideOf(found.after, found.unknownAfter);
  const base = { path, before, after };
  const summary = `Before: ${describe(before)}. After: ${describe(after)}.`;
  if (found.unknownBefore || found.unknownAfter) return { ...base, kind: 'unknown', patch: null, summary };
  const textual = (entry: ManifestEntry | null): boolean => entry === null || entry.type === 'file' || entry.type === 'symlink';
  if (!textual(found.before) || !textual(found.after)) return { ...base, kind: 'not_file', patch: null, summary };
  const sameBytes =
    found.before?.type === found.after?.type && found.before?.hash === found.after?.hash && found.before?.target === found.after?.target;
  if (sameBytes) return { ...base, kind: 'same', patch: null, summary: `The content is the same. ${summary}` };
  const big = [found.before, found.after].some((entry) => entry?.type === 'file' && entry.size > DIFF_CAP_BYTES);
  if (big) {
    return { ...base, kind: 'too_big', patch: null, summary: `Over ${DIFF_CAP_BYTES / 1024 / 1024} MiB, not diffed. ${summary}` };
  }
  const text = async (entry: ManifestEntry | null): Promise<string | null> => {
    if (entry === null) return '';
    if (entry.type === 'symlink') return `→ ${entry.target ?? ''}\n`;
    return textOf(await contentOf(blobs, entry));
  };
  const [left, right] = [await text(found.before), await text(found.after)];
  if (left === null || right === null) return { ...base, kind: 'binary', patch: null, summary: `A binary file. ${summary}` };
  const patch = createTwoFilesPatch(
    found.before ? `a${path}` : '/dev/null',
    found.after ? `b${path}` : '/dev/null',
    left,
    right,
    `event ${fromSeq}`,
    `event ${toSeq}`,
    { context: 3 },
  );
  return { ...base, kind: 'text', patch, summary };
}
