/**
 * The draft behind "Add MCP server" (AttachMcpForm.tsx) and the import of a Claude Desktop config
 * (McpImportReview.tsx), as plain data: the default name, a draft → the MCP hand's configuration
 * (its problems named per field, in words), where the main process's refusals land, the imported
 * servers chosen to attach, and the configuration changes the hands panel makes (server on/off, a
 * tool off). Pure: no React, no transport. Secrets are referenced by vault id only: no value of a
 * secret ever passes through here.
 */
import type { RpcError } from '#shared/errors';
import { HandNameSchema, McpHandConfigSchema, type HandSpecInput, type McpHandConfig, type McpImport } from '#shared/hands';
import type { SecretMeta } from '#shared/vault';

export type McpTransportType = 'stdio' | 'http';

/** An environment variable or a header as typed: a plain value, or a secret chosen by id. */
export interface ValueRow {
  /** Stable across edits (React key, and where a problem of this row is shown). */
  id: string;
  key: string;
  source: 'value' | 'secret';
  value: string;
  /** '' for none chosen. */
  secretId: string;
}

export interface McpDraft {
  name: string;
  transport: McpTransportType;
  command: string;
  /** One argument per line, exactly as typed (blank lines are dropped; spaces inside a line are kept). */
  args: string;
  cwd: string;
  env: ValueRow[];
  url: string;
  headers: ValueRow[];
  /** '' for no bearer token. */
  bearerId: string;
  timeout: string;
}

/** The per-call timeout when none is typed (the schema's default). */
export const DEFAULT_TIMEOUT_SECONDS = 120;

export function emptyMcpDraft(name: string): McpDraft {
  return {
    name,
    transport: 'stdio',
    command: '',
    args: '',
    cwd: '',
    env: [],
    url: '',
    headers: [],
    bearerId: '',
    timeout: String(DEFAULT_TIMEOUT_SECONDS),
  };
}

/**
 * A draft filled from a server used before (in another session): same command or URL, environment,
 * headers and timeout, under `name`. Secrets stay references by id.
 */
export function draftOfConfig(config: McpHandConfig, name: string): McpDraft {
  const rows = (values: Record<string, { value: string } | { secret_id: string }>): ValueRow[] =>
    Object.entries(values).map(([key, entry]) => ({
      ...newValueRow(),
      key,
      ...('value' in entry ? { source: 'value' as const, value: entry.value } : { source: 'secret' as const, secretId: entry.secret_id }),
    }));
  const draft = { ...emptyMcpDraft(name), timeout: String(config.timeout_seconds) };
  const transport = config.transport;
  if (transport.type === 'stdio')
    return {
      ...draft,
      transport: 'stdio',
      command: transport.command,
      args: transport.args.join('\n'),
      cwd: transport.cwd ?? '',
      env: rows(transport.env),
    };
  return { ...draft, transport: 'http', url: transport.url, headers: rows(transport.headers), bearerId: transport.bearer_secret_id ?? '' };
}

let rowCount = 0;

/** A new, empty row (a plain value until a secret is chosen). */
export function newValueRow(): ValueRow {
  rowCount += 1;
  return { id: `row-${rowCount}`, key: '', source: 'value', value: '', secretId: '' };
}

/** `mcp`, then `mcp-2`, `mcp-3`… — the first not taken in the session. */
export function nextFreeMcpName(taken: readonly string[]): string {
  const names = new Set(taken.map((name) => name.trim()));
  if (!names.has('mcp')) return 'mcp';
  for (let n = 2; ; n++) if (!names.has(`mcp-${n}`)) return `mcp-${n}`;
}

/** The arguments field → the argument list: one per line, blank lines dropped, nothing else changed. */
export function argsOf(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/\s+$/, ''))
    .filter((line) => line.trim() !== '');
}

