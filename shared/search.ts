/**
 * Search across sessions (issue 23 item 2): the `search` and `search-status` RPC contract.
 *
 * A query is plain words (every word must occur, in any order), "quoted phrases" and word* prefixes.
 * The user's text never reaches SQLite's full-text syntax as such: each part is quoted (see
 * electron/services/search/query.ts), so `"`, `*`, `NEAR(` or emoji are searched for, never obeyed.
 * Must never import node, electron or DOM code.
 */
import { z } from 'zod';
import { EventTypeSchema } from './events.ts';
import { SessionIdSchema } from './sessions.ts';

export const SEARCH_LIMITS = { queryChars: 1000, maxHits: 200, defaultHits: 50, types: 64 } as const;

const instant = z.iso.datetime({ offset: true, message: 'must be a date and time such as 2026-12-03T14:00:00Z' });

export const SearchArgSchema = z.strictObject({
  query: z
    .string()
    .trim()
    .min(1, 'type something to search for')
    .max(SEARCH_LIMITS.queryChars, `a search is at most ${SEARCH_LIMITS.queryChars} characters`),
  /** Only this session's view: its own events and, for a fork, its parent's up to the fork point. */
  sessionId: SessionIdSchema.optional(),
  /** Only events on this hand (a tool use, its result, the hand's own events). */
  hand: z.string().min(1).max(128).optional(),
  /** Only these event types. */
  types: z.array(EventTypeSchema).min(1, 'pick at least one kind of event').max(SEARCH_LIMITS.types).optional(),
  /** Only events at or after / at or before these times. */
  from: instant.optional(),
  to: instant.optional(),
  limit: z.number().int().min(1).max(SEARCH_LIMITS.maxHits).default(SEARCH_LIMITS.defaultHits),
  /** The previous page's `nextCursor`. */
  cursor: z
    .string()
    .regex(/^\d{1,19}$/, 'must be the nextCursor of an earlier search')
    .optional(),
});
export type SearchArg = z.input<typeof SearchArgSchema>;

/** A stretch of a hit's text; `match`: a searched word. */
export const SnippetPartSchema = z.strictObject({ text: z.string(), match: z.boolean() });
export type SnippetPart = z.infer<typeof SnippetPartSchema>;

export const SearchHitSchema = z.strictObject({
  /** The session (branch) the event lives in: a fork's inherited events live in its parent. */
  sessionId: SessionIdSchema,
  sessionTitle: z.string(),
  seq: z.number().int().positive(),
  type: EventTypeSchema,
  hand: z.string().nullable(),
  ts: z.string(),
  snippet: z.array(SnippetPartSchema),
});
export type SearchHit = z.infer<typeof SearchHitSchema>;

/**
 * The index follows the log a moment behind it. `indexed`: events of the log it has read (the searchable
 * ones among them are in the index); `pending` events are not searchable yet; `state`
 * is `indexing` while it catches up (after a start, a crash or a rebuild) and `idle` otherwise.
 */
export const SearchStatusSchema = z.strictObject({
  state: z.enum(['idle', 'indexing']),
  indexed: z.number().int().nonnegative(),
  pending: z.number().int().nonnegative(),
});
export type SearchStatus = z.infer<typeof SearchStatusSchema>;

export const SearchResultSchema = z.strictObject({
  hits: z.array(SearchHitSchema),
  /** Pass as `cursor` for the next (older) hits; null: there are no more. */
  nextCursor: z.string().nullable(),
  status: SearchStatusSchema,
});
export type SearchResult = z.infer<typeof SearchResultSchema>;
