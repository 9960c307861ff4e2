/**
 * What the UI may learn of the user's `~/.ssh/config`: the Host aliases it names and the settings
 * that fill the "Attach a machine" form. Identity files appear by file name only: the renderer
 * never sees a path it could send back, and never a key. Pure data + zod; must never import node,
 * electron or DOM code.
 */
import { z } from 'zod';

/** A Host alias as written in ~/.ssh/config (no wildcards: those are patterns, not machines). */
export const SshConfigAliasSchema = z
  .string()
  .min(1, 'choose a host from ~/.ssh/config')
  .max(255)
  .regex(/^[^\s*?!,]+$/, 'a Host alias has no spaces, wildcards, "!" or ","');

/** A jump host (the first hop of ProxyJump), resolved through the config when it names an alias. */
export const SshConfigJumpSchema = z.strictObject({
  host: z.string(),
  port: z.number().int().min(1).max(65_535).nullable(),
  user: z.string().nullable(),
});
export type SshConfigJump = z.infer<typeof SshConfigJumpSchema>;

/** One Host alias and the values OpenSSH would use for it (first value wins). */
export const SshConfigHostSchema = z.strictObject({
  alias: SshConfigAliasSchema,
  /** HostName, or null when the alias is the host's name itself. */
  hostName: z.string().nullable(),
  port: z.number().int().min(1).max(65_535).nullable(),
  user: z.string().nullable(),
  /** The IdentityFile entries' file names (e.g. `id_ed25519`), in the order ssh tries them. */
  identityFiles: z.array(z.string()),
  /** The first hop of ProxyJump, or null. */
  proxyJump: SshConfigJumpSchema.nullable(),
});
export type SshConfigHost = z.infer<typeof SshConfigHostSchema>;

/** The hosts found, and what in the file Drover did not follow (Include, Match, bad values). */
export const SshConfigListingSchema = z.strictObject({
  hosts: z.array(SshConfigHostSchema),
  /** Sentences for the user, e.g. "Include lines are not followed: …". Empty when all was read. */
  notes: z.array(z.string()),
});
export type SshConfigListing = z.infer<typeof SshConfigListingSchema>;
