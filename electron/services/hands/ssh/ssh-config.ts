/**
 * Reads the user's `~/.ssh/config` to offer its Host aliases in "Attach a machine", and reads the
 * private key an alias names (IdentityFile) so the user can import it into the vault.
 *
 * It follows OpenSSH's rules where they matter for filling a form: keywords are case-insensitive,
 * `Key Value` and `Key=Value` both work, the first value found for a keyword wins (across every
 * `Host` block whose patterns match, in file order), IdentityFile accumulates. `Match` blocks are
 * skipped (their conditions need a live connection) and `Include` is not followed; both are
 * reported as notes. It must never read a path that does not come from the user's own config,
 * and never return a key's text across RPC (the caller stores it in the vault).
 */
import { lstat, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '#shared/errors';
import type { SshConfigHost, SshConfigJump, SshConfigListing } from '#shared/ssh';

/** A host as parsed: like `SshConfigHost`, with the identity files' full paths (main process only). */
export interface ParsedSshHost extends Omit<SshConfigHost, 'identityFiles'> {
  identityFiles: string[];
}

export interface ParsedSshConfig {
  hosts: ParsedSshHost[];
  notes: string[];
}

/** A private key is a few KiB; anything bigger is not one. Also the vault's limit for a value. */
export const MAX_KEY_BYTES = 65_536;

interface Block {
  /** null: the lines before the first Host (they apply to every host). */
  patterns: string[] | null;
  /** Skipped: a Match block. */
  match: boolean;
  entries: Array<{ key: string; value: string; line: number }>;
}

/** Parses the text of an ssh config; `home` expands `~` and `%d`. */
export function parseSshConfig(text: string, home: string): ParsedSshConfig {
  const notes: string[] = [];
  const blocks: Block[] = [{ patterns: null, match: false, entries: [] }];
  const aliases: string[] = [];
  let includes = 0;
  let matches = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const parsed = splitLine(raw);
    if (parsed === null) return;
    const { key, args } = parsed;
    if (key === 'host') {
      blocks.push({ patterns: args, match: false, entries: [] });
      for (const pattern of args) {
        if (!/[*?!,]/.test(pattern) && !aliases.includes(pattern)) aliases.push(pattern);
      }
    } else if (key === 'match') {
      matches++;
      blocks.push({ patterns: null, match: true, entries: [] });
    } else if (key === 'include') {
      includes++;
    } else {
      const current = blocks.at(-1);
      if (current !== undefined && !current.match) current.entries.push({ key, value: args.join(' '), line });
    }
  });
  if (includes > 0) {
    notes.push('Include lines are not followed: hosts defined in the included files are not listed. Type their details in instead.');
  }
  if (matches > 0) notes.push('Match blocks are skipped: settings that depend on them may differ from what ssh would use.');

  const effective = (name: string) => resolve(blocks, name);
  const hosts = aliases.map((alias): ParsedSshHost => {
    const values = effective(alias);
    const port = portOf(values.single.get('port'), alias, notes);
    const hostName = values.single.get('hostname');
    return {
      alias,
      hostName: hostName === undefined ? null : expandTokens(hostName, { home, host: alias }),
      port,
      user: values.single.get('user') ?? null,
      identityFiles: values.identityFiles
        .filter((file) => file.toLowerCase() !== 'none')
        .map((file) => expandPath(file, { home, host: alias })),
      proxyJump: jumpOf(values.single.get('proxyjump'), effective, alias, notes),
    };
  });
  return { hosts, notes };
}

/** The hosts of `<home>/.ssh/config` as the UI sees them (identity files by name). A missing file: none. */
export async function readSshConfigHosts(home: string = os.homedir()): Promise<SshConfigListing> {
  const parsed = await readParsedConfig(home);
  return {
    hosts: parsed.hosts.map((host) => ({ ...host, identityFiles: host.identityFiles.map((file) => path.basename(file)) })),
    notes: parsed.notes,
  };
}

