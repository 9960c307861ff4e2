/**
 * Session-level contract types: summaries, the fork tree, and event queries.
 * Pure data + zod; must never import node, electron or DOM code.
 */
import { z } from 'zod';
import { EventTypeSchema, OutcomeResultSchema } from './events.ts';

export const SessionIdSchema = z.uuid({ message: 'must be a session id (a uuid)' });

/** How long a session's title can be. */
export const MAX_TITLE_CHARS = 200;

/** Control characters (BEL, ESC, …) and bidi embeddings/overrides/isolates, which make a title lie about its text. */
const TITLE_FORBIDDEN = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;

export const SessionTitleSchema = z
  .string()
  .trim()
  .min(1, 'a session needs a title')
  .max(MAX_TITLE_CHARS, `a title is at most ${MAX_TITLE_CHARS} characters`)
  .refine((title) => !TITLE_FORBIDDEN.test(title), 'a title cannot contain control characters or text-direction overrides');

/**
 * How a session came to be: `root` (created or imported), `fork` (a new session from another's
 * event; listed on its own), or `rewind` (a branch of the same conversation: "continue from
 * event k", with the later events kept on the branch it was taken from).
 */
export const SessionKindSchema = z.enum(['root', 'fork', 'rewind']);
export type SessionKind = z.infer<typeof SessionKindSchema>;

/** What the log says the session is doing: its latest status event (`new`: none yet). */
export const SessionStatusSchema = z.enum(['new', 'running', 'idle', 'error', 'terminated']);
export type SessionStatus = z.infer<typeof SessionStatusSchema>;

const sessionFields = {
  id: SessionIdSchema,
  title: z.string(),
  createdAt: z.string(),
  kind: SessionKindSchema,
  /** The session this one was forked from, or null for a root session. */
  parentId: SessionIdSchema.nullable(),
  /** The last parent event this session inherits (0 = none), or null for a root session. */
  forkSeq: z.number().int().nonnegative().nullable(),
  /**
   * The conversation it belongs to: its nearest ancestor-or-self that is not a rewind. The
   * sidebar lists conversations; rewinds are branches inside one.
   */
  conversationId: SessionIdSchema,
  /** For a conversation (root or fork): the branch it shows now (itself when never rewound); else null. */
  currentBranchId: SessionIdSchema.nullable(),
  /** Seq of the last event in this session's view (inherited events count); 0 when empty. */
  lastSeq: z.number().int().nonnegative(),
  /** Time of the last event in this session's view, or its creation time when it has none. */
  lastActivityAt: z.string(),
  /**
   * Set when events of its view came from an imported file: the last such event (1…importedSeq).
   * Their hands stay off until the user reviews each (see `hands-approve`). Absent otherwise.
   */
  importedSeq: z.number().int().positive().optional(),
};

/** A session as the store keeps it (no derived figures). */
export const StoredSessionSchema = z.strictObject(sessionFields);
export type StoredSession = z.infer<typeof StoredSessionSchema>;

/**
 * Where the session's outcome stands (null when none is defined): the latest verdict, or
 * `evaluating` while the grader runs, or null before the first evaluation; `iterations` counts
 * the evaluations finished for this outcome (e.g. "satisfied after 2 iterations").
 */
export const OutcomeSummarySchema = z.strictObject({
  description: z.string(),
  maxIterations: z.number().int().positive(),
  iterations: z.number().int().nonnegative(),
  state: z.union([OutcomeResultSchema, z.literal('evaluating')]).nullable(),
});
export type OutcomeSummary = z.infer<typeof OutcomeSummarySchema>;

export const SessionSummarySchema = z.strictObject({
  ...sessionFields,
  status: SessionStatusSchema,
  /** Why it last stopped when that was not a normal end of turn (e.g. `max_tokens`), else null. */
  stopReason: z.string().nullable(),
  /** Estimated cost in US dollars of the model requests in its view (priced models only). */
  costUsd: z.number().nonnegative(),
  outcome: OutcomeSummarySchema.nullable(),
});
export type SessionSummary = z.infer<typeof SessionSummarySchema>;

export const SessionTreeNodeSchema = z.strictObject({
  id: SessionIdSchema,
  title: z.string(),
  createdAt: z.string(),
  kind: SessionKindSchema,
  parentId: SessionIdSchema.nullable(),
  forkSeq: z.number().int().nonnegative().nullable(),
  depth: z.number().int().nonnegative(),
  lastSeq: z.number().int().nonnegative(),
  lastActivityAt: z.string(),
});
export type SessionTreeNode = z.infer<typeof SessionTreeNodeSchema>;

export const MAX_EVENTS_PER_QUERY = 10_000;

/**
 * A positional slice of a session's events. Results are always in ascending `seq` order;
 * `direction` says which end of the (afterSeq, beforeSeq) window `limit` keeps:
 * 'forward' the first events after `afterSeq`, 'backward' the last events before `beforeSeq`.
 */
export const EventQuerySchema = z.strictObject({
  afterSeq: z.number().int().nonnegative().optional(),
  beforeSeq: z.number().int().positive().optional(),
  limit: z.number().int().positive().max(MAX_EVENTS_PER_QUERY).optional(),
  types: z.array(EventTypeSchema).min(1).optional(),
  direction: z.enum(['forward', 'backward']).optional(),
});
export type EventQuery = z.infer<typeof EventQuerySchema>;

/**
 * Every event's type in seq order, compact: `codes[i]` indexes `types` for event i + 1. Enough
 * to draw a timeline of a 100k-event session and to filter or step by type without its payloads.
 */
export const SessionTimelineSchema = z.strictObject({
  lastSeq: z.number().int().nonnegative(),
  types: z.array(EventTypeSchema),
  codes: z.array(z.number().int().nonnegative()),
});
export type SessionTimeline = z.infer<typeof SessionTimelineSchema>;

/**
 * "2 branches and 1 fork": what continues from a session. A rewind is a branch of the same
 * conversation, a fork a new session; the words are used this way everywhere.
 */
export function describeDescendants(sessions: readonly { kind: SessionKind }[]): string {
  const branches = sessions.filter((each) => each.kind === 'rewind').length;
  const forks = sessions.length - branches;
  const parts = [
    branches > 0 ? `${branches} ${branches === 1 ? 'branch' : 'branches'}` : null,
    forks > 0 ? `${forks} ${forks === 1 ? 'fork' : 'forks'}` : null,
  ];
  return parts.filter((part) => part !== null).join(' and ');
}
