/**
 * Threads (issue 21): a session's primary thread and the threads its coordinator starts, each a
 * brain with its own context built from its own events in the one log. Names follow Managed Agents
 * (`session_thread_id`, `session.thread_created`, `agent.thread_message_sent` / `_received`,
 * `session.thread_status_*`); the roster and hand access are Drover's.
 *
 * An event without `session_thread_id` belongs to the primary thread, so logs written before
 * threads read exactly as they did. Pure data + zod: never imports node, electron or DOM code.
 */
import { z } from 'zod';
import { PolicyEntrySchema } from './guardrails.ts';

/** A thread's id, as Managed Agents writes it: `sthr_` and 8-40 letters or digits. */
export const SessionThreadIdSchema = z
  .string()
  .regex(/^sthr_[A-Za-z0-9]{8,40}$/, 'a thread id is "sthr_" followed by 8-40 letters or digits (see session.thread_created)');
export type SessionThreadId = z.infer<typeof SessionThreadIdSchema>;

/** The roster's limits, exported so a form (or the API) can say them before asking. */
export const THREAD_LIMITS = {
  /** Threads alive (not terminated) at once, the primary not counted. */
  maxAlive: 25,
  agents: 32,
  taskChars: 100_000,
  messageChars: 100_000,
  agentNameChars: 64,
} as const;

/** How a thread holds one of its parent's hands: the same one, the same one read-only, or a fresh copy. */
export const HandAccessModeSchema = z.enum(['shared', 'read_only', 'fresh']);
export type HandAccessMode = z.infer<typeof HandAccessModeSchema>;

/** The name a roster agent goes by (the `agent` of `thread_start`). `self` names a copy of the coordinator. */
export const RosterAgentNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'an agent name is 1-64 letters, digits, underscores and hyphens');

/**
 * An agent the coordinator may start as a thread. Absent fields are the session's own (model,
 * system prompt, all tools, the session's policies).
 */
export const RosterAgentSchema = z.strictObject({
  name: RosterAgentNameSchema,
  model: z.string().trim().min(1, 'choose a model').max(200).optional(),
  system: z.string().max(400_000).optional(),
  /** The tool names (as the model sees them: `<hand>__<tool>`, or a custom tool's; `<hand>__*`: all of that hand's) it may use; absent: all. */
  tools: z.array(z.string().min(1).max(256)).max(512).optional(),
  /** Permission policies for its tool uses, over the session's (the latest entry for a hand/tool wins). */
  policies: z.array(PolicyEntrySchema).max(512).optional(),
});
export type RosterAgent = z.output<typeof RosterAgentSchema>;

export const RosterSchema = z
  .strictObject({
    agents: z.array(RosterAgentSchema).max(THREAD_LIMITS.agents, `a roster has at most ${THREAD_LIMITS.agents} agents`),
    /** The coordinator may start copies of itself (agent name `self`). */
    self_copies: z.boolean(),
  })
  .refine((roster) => new Set(roster.agents.map((agent) => agent.name)).size === roster.agents.length, {
    message: 'two roster agents have the same name: give each its own',
    path: ['agents'],
  })
  .refine((roster) => roster.agents.every((agent) => agent.name !== 'self'), {
    message: '"self" names a copy of the coordinator (self_copies): give the agent another name',
    path: ['agents'],
  });
export type Roster = z.output<typeof RosterSchema>;

/** The agent name a copy of the coordinator runs under. */
export const SELF_AGENT = 'self';

/** Adds the optional `session_thread_id` (absent: the primary thread) to an event payload's shape. */
export function threadScoped<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  return z.strictObject({ ...shape, session_thread_id: SessionThreadIdSchema.optional() });
}

const blocks = z.array(
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('text'), text: z.string() }),
    z.strictObject({
      type: z.literal('image'),
      source: z.strictObject({
        type: z.literal('base64'),
        media_type: z.enum(['image/png', 'image/jpeg', 'image/gif', 'image/webp']),
        data: z.string().min(1),
      }),
    }),
  ]),
);

const threadHand = z.strictObject({ hand: z.string().min(1).max(128), mode: HandAccessModeSchema });

/** The thread events' payload schemas (merged into `eventPayloadSchemas`). */
export const threadEventPayloadSchemas = {
  'session.thread_created': z.strictObject({
    session_thread_id: SessionThreadIdSchema,
    agent_name: z.string().min(1).max(THREAD_LIMITS.agentNameChars),
    /** The thread that started it; absent: the primary. */
    parent_thread_id: SessionThreadIdSchema.optional(),
    task: z.string().max(THREAD_LIMITS.taskChars),
    hands: z.array(threadHand).max(64),
  }),
  'session.thread_status_running': z.strictObject({ session_thread_id: SessionThreadIdSchema }),
  // 'session.thread_status_idle' is in events.ts: its stop_reason is the session's StopReasonSchema.
  'session.thread_status_terminated': z.strictObject({ session_thread_id: SessionThreadIdSchema, reason: z.string().optional() }),
  /** A message one thread sent another (always recorded with its `_received` twin, in one transaction). */
  'agent.thread_message_sent': z.strictObject({
    /** The sender; absent: the primary. */
    session_thread_id: SessionThreadIdSchema.optional(),
    /** The receiver; absent: the primary. */
    to_thread_id: SessionThreadIdSchema.optional(),
    content: blocks.min(1),
  }),
  'agent.thread_message_received': z.strictObject({
    /** The receiver; absent: the primary. */
    session_thread_id: SessionThreadIdSchema.optional(),
    /** The sender; absent: the primary. */
    from_thread_id: SessionThreadIdSchema.optional(),
    content: blocks.min(1),
  }),
  /**
   * A thread was archived (through the API): shown as archived from here on, in this log and in forks taken after it.
   * Only a thread other than the primary that is not running; it changes nothing the threads do.
   */
  'session.thread_archived': z.strictObject({ session_thread_id: SessionThreadIdSchema }),
  /** The session's roster from now on (the latest wins; forks inherit it). */
  'session.roster_set': RosterSchema,
  /** A thread was given (or gave back) one of the session's hands; who holds which hand is a fold of these. */
  'hand.thread_access': z.strictObject({
    hand: z.string().min(1).max(128),
    session_thread_id: SessionThreadIdSchema,
    mode: HandAccessModeSchema,
    action: z.enum(['granted', 'returned']),
    /** For `fresh`: the name of the new hand the thread works on. */
    fresh_hand: z.string().min(1).max(128).optional(),
  }),
} as const;