/** Secrets offered for a value, sorted by name. Every kind may hold a server's token or key. */
export function secretChoices(credentials: readonly SecretMeta[] | null | undefined): SecretMeta[] {
  return [...(credentials ?? [])].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/** Where the form shows a problem: a field, or a row (`env:<row id>`, `header:<row id>`). */
export type McpField = 'name' | 'command' | 'args' | 'cwd' | 'url' | 'bearerId' | 'timeout' | `env:${string}` | `header:${string}`;
export type McpProblems = Partial<Record<McpField, string>>;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;

/**
 * The configuration the draft describes (a new server: on, every tool offered), or what is wrong
 * with it per field. The obvious mistakes get their own words here; the rest come from the schema.
 */
export function mcpConfigOf(
  draft: McpDraft,
  takenNames: readonly string[],
): { config: McpHandConfig; problems: null } | { config: null; problems: McpProblems } {
  const problems: McpProblems = {};
  const name = draft.name.trim();
  const nameCheck = HandNameSchema.safeParse(name);
  if (name === '') problems.name = 'give the server a name';
  else if (!nameCheck.success) problems.name = nameCheck.error.issues[0]?.message ?? 'not a valid name';
  else if (takenNames.includes(name)) problems.name = `this session already has a hand called ${name}`;

  const timeoutText = draft.timeout.trim();
  const timeout = timeoutText === '' ? DEFAULT_TIMEOUT_SECONDS : /^\d{1,5}$/.test(timeoutText) ? Number(timeoutText) : Number.NaN;
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 3600)
    problems.timeout = 'a timeout is a whole number of seconds from 1 to 3600';

  let transport: Record<string, unknown>;
  if (draft.transport === 'stdio') {
    if (draft.command.trim() === '') problems.command = 'give the command that starts the server, e.g. npx or /usr/local/bin/server';
    const cwd = draft.cwd.trim();
    if (cwd !== '' && !cwd.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(cwd))
      problems.cwd = 'give the full path of the folder (starting with /), or leave it empty';
    transport = {
      type: 'stdio',
      command: draft.command.trim(),
      args: argsOf(draft.args),
      cwd: cwd === '' ? null : cwd,
      env: valuesOf(draft.env, 'env', ENV_NAME, problems),
    };
  } else {
    if (draft.url.trim() === '') problems.url = 'give the server’s URL, e.g. https://example.com/mcp';
    transport = {
      type: 'http',
      url: draft.url.trim(),
      headers: valuesOf(draft.headers, 'header', HEADER_NAME, problems),
      bearer_secret_id: draft.bearerId === '' ? null : draft.bearerId,
    };
  }

  const parsed = McpHandConfigSchema.safeParse({ kind: 'mcp', transport, enabled: true, disabled_tools: [], timeout_seconds: timeout });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = fieldOfConfigPath(issue.path.map(String), draft);
      const at = field ?? (draft.transport === 'stdio' ? 'command' : 'url');
      problems[at] ??= issue.message;
    }
  }
  if (Object.keys(problems).length > 0 || !parsed.success) return { config: null, problems };
  return { config: parsed.data, problems: null };
}

function valuesOf(rows: readonly ValueRow[], prefix: 'env' | 'header', pattern: RegExp, problems: McpProblems): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const what = prefix === 'env' ? 'variable' : 'header';
  for (const row of rows) {
    const key = row.key.trim();
    const at: McpField = `${prefix}:${row.id}`;
    // A row left completely empty is ignored, as if removed.
    if (key === '' && row.value === '' && row.secretId === '') continue;
    if (key === '') problems[at] = `give the ${what}’s name`;
    else if (!pattern.test(key))
      problems[at] =
        prefix === 'env' ? 'a variable name is letters, digits and _, not starting with a digit' : 'a header name is letters, digits and -';
    else if (key in values) problems[at] = `${key} is given twice`;
    else if (row.source === 'secret' && row.secretId === '') problems[at] = `choose the secret for ${key}, or give a plain value`;
    values[key] = row.source === 'secret' ? { secret_id: row.secretId } : { value: row.value };
  }
  return values;
}

/** A zod path inside the configuration (`transport.env.TOKEN.secret_id`) → the form's field. */
function fieldOfConfigPath(path: readonly string[], draft: McpDraft): McpField | null {
  const [head, second, third] = path;
  if (head === 'timeout_seconds') return 'timeout';
  if (head !== 'transport') return null;
  switch (second) {
    case 'command':
      return 'command';
    case 'args':
      return 'args';
    case 'cwd':
      return 'cwd';
    case 'url':
      return 'url';
    case 'bearer_secret_id':
      return 'bearerId';
    case 'env': {
      const row = draft.env.find((candidate) => candidate.key.trim() === third);
      return row === undefined ? null : `env:${row.id}`;
    }
    case 'headers': {
      const row = draft.headers.find((candidate) => candidate.key.trim() === third);
      return row === undefined ? null : `header:${row.id}`;
    }
    default:
      return null;
  }
}