/**
 * The first IdentityFile of `alias` in `<home>/.ssh/config`: its file name and its text, checked
 * to look like a private key. The only path it reads is one the user's config names.
 */
export async function readIdentityKey(alias: string, home: string = os.homedir()): Promise<{ fileName: string; text: string }> {
  const { hosts } = await readParsedConfig(home);
  const host = hosts.find((candidate) => candidate.alias === alias);
  if (host === undefined)
    throw new AppError('not-found', `There is no "Host ${alias}" in ~/.ssh/config. Choose a host from the list again.`);
  const file = host.identityFiles[0];
  if (file === undefined) {
    throw new AppError(
      'not-found',
      `"Host ${alias}" in ~/.ssh/config names no IdentityFile, so there is no key to import. Add the key in Settings → Credentials instead.`,
    );
  }
  const shown = tildePath(file, home);
  let size: number;
  try {
    const stats = await lstat(file);
    if (!stats.isFile()) throw new AppError('invalid-argument', `${shown} is not a file, so it cannot be imported as a key.`);
    size = stats.size;
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (isNodeError(error) && error.code === 'ENOENT') {
      throw new AppError('not-found', `${shown} (the IdentityFile of "Host ${alias}") does not exist. Check the path in ~/.ssh/config.`);
    }
    throw new AppError('invalid-argument', `${shown} could not be read: ${errorText(error)}.`, { cause: error });
  }
  if (size > MAX_KEY_BYTES) {
    throw new AppError(
      'invalid-argument',
      `${shown} is ${Math.ceil(size / 1024)} KiB: a private key is a few KiB at most, so this is not one. Check the IdentityFile of "Host ${alias}".`,
    );
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new AppError('invalid-argument', `${shown} could not be read: ${errorText(error)}.`, { cause: error });
  }
  if (!looksLikePrivateKey(text)) {
    const publicKey = /^(ssh-|ecdsa-|sk-)/.test(text.trimStart());
    throw new AppError(
      'invalid-argument',
      publicKey
        ? `${shown} is a public key. Import the private key (the same file name without .pub) instead.`
        : `${shown} does not look like a private key (it has no "-----BEGIN … PRIVATE KEY-----" line). Drover can import OpenSSH and PEM private keys.`,
    );
  }
  return { fileName: path.basename(file), text };
}

/** OpenSSH (`-----BEGIN OPENSSH PRIVATE KEY-----`) and PEM (RSA, EC, DSA, PKCS#8, encrypted) keys. */
export function looksLikePrivateKey(text: string): boolean {
  return /^-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----\r?$/m.test(text);
}

/**
 * What `~/.ssh/config` gives the RPC handlers, bound to one home folder (the user's by default;
 * tests pass a temporary one).
 */
export function sshConfigReader(home: string = os.homedir()): {
  configHosts: () => Promise<SshConfigListing>;
  identityKey: (alias: string) => Promise<{ fileName: string; text: string }>;
} {
  return { configHosts: () => readSshConfigHosts(home), identityKey: (alias) => readIdentityKey(alias, home) };
}

async function readParsedConfig(home: string): Promise<ParsedSshConfig> {
  const file = path.join(home, '.ssh', 'config');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isNodeError(error) && (error.code === 'ENOENT' || error.code === 'ENOTDIR')) return { hosts: [], notes: [] };
    throw new AppError('invalid-argument', `~/.ssh/config could not be read: ${errorText(error)}.`, { cause: error });
  }
  return parseSshConfig(text, home);
}

/** The keyword (lowercased) and its arguments, or null for a blank or comment line. */
function splitLine(raw: string): { key: string; args: string[] } | null {
  const line = raw.trim();
  if (line === '' || line.startsWith('#')) return null;
  const keyMatch = /^([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+|$)/.exec(line);
  if (keyMatch === null) return null;
  const key = (keyMatch[1] ?? '').toLowerCase();
  return { key, args: splitArgs(line.slice(keyMatch[0].length)) };
}

/** Arguments separated by white space; double quotes group; an argument starting with # ends the line. */
function splitArgs(text: string): string[] {
  const args: string[] = [];
  const pattern = /"([^"]*)"|(\S+)/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const quoted = match[1];
    const bare = match[2];
    if (bare !== undefined && bare.startsWith('#')) break;
    args.push(quoted ?? bare ?? '');
  }
  return args;
}

