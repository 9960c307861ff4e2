import { describe, expect, it } from 'vitest';
import type { NewEvent, StoredEvent } from '#shared/events';
import { copyName } from '#shared/hand-holders';
import { HAND_TYPES, isHandEventType } from '#renderer/client/session-log.ts';
import { handsAsOf } from './hand-history.ts';

const TESTER = 'sthr_tester0001';
const BUILDER = 'sthr_builder001';

function log(...events: NewEvent[]): StoredEvent[] {
  return events.map((event, index) => ({ ...event, seq: index + 1, id: `e${index + 1}`, ts: '2026-12-03T00:00:00.000Z' }) as StoredEvent);
}

const created = (thread: string, agent: string): NewEvent => ({
  type: 'session.thread_created',
  payload: { session_thread_id: thread, agent_name: agent, task: 'work', hands: [] },
});
const access = (thread: string, mode: 'shared' | 'fresh', action: 'granted' | 'returned', copy?: string): NewEvent => ({
  type: 'hand.thread_access',
  payload: { hand: 'box', session_thread_id: thread, mode, action, ...(copy ? { fresh_hand: copy } : {}) },
});

/** A threaded session's whole log: hand events among messages, model spans and thread statuses. */
const full = log(
  { type: 'hand.attached', payload: { hand_id: 'box', config: { kind: 'ssh', host: 'h', user: 'u', port: 22 } as never } }, // 1
  { type: 'user.message', payload: { content: [{ type: 'text', text: 'build and test' }] } as never }, // 2
  created(TESTER, 'tester'), // 3
  access(TESTER, 'shared', 'granted'), // 4
  { type: 'session.thread_status_running', payload: { session_thread_id: TESTER } }, // 5
  created(BUILDER, 'builder'), // 6
  access(BUILDER, 'fresh', 'granted', copyName('box', BUILDER)), // 7
  { type: 'agent.message', payload: { content: [{ type: 'text', text: 'started both' }] } as never }, // 8
  access(TESTER, 'shared', 'returned'), // 9
  { type: 'session.thread_status_terminated', payload: { session_thread_id: BUILDER } }, // 10
  { type: 'hand.terminal_opened', payload: { hand_id: 'box', terminal_id: 'term_0000000000000001' } }, // 11
);

describe('the Hands panel as of a past event', () => {
  it('shows who held each hand then', () => {
    const holders = (seq: number) => handsAsOf(full, seq)[0]?.holders.map((holding) => [holding.agent_name, holding.mode, holding.copy]);
    expect(holders(2)).toEqual([]);
    expect(holders(4)).toEqual([['tester', 'shared', null]]);
    expect(holders(8)).toEqual([
      ['tester', 'shared', null],
      ['builder', 'fresh', copyName('box', BUILDER)],
    ]);
    expect(holders(9)).toEqual([['builder', 'fresh', copyName('box', BUILDER)]]);
    expect(holders(10)).toEqual([]);
  });

  it('reads only events the session log keeps as hand events, so the past view from them is the same as from the whole log', () => {
    const kept = full.filter((event) => isHandEventType(event.type));
    expect(kept.map((event) => event.seq)).toEqual([1, 3, 4, 6, 7, 9, 10, 11]);
    for (let seq = 1; seq <= full.length; seq++) expect(handsAsOf(kept, seq), `as of event ${seq}`).toEqual(handsAsOf(full, seq));
    expect(HAND_TYPES).toEqual(
      expect.arrayContaining(['hand.thread_access', 'session.thread_created', 'hand.terminal_opened', 'hand.terminal_closed']),
    );
  });
});