/**
 * The main process's refusal on the form's fields: issue paths of `hands-attach`
 * (`hand.config.transport.url`) or of `mcp-test-server` (`config.transport.url`); a name clash
 * (`conflict`, no path) goes on the name. The rest is `general`.
 */
export function placeMcpIssues(
  error: Pick<RpcError, 'code' | 'message' | 'issues'>,
  draft: McpDraft,
): { fields: McpProblems; general: string[] } {
  const fields: McpProblems = {};
  const general: string[] = [];
  if (error.issues === undefined || error.issues.length === 0) {
    if (error.code === 'conflict' && /hand named/i.test(error.message)) fields.name = error.message;
    else general.push(error.message);
    return { fields, general };
  }
  for (const { path, message } of error.issues) {
    const parts = path.split('.');
    const inConfig = parts[0] === 'hand' && parts[1] === 'config' ? parts.slice(2) : parts[0] === 'config' ? parts.slice(1) : null;
    const field = path === 'hand.name' ? 'name' : inConfig === null ? null : fieldOfConfigPath(inConfig, draft);
    if (field === null) general.push(message);
    else fields[field] ??= message;
  }
  return { fields, general };
}

/** Identifies a configuration: a test result holds only for the settings it was run with. */
export function mcpConfigKey(config: McpHandConfig): string {
  return JSON.stringify(config.transport);
}

// ------------------------------------------------------------------------------ import

/** One server found in an imported file, as the review shows it. */
export interface ImportRow {
  /** The name the import proposed (stable: the React key). */
  key: string;
  name: string;
  selected: boolean;
  config: McpHandConfig;
  notes: readonly string[];
  /** After "Attach selected": attached, or refused with the main process's words. */
  outcome: { attached: true } | { attached: false; error: string } | null;
}

export function importRowsOf(found: McpImport): ImportRow[] {
  return found.servers.map((server) => ({
    key: server.name,
    name: server.name,
    selected: true,
    config: server.config,
    notes: server.notes,
    outcome: null,
  }));
}

/** What is wrong with each selected row's name (by key): invalid, taken in the session, or chosen twice. */
export function importNameProblems(rows: readonly ImportRow[], takenNames: readonly string[]): Record<string, string> {
  const problems: Record<string, string> = {};
  const seen = new Set<string>();
  for (const row of rows) {
    if (!row.selected || row.outcome?.attached === true) continue;
    const name = row.name.trim();
    const check = HandNameSchema.safeParse(name);
    if (name === '') problems[row.key] = 'give the server a name';
    else if (!check.success) problems[row.key] = check.error.issues[0]?.message ?? 'not a valid name';
    else if (takenNames.includes(name)) problems[row.key] = `this session already has a hand called ${name}`;
    else if (seen.has(name)) problems[row.key] = `${name} is chosen twice: rename one`;
    seen.add(name);
  }
  return problems;
}

/** The hands to attach: the selected rows not attached yet. */
export function importSpecsOf(rows: readonly ImportRow[]): Array<{ key: string; hand: HandSpecInput }> {
  return rows
    .filter((row) => row.selected && row.outcome?.attached !== true)
    .map((row) => ({ key: row.key, hand: { name: row.name.trim(), config: row.config } }));
}

// ------------------------------------------------------------------------------ an attached server

/** The configuration with the server turned on or off. */
export function withServerEnabled(config: McpHandConfig, enabled: boolean): McpHandConfig {
  return { ...config, enabled };
}

/** The configuration with one of the server's tools (its own name) offered or not. */
export function withToolEnabled(config: McpHandConfig, tool: string, enabled: boolean): McpHandConfig {
  const others = config.disabled_tools.filter((name) => name !== tool);
  return { ...config, disabled_tools: enabled ? others : [...others, tool] };
}

/** The configuration with one of the server's tools (its own name) marked as changing files or not (`writing_tools`). */
export function withToolWriting(config: McpHandConfig, tool: string, writes: boolean): McpHandConfig {
  const others = (config.writing_tools ?? []).filter((name) => name !== tool);
  const next = writes ? [...others, tool] : others;
  const { writing_tools: _previous, ...rest } = config;
  return next.length > 0 ? { ...rest, writing_tools: next } : rest;
}

/** Tools marked as changing files that the server does not list (kept, shown as not offered). */
export function markedButNotOffered(config: McpHandConfig, listed: ReadonlyArray<{ name: string }>): string[] {
  const names = new Set(listed.map((tool) => tool.name));
  return (config.writing_tools ?? []).filter((name) => !names.has(name));
}
