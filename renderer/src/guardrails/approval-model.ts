/**
 * What an approval card shows of a tool use that waits for the user (pure, tested in node): the
 * hand and tool, the full command, a line diff of a file edit, or an MCP tool's input; what
 * "Allow similar for this session" would add (a command prefix rule for a command, the tool's
 * `always_allow` otherwise); and how many sessions wait for the user.
 */
import type { PendingApproval, PolicyRule } from '#shared/guardrails';
import type { SessionSummary } from '#shared/sessions';

/** One line of a diff: kept, removed (before) or added (after). */
export interface DiffLine {
  kind: 'same' | 'removed' | 'added';
  text: string;
}

export type ApprovalBody =
  | { kind: 'command'; command: string }
  | { kind: 'edit'; command: 'create' | 'str_replace' | 'insert'; path: string; lines: DiffLine[]; note: string | null }
  | { kind: 'input'; json: string };

export interface ApprovalCardModel {
  toolUseId: string;
  hand: string | null;
  /** The tool as its hand names it (`bash`, `editor`, an MCP server's tool). */
  tool: string;
  body: ApprovalBody;
  similar: SimilarAllow;
}

/** What "Allow similar for this session" records, and its words. */
export type SimilarAllow =
  | { kind: 'rule'; hand: string; tool: string; rule: PolicyRule; label: string }
  | { kind: 'policy'; hand: string; tool: string; label: string }
  | { kind: 'none'; reason: string };

/** The tool name without the `<hand>__` prefix the model calls it by. */
export function toolOf(pending: Pick<PendingApproval, 'hand' | 'name'>): string {
  const prefix = pending.hand === null ? null : `${pending.hand}__`;
  return prefix !== null && pending.name.startsWith(prefix) ? pending.name.slice(prefix.length) : pending.name;
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export function splitLines(value: string): string[] {
  if (value === '') return [];
  const lines = value.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Longest-common-subsequence line diff (inputs are bounded by a tool input's size; the table is capped). */
export function lineDiff(before: readonly string[], after: readonly string[]): DiffLine[] {
  const n = before.length;
  const m = after.length;
  if (n * m > 4_000_000)
    return [
      ...before.map((line) => ({ kind: 'removed' as const, text: line })),
      ...after.map((line) => ({ kind: 'added' as const, text: line })),
    ];
  // lcs[i][j]: the common length of before[i..] and after[j..].
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = before[i] === after[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (before[i] === after[j]) {
      out.push({ kind: 'same', text: before[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push({ kind: 'removed', text: before[i++]! });
    else out.push({ kind: 'added', text: after[j++]! });
  }
  while (i < n) out.push({ kind: 'removed', text: before[i++]! });
  while (j < m) out.push({ kind: 'added', text: after[j++]! });
  return out;
}

function bodyOf(tool: string, input: Record<string, unknown>): ApprovalBody {
  const command = text(input['command']);
  if (tool === 'bash' && command !== null) return { kind: 'command', command };
  const path = text(input['path']);
  if (tool === 'editor' && path !== null) {
    if (command === 'create') {
      return {
        kind: 'edit',
        command,
        path,
        lines: splitLines(text(input['file_text']) ?? '').map((line) => ({ kind: 'added', text: line })),
        note: 'creates the file (or overwrites it whole)',
      };
    }
    if (command === 'str_replace') {
      return {
        kind: 'edit',
        command,
        path,
        lines: lineDiff(splitLines(text(input['old_str']) ?? ''), splitLines(text(input['new_str']) ?? '')),
        note: null,
      };
    }
    if (command === 'insert') {
      const line = input['insert_line'];
      const where = typeof line === 'number' ? (line === 0 ? 'at the top of the file' : `after line ${line}`) : 'at a line';
      return {
        kind: 'edit',
        command,
        path,
        lines: splitLines(text(input['insert_text']) ?? text(input['new_str']) ?? '').map((added) => ({ kind: 'added', text: added })),
        note: `inserts ${where}`,
      };
    }
  }
  return { kind: 'input', json: JSON.stringify(input, null, 2) };
}

/**
 * The command prefix "Allow similar" proposes: the program and, for programs whose first word
 * says little (git, npm, docker…), its subcommand. Null when the line has no plain first word.
 */
export function commandPrefixOf(command: string): string | null {
  const words = command.trim().split(/[ \t]+/);
  const first = words[0] ?? '';
  if (!/^[\w./@+-]+$/.test(first)) return null;
  const second = words[1];
  if (SUBCOMMANDED.has(first.split('/').at(-1) ?? first) && second !== undefined && /^[a-z][\w-]*$/.test(second))
    return `${first} ${second}`;
  return first;
}

const SUBCOMMANDED = new Set([
  'git',
  'npm',
  'npx',
  'pnpm',
  'yarn',
  'docker',
  'kubectl',
  'cargo',
  'go',
  'pip',
  'apt',
  'apt-get',
  'systemctl',
  'make',
]);

function similarOf(hand: string | null, tool: string, body: ApprovalBody): SimilarAllow {
  if (hand === null) return { kind: 'none', reason: 'no hand claimed this tool' };
  if (body.kind === 'command') {
    const prefix = commandPrefixOf(body.command);
    if (prefix === null) return { kind: 'none', reason: 'the command has no plain first word to allow' };
    return {
      kind: 'rule',
      hand,
      tool,
      rule: { type: 'command_prefix', prefix },
      label: `allows “${prefix} …” on ${hand} for this session (lines that chain, substitute or redirect still ask)`,
    };
  }
  return { kind: 'policy', hand, tool, label: `always allows ${tool} on ${hand} in this session` };
}

export function approvalCardOf(pending: PendingApproval): ApprovalCardModel {
  const tool = toolOf(pending);
  const body = bodyOf(tool, pending.input);
  return { toolUseId: pending.tool_use_id, hand: pending.hand, tool, body, similar: similarOf(pending.hand, tool, body) };
}

/** Whether a session waits for the user's answer to a tool call. */
export function isWaiting(session: Pick<SessionSummary, 'status' | 'stopReason'>): boolean {
  return session.status === 'idle' && session.stopReason === 'requires_action';
}

/** How many sessions wait for the user. */
export function waitingCount(sessions: readonly Pick<SessionSummary, 'status' | 'stopReason'>[] | null): number {
  return sessions === null ? 0 : sessions.filter(isWaiting).length;
}

/** The window title: "(2) Drover" while two sessions wait. */
export function windowTitle(waiting: number, base = 'Drover'): string {
  return waiting > 0 ? `(${waiting}) ${base}` : base;
}
