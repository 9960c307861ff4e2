/**
 * The policy a hand's tool has until the user sets one, by kind of hand:
 * - a Docker container is throwaway: `always_allow`;
 * - an SSH machine is the user's own: `always_ask` for commands and file writes; the editor's
 *   `view` only reads, so it is allowed (reading is what exploring a machine is made of);
 * - an MCP server can do anything its author made it do (send mail, pay): `always_ask`, unless
 *   the user marked the server trusted.
 * Pure: no I/O.
 */
import type { PermissionPolicy } from '#shared/guardrails';
import type { HandConfig } from '#shared/hands';

export type HandKind = HandConfig['kind'];

/** The editor tool of the shell hands, and its one command that only reads. */
export const EDITOR_TOOL = 'editor';
const READ_ONLY_EDITOR_COMMANDS: ReadonlySet<unknown> = new Set(['view']);

export interface DefaultPolicyInput {
  kind: HandKind;
  tool: string;
  /** For an MCP server: marked trusted by the user. */
  trusted: boolean;
  /** The tool use's input, when there is one: without it, the policy shown for the tool as a whole. */
  input?: Readonly<Record<string, unknown>>;
}

/** The default policy of a hand's tool (of one use of it, when `input` is given). */
export function defaultPolicy({ kind, tool, trusted, input }: DefaultPolicyInput): PermissionPolicy {
  switch (kind) {
    case 'docker':
      return 'always_allow';
    case 'ssh':
      if (tool === EDITOR_TOOL && input !== undefined && READ_ONLY_EDITOR_COMMANDS.has(input.command)) return 'always_allow';
      return 'always_ask';
    case 'mcp':
      return trusted ? 'always_allow' : 'always_ask';
  }
}
