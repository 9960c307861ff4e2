/**
 * How the UI groups event types: one category per type, each with its own colour (CSS variable
 * `--cat-<category>`) on the timeline, in the event list and its filters. Pure data.
 */
import type { EventType } from '#shared/events';

// New categories go last: a saved event filter is a list of names, and bits follow this order.
export const EVENT_CATEGORIES = ['user', 'agent', 'tool', 'hand', 'session', 'span', 'error', 'outcome'] as const;
export type EventCategory = (typeof EVENT_CATEGORIES)[number];

export const CATEGORY_LABELS: Readonly<Record<EventCategory, string>> = {
  user: 'You',
  agent: 'Claude',
  tool: 'Tools',
  hand: 'Hands',
  session: 'Session',
  span: 'Requests',
  error: 'Errors',
  outcome: 'Outcome',
};

/** Which category a type belongs to; errors, failures and outcome checks get their own, so they stand out. */
export function categoryOf(type: EventType): EventCategory {
  switch (type) {
    case 'session.error':
    case 'hand.failed':
    case 'hand.lost':
    case 'session.status_terminated':
      return 'error';
    // The outcome and its checks: the grader's work is not a request span to skim past.
    case 'user.define_outcome':
    case 'span.outcome_evaluation_start':
    case 'span.outcome_evaluation_end':
      return 'outcome';
    case 'agent.tool_use':
    case 'agent.tool_result':
    case 'agent.mcp_tool_use':
    case 'agent.mcp_tool_result':
      return 'tool';
    default: {
      const prefix = type.slice(0, type.indexOf('.'));
      if (prefix === 'user' || prefix === 'agent' || prefix === 'hand' || prefix === 'session' || prefix === 'span') return prefix;
      return 'session';
    }
  }
}

/**
 * When several events share one pixel of the minimap, the one drawn is the most telling:
 * errors first, then what the user did, the outcome's checks, then hands, tools, Claude, and
 * bookkeeping last.
 */
export const CATEGORY_PRIORITY: Readonly<Record<EventCategory, number>> = {
  error: 7,
  user: 6,
  outcome: 5,
  hand: 4,
  tool: 3,
  agent: 2,
  session: 1,
  span: 0,
};
