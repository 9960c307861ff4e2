/**
 * What of an event is searchable: the text of user, agent and system messages, the name and input of
 * every tool use (hands', MCP servers', custom tools'), tool outputs, and compaction summaries. Other
 * events (spans, status changes, hand lifecycle) are not indexed.
 *
 * Pure: no database, no node APIs.
 */

/** Text past this many characters of one event is not indexed (a 1 MB tool output is, whole). */
export const MAX_INDEXED_CHARS = 2 * 1024 * 1024;

/** What the index stores for one event. `toolUseId` ties a result to its use's hand. */
export interface Extracted {
  body: string;
  hand: string | null;
  toolUseId?: string;
}

export const TOOL_USE_TYPES = ['agent.tool_use', 'agent.mcp_tool_use', 'agent.custom_tool_use'] as const;
export const TOOL_RESULT_TYPES = ['agent.tool_result', 'agent.mcp_tool_result', 'user.custom_tool_result'] as const;

/** Snippet markers: control characters no indexed text keeps (they are blanked on the way in). */
export const MATCH_START = '\u0002';
export const MATCH_END = '\u0003';
const MARKERS = new RegExp(`[${MATCH_START}${MATCH_END}]`, 'g');

type Payload = Record<string, unknown>;

/** The searchable text and hand of an event, or null when it has none. */
export function extract(type: string, payload: unknown): Extracted | null {
  if (payload === null || typeof payload !== 'object') return null;
  const p = payload as Payload;
  switch (type) {
    case 'user.message':
    case 'agent.message':
    case 'system.message':
      return textOf(blocksText(p['content']), null);
    case 'agent.thread_context_compacted':
      return textOf(typeof p['summary'] === 'string' ? p['summary'] : '', null);
    case 'agent.tool_use':
    case 'agent.custom_tool_use':
    case 'agent.mcp_tool_use': {
      const hand = type === 'agent.mcp_tool_use' ? stringOr(p['server_name']) : type === 'agent.tool_use' ? stringOr(p['hand_id']) : null;
      const found = textOf(`${stringOr(p['name']) ?? ''}\n${leaves(p['input'])}`, hand);
      const id = stringOr(p['tool_use_id']);
      return found === null || id === null ? found : { ...found, toolUseId: id };
    }
    case 'agent.tool_result':
    case 'agent.mcp_tool_result':
    case 'user.custom_tool_result': {
      const structured = p['structured_content'] === undefined ? '' : `\n${leaves(p['structured_content'])}`;
      const found = textOf(`${blocksText(p['content'])}${structured}`, null);
      const id = stringOr(p['tool_use_id']) ?? stringOr(p['custom_tool_use_id']);
      return found === null || id === null ? found : { ...found, toolUseId: id };
    }
    default:
      return null;
  }
}

function textOf(text: string, hand: string | null): Extracted | null {
  const trimmed = text.trim();
  if (trimmed.length === 0) return null;
  const capped = trimmed.length > MAX_INDEXED_CHARS ? trimmed.slice(0, MAX_INDEXED_CHARS) : trimmed;
  return { body: capped.replace(MARKERS, ' '), hand };
}

function stringOr(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function blocksText(content: unknown): string {
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const block of content) {
    if (block !== null && typeof block === 'object' && (block as Payload)['type'] === 'text') {
      const text = (block as Payload)['text'];
      if (typeof text === 'string') parts.push(text);
    }
  }
  return parts.join('\n');
}

/** Every string, number and boolean in a JSON value, one a line (a tool input's command, path, text…). */
function leaves(value: unknown): string {
  const parts: string[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (depth > 32 || node === null || node === undefined) return;
    if (typeof node === 'string') parts.push(node);
    else if (typeof node === 'number' || typeof node === 'boolean') parts.push(String(node));
    else if (Array.isArray(node)) for (const item of node) walk(item, depth + 1);
    else if (typeof node === 'object') for (const item of Object.values(node)) walk(item, depth + 1);
  };
  walk(value, 0);
  return parts.join('\n');
}