interface Resolved {
  /** First value per keyword (lowercased). */
  single: Map<string, string>;
  identityFiles: string[];
}

/** The values ssh would use for `name`: every matching block in order, the first value winning. */
function resolve(blocks: readonly Block[], name: string): Resolved {
  const single = new Map<string, string>();
  const identityFiles: string[] = [];
  for (const block of blocks) {
    if (block.match) continue;
    if (block.patterns !== null && !matchesHost(block.patterns, name)) continue;
    for (const { key, value } of block.entries) {
      if (key === 'identityfile') identityFiles.push(value);
      else if (!single.has(key)) single.set(key, value);
    }
  }
  return { single, identityFiles };
}

/** OpenSSH's Host matching: some positive pattern matches and no negated one does. */
export function matchesHost(patterns: readonly string[], name: string): boolean {
  let matched = false;
  for (const pattern of patterns.flatMap((entry) => entry.split(','))) {
    if (pattern === '') continue;
    const negated = pattern.startsWith('!');
    if (globMatches(negated ? pattern.slice(1) : pattern, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'i').test(name);
}

function portOf(value: string | undefined, alias: string, notes: string[]): number | null {
  if (value === undefined) return null;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isInteger(port) && port >= 1 && port <= 65_535) return port;
  notes.push(`"Host ${alias}": Port ${value} is not a port number from 1 to 65535; it was left out.`);
  return null;
}

/** The first hop of ProxyJump (`[user@]host[:port]` or `ssh://[user@]host[:port]`), resolved through the config. */
function jumpOf(value: string | undefined, effective: (name: string) => Resolved, alias: string, notes: string[]): SshConfigJump | null {
  if (value === undefined || value.toLowerCase() === 'none') return null;
  const first = (value.split(',')[0] ?? '').trim().replace(/^ssh:\/\//, '');
  const match = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:\s]+)(?::(\d{1,5}))?$/.exec(first);
  if (match === null) {
    notes.push(`"Host ${alias}": ProxyJump ${value} could not be read; the jump host was left out.`);
    return null;
  }
  const [, user, rawHost = '', rawPort] = match;
  const host = rawHost.replace(/^\[(.*)\]$/, '$1');
  // The hop may itself be an alias in the config: ssh resolves it with the config too.
  const values = effective(host);
  const hostName = values.single.get('hostname');
  const port = rawPort === undefined ? portOf(values.single.get('port'), host, notes) : portOf(rawPort, alias, notes);
  return {
    host: hostName === undefined ? host : expandTokens(hostName, { home: '', host }),
    port,
    user: user ?? values.single.get('user') ?? null,
  };
}

/** `%h` (the host as given), `%%`; other tokens are left as written. */
function expandTokens(value: string, { home, host }: { home: string; host: string }): string {
  return value.replace(/%([%hd])/g, (_all, token: string) => (token === '%' ? '%' : token === 'h' ? host : home));
}

/** `~` or `~/…`, `%d` (home), `%h`; a relative path is taken from the home folder, as ssh started from a login shell would. */
function expandPath(value: string, context: { home: string; host: string }): string {
  const tilde = value === '~' ? context.home : value.startsWith('~/') ? path.join(context.home, value.slice(2)) : value;
  const expanded = expandTokens(tilde, context);
  return path.isAbsolute(expanded) ? path.normalize(expanded) : path.join(context.home, expanded);
}

/** `~/…` for a path in the home folder: how the user knows it. */
function tildePath(file: string, home: string): string {
  const relative = path.relative(home, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? `~/${relative}` : file;
}

function isNodeError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}

function errorText(error: unknown): string {
  return isNodeError(error) && error.code !== undefined ? `${error.code}` : error instanceof Error ? error.message : String(error);
}
