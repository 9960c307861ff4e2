/**
 * The timeline's time scale over a whole session (issue 23): how many events fall in each slice of
 * time, and where turns start, read by the store without loading the events (`sessions-time-density`).
 * Must never import node, electron or DOM code.
 */
import { z } from 'zod';
import { SessionIdSchema } from './sessions.ts';

/** At most this many slices per request (a tape is rarely wider than 4096 pixels). */
export const MAX_DENSITY_BUCKETS = 4096;

/** A time in ms since the epoch, as Date.now() gives it. */
const EpochMsSchema = z
  .number()
  .finite('must be a finite number of milliseconds since 1970')
  .min(0, 'must be a time after 1970 (ms since the epoch)')
  .max(8.64e15, 'must be a time Date can hold (ms since the epoch)');

export const TimeDensityQuerySchema = z
  .strictObject({
    sessionId: SessionIdSchema,
    buckets: z
      .number()
      .int('must be a whole number of slices')
      .min(1, 'must be at least 1 slice')
      .max(MAX_DENSITY_BUCKETS, `must be at most ${MAX_DENSITY_BUCKETS} slices; ask for a narrower range instead`),
    /** Start of the range (ms since the epoch); default the session's first event. */
    from: EpochMsSchema.optional(),
    /** End of the range (ms since the epoch, included); default the session's last event. */
    to: EpochMsSchema.optional(),
  })
  .refine((query) => query.from === undefined || query.to === undefined || query.to > query.from, {
    message: '`to` must be later than `from`',
    path: ['to'],
  });
export type TimeDensityQuery = z.infer<typeof TimeDensityQuerySchema>;

export const TimeDensitySchema = z.strictObject({
  lastSeq: z.number().int().nonnegative(),
  /** Time of the session's first and last event (null: no events). */
  firstMs: z.number().nullable(),
  lastMs: z.number().nullable(),
  /** The range counted: `buckets` slices of `bucketMs` from `from`; slice i is [from + i·bucketMs, from + (i+1)·bucketMs), the last one including `to`. */
  from: z.number(),
  to: z.number(),
  bucketMs: z.number().positive(),
  counts: z.array(z.number().int().nonnegative()),
  /** The first event of each slice (null: none), so a click on a slice can go there. */
  firstSeqs: z.array(z.number().int().positive().nullable()),
  /** The first turn start (user message) in each slice that has one: its seq, its turn number (1-based) and time. */
  turns: z.array(z.strictObject({ seq: z.number().int().positive(), turn: z.number().int().positive(), ms: z.number() })),
  /**
   * True when every count is exact. Long sessions are read by sampling timestamps and bisecting
   * wherever a slice boundary falls between two samples; past a probe budget, the events between
   * two samples that straddle slices are split between the slices of those two samples.
   */
  exact: z.boolean(),
});
export type TimeDensity = z.infer<typeof TimeDensitySchema>;
