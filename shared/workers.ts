/**
 * Self-hosted workers as the UI sees them (issue 22): a session's worker in the Hands panel, and
 * Settings → Local API's environment keys. Never a key's value, except once in the answer to the
 * user's own "Make key" click (`environment-key-make`).
 * Must never import node, electron or DOM code.
 */
import { z } from 'zod';

/**
 * Where a session's work item stands: `waiting` for a worker to poll, `claimed` (polled, not
 * acknowledged yet), `starting` (acknowledged, no heartbeat yet), `ready` (heartbeating),
 * `lost` (its worker's lease expired: queued again for the next worker), `stopping`, `stopped`.
 */
export const WorkerStateSchema = z.enum(['waiting', 'claimed', 'starting', 'ready', 'lost', 'stopping', 'stopped']);
export type WorkerState = z.infer<typeof WorkerStateSchema>;

export const WorkerStatusSchema = z.strictObject({
  work_id: z.string(),
  environment_id: z.string(),
  /** The worker's own id (`anthropic-worker-id`), when it gave one. */
  worker_id: z.string().nullable(),
  /** The worker's machine: 'this computer', or its address as the API saw it (null: none yet). */
  host: z.string().nullable(),
  state: WorkerStateSchema,
  /** A sentence on the state: what is happening and what to do. */
  detail: z.string(),
  /** The last heartbeat (ISO time; kept in memory, not in the log), null before the first. */
  last_heartbeat: z.string().nullable(),
  /** When the lease runs out without another heartbeat (ISO time), null when none is held. */
  lease_expires_at: z.string().nullable(),
  ttl_seconds: z.number().int().nonnegative(),
});
export type WorkerStatus = z.infer<typeof WorkerStatusSchema>;

export const EnvironmentIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/, 'an environment id is like env_…');

/** A self-hosted environment and its key, without the key: its last 4 characters at most. */
export const EnvironmentKeyInfoSchema = z.strictObject({
  environment_id: z.string(),
  name: z.string(),
  /** The key's last 4 characters (null: no key; workers are refused). */
  hint: z.string().max(4).nullable(),
  /** When the current key was made (null: no key). */
  created_at: z.string().nullable(),
});
export type EnvironmentKeyInfo = z.infer<typeof EnvironmentKeyInfoSchema>;

/** The one answer that carries an environment key: the new one, shown once. */
export const NewEnvironmentKeySchema = z.strictObject({ key: z.string(), info: EnvironmentKeyInfoSchema });
export type NewEnvironmentKey = z.infer<typeof NewEnvironmentKeySchema>;
