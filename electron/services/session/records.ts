/**
 * The store's in-memory view of a session: its record (cached per id), its lineage — the segments
 * of its ancestors' events it reads up to each fork point, then its own — and the summary the
 * rest of the app sees.
 *
 * Nothing here touches the database: a record is built from a row the store has read, and it must
 * never disagree with that row about where a session's view comes from.
 */
import type { SessionKind, StoredSession } from '#shared/sessions';

export const SEQ_MAX = Number.MAX_SAFE_INTEGER;

/** One stretch of a session's view: events of `sessionPk` with from ≤ seq ≤ to. */
export interface Segment {
  sessionPk: number;
  from: number;
  to: number;
}

export interface SessionRecord {
  pk: number;
  id: string;
  title: string;
  createdAt: number;
  kind: SessionKind;
  /** Its conversation: itself, or for a rewind its parent's conversation. */
  conversationId: string;
  /** For a conversation: the branch it shows (null: itself). Unused on a rewind. */
  currentId: string | null;
  parentId: string | null;
  forkSeq: number | null;
  lastSeq: number;
  lastTs: number;
  lineage: Segment[];
  /** The last event of its view that came from an imported file (see StoredSession.importedSeq). */
  importedSeq?: number;
}

export interface SessionRow {
  pk: number;
  id: string;
  title: string;
  created_at: number;
  kind: SessionKind;
  current_id: string | null;
  parent_pk: number | null;
  parent_id: string | null;
  fork_seq: number | null;
  last_seq: number | null;
  last_ts: string | null;
  imported_seq: number | null;
}

export function rootRecord(
  fields: Omit<SessionRecord, 'parentId' | 'forkSeq' | 'lineage' | 'kind' | 'conversationId' | 'currentId'>,
): SessionRecord {
  return {
    ...fields,
    kind: 'root',
    conversationId: fields.id,
    currentId: null,
    parentId: null,
    forkSeq: null,
    lineage: lineageOf(fields.pk),
  };
}

/**
 * A session's view as segments: a root session is its own events; a fork is its parent's
 * view clipped at the fork point, followed by its own events.
 */
export function lineageOf(sessionPk: number, fork?: { parent: readonly Segment[]; atSeq: number }): Segment[] {
  const own: Segment = { sessionPk, from: fork === undefined ? 1 : fork.atSeq + 1, to: SEQ_MAX };
  if (fork === undefined) return [own];
  const inherited = fork.parent
    .filter((segment) => segment.from <= fork.atSeq)
    .map((segment) => ({ ...segment, to: Math.min(segment.to, fork.atSeq) }));
  return [...inherited, own];
}

export function summaryOf(record: SessionRecord): StoredSession {
  return {
    id: record.id,
    title: record.title,
    createdAt: new Date(record.createdAt).toISOString(),
    kind: record.kind,
    conversationId: record.conversationId,
    currentBranchId: record.kind === 'rewind' ? null : (record.currentId ?? record.id),
    parentId: record.parentId,
    forkSeq: record.forkSeq,
    lastSeq: record.lastSeq,
    lastActivityAt: new Date(record.lastTs).toISOString(),
    ...(record.importedSeq === undefined ? {} : { importedSeq: record.importedSeq }),
  };
}
