/**
 * Reads a Claude Desktop style MCP configuration — `{"mcpServers": {"name": {command, args, env}
 * | {url, headers}}}` (also `servers`, as VS Code writes it) — into MCP hand configurations.
 *
 * The file is a trust boundary (the user picked it, but anything may be in it): every entry is
 * validated, and one that cannot be used is skipped with the reason instead of failing the rest.
 * Values that look like credentials (environment variables and headers named like tokens, keys or
 * passwords, and `Authorization` headers) are moved into the vault and referred to by id, so
 * they never sit in a session log, a hand config or the renderer.
 */
import { z } from 'zod';
import { HandNameSchema, McpHandConfigSchema, type McpHandConfig, type McpImport } from '#shared/hands';
import type { SecretKind, SecretMeta } from '#shared/vault';

/** Names of variables and headers whose values are credentials. */
const SECRET_NAME =
  /(token|secret|passw(or)?d|passwd|api[-_]?key|access[-_]?key|private[-_]?key|credential|auth|cookie|_key$|^key$|_pat$|^pat$)/i;

const StdioEntry = z.looseObject({
  type: z.literal('stdio').optional(),
  command: z.string().min(1, 'has no command'),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  cwd: z.string().optional(),
  disabled: z.boolean().optional(),
});
const HttpEntry = z.looseObject({
  type: z.string().optional(),
  url: z.string().min(1, 'has no URL'),
  headers: z.record(z.string(), z.string()).default({}),
  disabled: z.boolean().optional(),
});
const FileSchema = z.union([
  z.looseObject({ mcpServers: z.record(z.string(), z.unknown()) }),
  z.looseObject({ servers: z.record(z.string(), z.unknown()) }),
]);

export interface SecretToStore {
  name: string;
  kind: SecretKind;
  value: string;
}

type Value = { value: string } | { secret_id: string };

/** Stores one secret in the vault; returns what it stored. */
export type StoreSecret = (secret: SecretToStore) => Promise<SecretMeta>;

/**
 * Parses the file's text and stores the credential-looking values through `storeSecret`
 * (named "<server> <VARIABLE>", made unique against `takenSecretNames`). `takenHandNames` are the
 * names already in use (the session's hands): imported servers get other names.
 */
export async function importMcpConfig(
  text: string,
  options: { storeSecret: StoreSecret; takenSecretNames: readonly string[]; takenHandNames?: readonly string[] },
): Promise<McpImport> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ImportError(
      `The file is not JSON (${error instanceof Error ? error.message : String(error)}). Choose a claude_desktop_config.json or another file with an "mcpServers" object.`,
    );
  }
  const file = FileSchema.safeParse(json);
  if (!file.success)
    throw new ImportError(
      'The file has no "mcpServers" object. Choose a claude_desktop_config.json or another file shaped like {"mcpServers": {"name": {"command": …}}}.',
    );
  const entries: Record<string, unknown> =
    'mcpServers' in file.data ? (file.data.mcpServers as Record<string, unknown>) : (file.data.servers as Record<string, unknown>);
  const handNames = new Set(options.takenHandNames ?? []);
  const secretNames = new Set(options.takenSecretNames.map((name) => name.toLowerCase()));
  const result: McpImport = { servers: [], skipped: [] };
  if (Object.keys(entries).length === 0) throw new ImportError('The file lists no servers under "mcpServers".');

  for (const [key, raw] of Object.entries(entries)) {
    const name = handNameFor(key, handNames);
    if (name === null) {
      result.skipped.push({ key, reason: 'its name has no letters or digits to make a hand name from' });
      continue;
    }
    const notes: string[] = [];
    const secretName = (what: string): string => {
      let candidate = `${name} ${what}`.slice(0, 90);
      for (let n = 2; secretNames.has(candidate.toLowerCase()); n++) candidate = `${name} ${what} (${n})`.slice(0, 100);
      secretNames.add(candidate.toLowerCase());
      return candidate;
    };
    const valueFor = async (what: 'environment variable' | 'header', key: string, value: string, kind: SecretKind): Promise<Value> => {
      if (!SECRET_NAME.test(key) || value.trim() === '') return { value };
      if (/^\$\{[^}]+\}$/.test(value.trim())) {
        notes.push(
          `${key} refers to ${value.trim()}, which Drover does not expand: replace it with the real value (stored in the vault) before the server needs it.`,
        );
        return { value };
      }
      const stored = await options.storeSecret({ name: secretName(key), kind, value });
      notes.push(`The ${what} ${key} was stored in the vault as “${stored.name}”.`);
      return { secret_id: stored.id };
    };

    let config: McpHandConfig;
    try {
      const candidate = await configFor(raw, valueFor, notes);
      if (candidate === null) {
        result.skipped.push({ key, reason: 'it has neither a "command" nor a "url"' });
        continue;
      }
      config = candidate;
    } catch (error) {
      result.skipped.push({ key, reason: error instanceof Error ? error.message : String(error) });
      continue;
    }
    if (name !== key) notes.unshift(`Named “${name}” (hand names are lowercase letters, digits and dashes).`);
    handNames.add(name);
    result.servers.push({ name, config, notes });
  }
  return result;
}

