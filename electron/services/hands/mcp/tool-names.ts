/**
 * Names for an MCP server's tools as the Messages API will accept them. MCP allows tool names the
 * API refuses (dots, slashes, spaces, more than 128 characters), and the registry prefixes each
 * tool with `<hand>__`, which takes room. This maps every server name to an API-safe name and
 * back, deterministically (the same set of names always maps the same way, in any order) and
 * without collisions.
 *
 * It must never let two server tools share one name: a wrong mapping would run the wrong tool.
 */
import { createHash } from 'node:crypto';
import { TOOL_NAME_PATTERN } from '#services/hands/hand';

/** The longest name the Messages API accepts. */
export const API_TOOL_NAME_MAX = 128;

/** Room left for a tool's own name once the registry prefixes it with `<hand>__`. */
export function toolNameRoom(handName: string): number {
  return API_TOOL_NAME_MAX - handName.length - 2;
}

export interface ToolNameMap {
  /** The API-safe name for a server tool, or undefined when the server has no such tool. */
  toExposed(serverName: string): string | undefined;
  /** The server's name for an API-safe name, or undefined when no tool has that name. */
  toServer(exposedName: string): string | undefined;
  /** Every pair, in server-name order. */
  readonly entries: ReadonlyArray<{ server: string; exposed: string }>;
}

const UNSAFE = /[^a-zA-Z0-9_-]/g;

function hashOf(name: string, length: number): string {
  return createHash('sha256').update(name, 'utf8').digest('hex').slice(0, length);
}

/**
 * Maps `serverNames` (duplicates are ignored) to names of at most `maxLength` characters that
 * match TOOL_NAME_PATTERN. A name that is already safe and fits keeps itself; any other gets
 * sanitized, truncated and suffixed `_<hash of the original>`, the hash lengthened on the
 * (astronomically rare) collision.
 */
export function mapToolNames(serverNames: readonly string[], maxLength: number = API_TOOL_NAME_MAX): ToolNameMap {
  if (!Number.isInteger(maxLength) || maxLength < 20 || maxLength > API_TOOL_NAME_MAX) {
    throw new RangeError(`tool names need room for at least 20 characters (got ${maxLength}): choose a shorter hand name`);
  }
  const sorted = [...new Set(serverNames)].sort();
  const byServer = new Map<string, string>();
  const byExposed = new Map<string, string>();
  // Names kept verbatim are placed first, so a changed name can never take one of them.
  const changed: string[] = [];
  for (const name of sorted) {
    if (name.length <= maxLength && TOOL_NAME_PATTERN.test(name)) {
      byServer.set(name, name);
      byExposed.set(name, name);
    } else {
      changed.push(name);
    }
  }
  for (const name of changed) {
    const sanitized = name.replace(UNSAFE, '_');
    let exposed: string | undefined;
    for (const hashLength of [8, 16, 32, 64]) {
      const room = Math.max(0, maxLength - hashLength - 1);
      const candidate = `${sanitized.slice(0, room)}_${hashOf(name, hashLength)}`.slice(0, maxLength);
      if (!byExposed.has(candidate)) {
        exposed = candidate;
        break;
      }
    }
    if (exposed === undefined) throw new Error(`no unique tool name for ${JSON.stringify(name)}`);
    byServer.set(name, exposed);
    byExposed.set(exposed, name);
  }
  const entries = sorted.map((server) => ({ server, exposed: byServer.get(server) ?? server }));
  return {
    toExposed: (serverName) => byServer.get(serverName),
    toServer: (exposedName) => byExposed.get(exposedName),
    entries,
  };
}
