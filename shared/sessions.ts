/**
 * Session-level contract types: summaries, the fork tree, and event queries.
 * Pure data + zod; must never import node, electron or DOM code.
 */
import { z } from 'zod';
import { EventTypeSchema } from './events.ts';

export const SessionIdSchema = z.uuid({ message: 'must be a session id (a uuid)' });

export const SessionTitleSchema = z
  .string()
  .trim()
  .min(1, 'a session needs a title')
  .max(200, 'a title is at most 200 characters');

export const SessionSummarySchema = z.strictObject({
  id: SessionIdSchema,
  title: z.string(),
  createdAt: z.string(),
  /** The session this one was forked from, or null for a root session. */
  parentId: SessionIdSchema.nullable(),
  /** The last parent event this session inherits (0 = none), or null for a root session. */
  forkSeq: z.number().int().nonnegative().nullable(),
  /** Seq of the last event in this session's view (inherited events count); 0 when empty. */
  lastSeq: z.number().int().nonnegative(),
  /** Time of the last event in this session's view, or its creation time when it has none. */
  lastActivityAt: z.string(),
});
export type SessionSummary = z.infer<typeof SessionSummarySchema>;

export const SessionTreeNodeSchema = z.strictObject({
  id: SessionIdSchema,
  title: z.string(),
  createdAt: z.string(),
  parentId: SessionIdSchema.nullable(),
  forkSeq: z.number().int().nonnegative().nullable(),
  depth: z.number().int().nonnegative(),
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