export class ImportError extends Error {}

async function configFor(
  raw: unknown,
  valueFor: (what: 'environment variable' | 'header', key: string, value: string, kind: SecretKind) => Promise<Value>,
  notes: string[],
): Promise<McpHandConfig | null> {
  if (typeof raw !== 'object' || raw === null) throw new Error('it is not an object');
  const enabled = !('disabled' in raw && raw.disabled === true);
  if (!enabled) notes.push('It was disabled in the file, so it is imported turned off.');
  if ('command' in raw) {
    const entry = StdioEntry.safeParse(raw);
    if (!entry.success)
      throw new Error(
        `its command is not valid (${entry.error.issues.map((issue) => `${issue.path.join('.') || 'entry'}: ${issue.message}`).join('; ')})`,
      );
    const env: Record<string, Value> = {};
    for (const [key, value] of Object.entries(entry.data.env)) env[key] = await valueFor('environment variable', key, value, 'token');
    return validated({
      kind: 'mcp',
      enabled,
      transport: { type: 'stdio', command: entry.data.command, args: entry.data.args, cwd: entry.data.cwd ?? null, env },
    });
  }
  if ('url' in raw) {
    const entry = HttpEntry.safeParse(raw);
    if (!entry.success)
      throw new Error(
        `its URL entry is not valid (${entry.error.issues.map((issue) => `${issue.path.join('.') || 'entry'}: ${issue.message}`).join('; ')})`,
      );
    if (entry.data.type === 'sse')
      throw new Error(
        'it uses the old SSE transport; Drover speaks Streamable HTTP (most servers offer it at /mcp): add it by hand with that URL',
      );
    const headers: Record<string, Value> = {};
    let bearer: string | null = null;
    for (const [key, value] of Object.entries(entry.data.headers)) {
      const match = key.toLowerCase() === 'authorization' ? /^Bearer\s+(\S+)$/i.exec(value.trim()) : null;
      if (match?.[1] && !/^\$\{/.test(match[1])) {
        const stored = await valueFor('header', 'Authorization', match[1], 'token');
        if ('secret_id' in stored) {
          bearer = stored.secret_id;
          continue;
        }
      }
      headers[key] = await valueFor('header', key, value, 'http-header');
    }
    return validated({ kind: 'mcp', enabled, transport: { type: 'http', url: entry.data.url, headers, bearer_secret_id: bearer } });
  }
  return null;
}

function validated(config: unknown): McpHandConfig {
  const parsed = McpHandConfigSchema.safeParse(config);
  if (!parsed.success)
    throw new Error(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'entry'}: ${issue.message}`).join('; '));
  return parsed.data;
}

/** A hand name from a server's key: lowercase, dashes for anything else, unique among `taken`. */
export function handNameFor(key: string, taken: ReadonlySet<string>): string | null {
  let base = key
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  if (base === '') return null;
  if (!/^[a-z]/.test(base)) base = `mcp-${base}`;
  base = base.slice(0, 28).replace(/-$/, '');
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
  return HandNameSchema.safeParse(name).success ? name : null;
}
