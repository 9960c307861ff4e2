/**
 * The search view's pure parts: the filters as a `search` request, the kinds of event a user picks
 * from, and hits grouped by the session they live in (in the order the index returned them).
 */
import type { EventType } from '#shared/events';
import type { SearchArg, SearchHit } from '#shared/search';

export const EVENT_KINDS = {
  messages: { label: 'Messages', types: ['user.message', 'agent.message', 'system.message'] },
  calls: { label: 'Tool calls', types: ['agent.tool_use', 'agent.mcp_tool_use', 'agent.custom_tool_use'] },
  outputs: { label: 'Tool output', types: ['agent.tool_result', 'agent.mcp_tool_result', 'user.custom_tool_result'] },
  summaries: { label: 'Summaries', types: ['agent.thread_context_compacted'] },
} as const satisfies Record<string, { label: string; types: readonly EventType[] }>;
export type EventKind = keyof typeof EVENT_KINDS;

export interface SearchFilters {
  query: string;
  /** '' : every session. */
  sessionId: string;
  hand: string;
  /** '' : every kind. */
  kind: EventKind | '';
  /** yyyy-mm-dd (a date input's value), '' : unbounded; read in the user's time zone. */
  from: string;
  to: string;
}

export const NO_FILTERS: SearchFilters = { query: '', sessionId: '', hand: '', kind: '', from: '', to: '' };

/** The request for these filters (null when there is nothing to search for yet). */
export function searchArg(filters: SearchFilters, cursor?: string): SearchArg | null {
  const query = filters.query.trim();
  if (query === '') return null;
  const arg: SearchArg = { query, limit: 50 };
  if (filters.sessionId !== '') arg.sessionId = filters.sessionId;
  if (filters.hand.trim() !== '') arg.hand = filters.hand.trim();
  if (filters.kind !== '') arg.types = [...EVENT_KINDS[filters.kind].types];
  const from = dayStart(filters.from);
  if (from !== null) arg.from = from;
  const to = dayStart(filters.to, 1);
  if (to !== null) arg.to = new Date(Date.parse(to) - 1).toISOString();
  if (cursor !== undefined) arg.cursor = cursor;
  return arg;
}

/** Midnight (local) of a yyyy-mm-dd day, plus `days`, as an ISO instant; null for '' or nonsense. */
function dayStart(day: string, days = 0): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (match === null) return null;
  const date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + days);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export interface HitGroup {
  sessionId: string;
  title: string;
  hits: SearchHit[];
}

/** Hits grouped by session, groups in the order their first hit came. */
export function groupHits(hits: readonly SearchHit[]): HitGroup[] {
  const groups = new Map<string, HitGroup>();
  for (const hit of hits) {
    let group = groups.get(hit.sessionId);
    if (group === undefined) {
      group = { sessionId: hit.sessionId, title: hit.sessionTitle, hits: [] };
      groups.set(hit.sessionId, group);
    }
    group.hits.push(hit);
  }
  return [...groups.values()];
}

const TYPE_NAMES: Partial<Record<EventType, string>> = {
  'user.message': 'You',
  'agent.message': 'Claude',
  'system.message': 'System message',
  'agent.tool_use': 'Tool call',
  'agent.mcp_tool_use': 'MCP tool call',
  'agent.custom_tool_use': 'Custom tool call',
  'agent.tool_result': 'Tool output',
  'agent.mcp_tool_result': 'MCP tool output',
  'user.custom_tool_result': 'Custom tool output',
  'agent.thread_context_compacted': 'Summary',
};

/** A hit's kind in words ("Tool call on box"). */
export function hitLabel(hit: Pick<SearchHit, 'type' | 'hand'>): string {
  const name = TYPE_NAMES[hit.type] ?? hit.type;
  return hit.hand === null ? name : `${name} on ${hit.hand}`;
}
