/**
 * Settings → Local API: the Managed Agents API served on this machine for programs using the
 * official SDK. What the UI sees of it — never the token itself, except once, right after
 * `local-api-rotate-token` made a new one (see shared/rpc.ts).
 * Must never import node, electron or DOM code.
 */
import { z } from 'zod';
import { DockerHandConfigSchema } from './hands.ts';

/** The port a Local API turned on for the first time offers (8484 is serve mode's own). */
export const DEFAULT_LOCAL_API_PORT = 8485;

export const LocalApiPortSchema = z
  .number()
  .int('the port is a whole number')
  .min(1, 'the port is a number from 1 to 65535')
  .max(65_535, 'the port is a number from 1 to 65535');

/** The image a Docker hand may run, checked as a Docker hand's image is (shared/hands.ts). */
export const EnvironmentImageSchema = DockerHandConfigSchema.shape.image;

export const LocalApiSettingsSchema = z.strictObject({
  enabled: z.boolean(),
  port: LocalApiPortSchema,
  /**
   * The image `cloud` environments run when their metadata names none (`drover.image`); absent:
   * unchanged. Applies to sessions created after.
   */
  environment_image: EnvironmentImageSchema.optional(),
});
export type LocalApiSettings = z.infer<typeof LocalApiSettingsSchema>;

export const LocalApiStatusSchema = z.strictObject({
  /** Whether it is meant to run (saved in the data folder; serve's --api-port turns it on for that run). */
  enabled: z.boolean(),
  port: z.number().int().min(0).max(65_535),
  /** `http://127.0.0.1:PORT` while it runs: the SDK's baseURL. */
  baseURL: z.string().nullable(),
  running: z.boolean(),
  /** Why it is not running although enabled, in words (e.g. the port is taken). */
  error: z.string().nullable(),
  /** The token's last 4 characters, to tell tokens apart (null: none made yet). Never the token. */
  tokenHint: z.string().max(4).nullable(),
  /** The image `cloud` environments run when their metadata names none (`drover.image`). */
  environment_image: z.string(),
});
export type LocalApiStatus = z.infer<typeof LocalApiStatusSchema>;

/** The one answer that carries a token: the new one, shown once. */
export const LocalApiNewTokenSchema = z.strictObject({ token: z.string(), status: LocalApiStatusSchema });
export type LocalApiNewToken = z.infer<typeof LocalApiNewTokenSchema>;
