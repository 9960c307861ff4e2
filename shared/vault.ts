/**
 * The vault as the UI and the log see it: secrets by id, name, kind and use — never their values.
 * A value goes one way only: from the UI into the main process (create, replace). Nothing here
 * may ever carry a secret back. Pure data + zod; must never import node, electron or DOM code.
 */
import { z } from 'zod';

export const SECRET_KINDS = [
  'anthropic-api-key',
  'git-token',
  'ssh-private-key',
  'ssh-passphrase',
  'password',
  'http-header',
  'token',
  /** A TLS certificate (a CA's or Drover's client certificate) or private key, PEM: a tcp:// Docker engine's (issue 22). */
  'tls-pem',
] as const;
export const SecretKindSchema = z.enum(SECRET_KINDS);
export type SecretKind = z.infer<typeof SecretKindSchema>;

/** A secret's id: what hand configurations and the log refer to (`sec_` and 16 letters or digits). */
export const SecretIdSchema = z.string().regex(/^sec_[a-z0-9]{16}$/, 'must be a secret id like sec_0123456789abcdef');
export type SecretId = z.infer<typeof SecretIdSchema>;

export const SecretNameSchema = z.string().trim().min(1, 'give the secret a name').max(100, 'a name is at most 100 characters');

/** A value as typed: kept as is (no trimming: a key's whitespace may matter), at most 64 KiB. */
export const SecretValueSchema = z
  .string()
  .min(1, 'the value is empty')
  .max(65_536, 'a secret is at most 65,536 characters')
  .refine((value) => value.trim() !== '', 'the value is only white space');

/** What may be shown about a secret. */
export const SecretMetaSchema = z.strictObject({
  id: SecretIdSchema,
  name: z.string(),
  kind: SecretKindSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  /** When the main process last used it, and for what ("API requests", "git push to github.com/…"). */
  lastUsedAt: z.string().nullable(),
  lastUsedFor: z.string().nullable(),
});
export type SecretMeta = z.infer<typeof SecretMetaSchema>;

/** Whether secrets can be stored here, how, and if not, why and what to do. */
export const VaultStatusSchema = z.strictObject({
  available: z.boolean(),
  /** How the vault's key is protected, e.g. "Electron safeStorage (gnome_libsecret)" or "Secret Service keyring". */
  backend: z.string(),
  /** Why secrets cannot be stored (and what to do), or null. */
  reason: z.string().nullable(),
});
export type VaultStatus = z.infer<typeof VaultStatusSchema>;

/** Where the Anthropic API key comes from; the key itself never leaves the main process. */
export const ApiKeyStatusSchema = z.strictObject({
  source: z.enum(['environment', 'vault', 'none']),
  /** The vault secret used, when the source is the vault. */
  secretId: SecretIdSchema.nullable(),
  /** The outcome of the last test of the key, or null when not tested. */
  test: z.strictObject({ ok: z.boolean(), message: z.string(), at: z.string() }).nullable(),
});
export type ApiKeyStatus = z.infer<typeof ApiKeyStatusSchema>;
