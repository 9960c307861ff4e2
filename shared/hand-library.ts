/**
 * The hand library (issue 23): hand configurations the user saved — Docker presets, SSH machines,
 * MCP servers — to attach again in any session, at launch or later. A saved hand is a HandSpec
 * under a label; the secrets it uses are vault ids, shown by name only (never a value). Pure data +
 * zod; must never import node, electron or DOM code.
 */
import { z } from 'zod';
import { HandSpecSchema, type HandConfig } from './hands.ts';
import { SecretIdSchema, type SecretId } from './vault.ts';

/** How many hands the library keeps. */
export const MAX_LIBRARY_HANDS = 200;

export const HandLibraryIdSchema = z.string().regex(/^hlib_[a-f0-9]{16}$/, 'a saved hand id is "hlib_" and 16 hex digits');
export type HandLibraryId = z.infer<typeof HandLibraryIdSchema>;

export const HandLibraryLabelSchema = z
  .string()
  .trim()
  .min(1, 'give the saved hand a name')
  .max(80, 'a saved hand name is at most 80 characters');

/** One saved hand as the file keeps it. */
export const HandLibraryEntrySchema = z.strictObject({
  id: HandLibraryIdSchema,
  label: HandLibraryLabelSchema,
  hand: HandSpecSchema,
  savedAt: z.string(),
});
export type HandLibraryEntry = z.output<typeof HandLibraryEntrySchema>;

/** A secret a saved hand uses: its vault id and name (null: no longer in the vault). Never a value. */
export const LibrarySecretSchema = z.strictObject({ id: SecretIdSchema, name: z.string().nullable() });
export type LibrarySecret = z.infer<typeof LibrarySecretSchema>;

export const HandLibraryItemSchema = HandLibraryEntrySchema.extend({ secrets: z.array(LibrarySecretSchema) });
export type HandLibraryItem = z.output<typeof HandLibraryItemSchema>;

/**
 * The library as the UI sees it. `error`: the file could not be read (damaged or unreadable) —
 * what happened and what to do; the file is left as it is and nothing can be saved until it is fixed.
 */
export const HandLibraryListingSchema = z.strictObject({
  entries: z.array(HandLibraryItemSchema),
  error: z.string().nullable(),
});
export type HandLibraryListing = z.output<typeof HandLibraryListingSchema>;

/** Every vault secret a hand configuration names, each once, in the order they appear. */
export function secretIdsOf(config: HandConfig): SecretId[] {
  const ids: SecretId[] = [];
  const add = (id: SecretId | null | undefined) => {
    if (id !== null && id !== undefined && !ids.includes(id)) ids.push(id);
  };
  switch (config.kind) {
    case 'docker':
      for (const repo of config.repos) add(repo.token_secret_id);
      break;
    case 'ssh':
      for (const endpoint of config.jump === null ? [config] : [config, config.jump]) {
        const auth = endpoint.auth;
        if (auth.method === 'key') {
          add(auth.key_secret_id);
          add(auth.passphrase_secret_id);
        } else if (auth.method === 'password') {
          add(auth.password_secret_id);
        }
      }
      break;
    case 'mcp': {
      const transport = config.transport;
      const values = transport.type === 'stdio' ? Object.values(transport.env) : Object.values(transport.headers);
      for (const value of values) if ('secret_id' in value) add(value.secret_id);
      if (transport.type === 'http') add(transport.bearer_secret_id);
      break;
    }
  }
  return ids;
}

/** What a saved hand is, in a few words: "Docker · debian:bookworm", "Machine · me@build:2222", "MCP server · npx …". */
export function describeLibraryHand(config: HandConfig): string {
  const kind = config.kind === 'docker' ? 'Docker' : config.kind === 'ssh' ? 'Machine' : 'MCP server';
  return `${kind} · ${describeLibraryTarget(config)}`;
}

/** Where a saved hand runs, without its kind: "debian:bookworm", "me@build:2222", "npx docs-server". */
export function describeLibraryTarget(config: HandConfig): string {
  switch (config.kind) {
    case 'docker':
      return `${config.image}${config.engine === undefined ? '' : ` on ${config.engine}`}`;
    case 'ssh':
      return `${config.user}@${config.host}${config.port === 22 ? '' : `:${config.port}`}${config.jump === null ? '' : ` via ${config.jump.host}`}`;
    case 'mcp':
      return config.transport.type === 'stdio' ? [config.transport.command, ...config.transport.args].join(' ') : config.transport.url;
  }
}
