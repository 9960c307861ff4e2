import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type StoredEvent } from '#shared/events';
import { eventName, fallbackName, toolCallName, toolParts } from './event-names.ts';

function stored(type: string, payload: unknown): StoredEvent {
  return { seq: 7, id: 'e7', ts: '2026-12-03T10:00:00.000Z', type, payload } as StoredEvent;
}

describe('event names', () => {
  it('names every event type in words, never as the raw type', () => {
    for (const type of EVENT_TYPES) {
      const name = eventName(type);
      expect(name, type).not.toBe(type);
      expect(name, type).not.toMatch(/[._]/);
      expect(name.length, type).toBeGreaterThan(2);
    }
  });

  it('says which hand and which tool once the payload is there', () => {
    const bash = stored('agent.tool_use', { tool_use_id: 'toolu_1', name: 'box__bash', input: { command: 'ls' } });
    expect(eventName('agent.tool_use')).toBe('Claude used a tool');
    expect(eventName('agent.tool_use', bash)).toBe('Claude ran a command on box');
    const read = stored('agent.tool_use', { tool_use_id: 'toolu_2', name: 'read', input: {}, hand_id: 'work' });
    expect(eventName('agent.tool_use', read)).toBe('Claude read a file on work');
    const mcp = stored('agent.mcp_tool_use', { tool_use_id: 'toolu_3', server_name: 'docs', name: 'docs__search', input: {} });
    expect(eventName('agent.mcp_tool_use', mcp)).toBe('Claude used search on docs');
    expect(toolCallName('lab__editor')).toBe('Claude edited a file on lab');
    expect(toolParts('frobnicate')).toEqual({ hand: null, tool: 'frobnicate' });
  });

  it('names checkpoints, verdicts, results and answers', () => {
    expect(eventName('hand.checkpoint')).toBe('Checkpoint');
    expect(
      eventName(
        'span.outcome_evaluation_end',
        stored('span.outcome_evaluation_end', { iteration: 1, result: 'needs_revision', explanation: '' }),
      ),
    ).toBe('Outcome: needs revision');
    expect(
      eventName(
        'span.outcome_evaluation_end',
        stored('span.outcome_evaluation_end', { iteration: 2, result: 'satisfied', explanation: '' }),
      ),
    ).toBe('Outcome: done');
    const failed = stored('agent.tool_result', { tool_use_id: 't', content: [], is_error: true, status: 'completed' });
    expect(eventName('agent.tool_result', failed)).toBe('Tool failed');
    const cut = stored('agent.tool_result', { tool_use_id: 't', content: [], is_error: true, status: 'interrupted' });
    expect(eventName('agent.tool_result', cut)).toBe('Tool cut off');
    expect(eventName('user.tool_confirmation', stored('user.tool_confirmation', { tool_use_id: 't', result: 'deny' }))).toBe(
      'You denied a tool call',
    );
    expect(eventName('user.message')).toBe('You wrote');
  });

  it('uses the payload only when it is the event of that type', () => {
    const bash = stored('agent.tool_use', { tool_use_id: 'toolu_1', name: 'box__bash', input: {} });
    expect(eventName('agent.message', bash)).toBe('Claude replied');
  });

  it('gives a type it does not know a readable name from its own words', () => {
    expect(fallbackName('hand.port_forwarded')).toBe('Hand: port forwarded');
    expect(eventName('thread.spawned_child')).toBe('Thread: spawned child');
    expect(fallbackName('odd')).toBe('odd');
  });
});
