import { describe, expect, it } from 'vitest';
import type { NewEvent, StoredEvent } from './events.ts';
import { copyName, describeHolding, handHolders, isCopyName } from './hand-holders.ts';

const TESTER = 'sthr_tester0001';
const BUILDER = 'sthr_builder001';
const HELPER = 'sthr_helper0001';

/** A log from plain events: seq 1, 2, … in order. */
function log(...events: NewEvent[]): StoredEvent[] {
  return events.map((event, index) => ({ ...event, seq: index + 1, id: `e${index + 1}`, ts: '2026-12-03T00:00:00.000Z' }) as StoredEvent);
}

const created = (thread: string, agent: string, parent?: string): NewEvent => ({
  type: 'session.thread_created',
  payload: { session_thread_id: thread, agent_name: agent, task: 'work', hands: [], ...(parent ? { parent_thread_id: parent } : {}) },
});
const access = (
  thread: string,
  hand: string,
  mode: 'shared' | 'read_only' | 'fresh',
  action: 'granted' | 'returned',
  copy?: string,
): NewEvent => ({
  type: 'hand.thread_access',
  payload: { hand, session_thread_id: thread, mode, action, ...(copy ? { fresh_hand: copy } : {}) },
});

describe('handHolders', () => {
  const events = log(
    { type: 'hand.attached', payload: { hand_id: 'box', config: { kind: 'ssh', host: 'h', user: 'u', port: 22 } as never } }, // 1
    created(TESTER, 'tester'), // 2
    access(TESTER, 'box', 'shared', 'granted'), // 3
    created(BUILDER, 'builder'), // 4
    access(BUILDER, 'box', 'fresh', 'granted', copyName('box', BUILDER)), // 5
    created(HELPER, 'helper', BUILDER), // 6
    access(HELPER, 'box', 'shared', 'granted'), // 7
    access(TESTER, 'box', 'shared', 'returned'), // 8
    { type: 'session.thread_status_terminated', payload: { session_thread_id: BUILDER } }, // 9
    { type: 'hand.detached', payload: { hand_id: 'box' } }, // 10
  );

  it('says who holds which hand in which mode at each event', () => {
    expect(handHolders(events, 2)).toEqual([]);
    expect(handHolders(events, 3)).toEqual([
      {
        hand: 'box',
        session_thread_id: TESTER,
        agent_name: 'tester',
        mode: 'shared',
        copy: null,
        source: 'box',
        runsOn: 'box',
        grantedSeq: 3,
      },
    ]);
    const at7 = handHolders(events, 7);
    expect(at7.map((holding) => [holding.session_thread_id, holding.mode, holding.copy, holding.runsOn])).toEqual([
      [TESTER, 'shared', null, 'box'],
      [BUILDER, 'fresh', 'box~builder0', 'box~builder0'],
      // A thread's thread shares what its parent holds: the parent's copy, not the session's hand.
      [HELPER, 'shared', null, 'box~builder0'],
    ]);
    expect(handHolders(events, 8).map((holding) => holding.session_thread_id)).toEqual([BUILDER, HELPER]);
  });

  it('ends a thread’s grants when it ends, and every grant of a hand when it is detached', () => {
    expect(handHolders(events, 9).map((holding) => holding.session_thread_id)).toEqual([HELPER]);
    expect(handHolders(events)).toEqual([]);
  });

  it('reads old logs (no thread events) as no holders', () => {
    expect(handHolders(log({ type: 'user.message', payload: { content: [{ type: 'text', text: 'hi' }] } }))).toEqual([]);
  });

  it('names copies apart from attached hands, and says what each holding is', () => {
    expect(copyName('box', 'sthr_a1b2c3d4e5')).toBe('box~a1b2c3d4');
    expect(isCopyName('box~a1b2c3d4')).toBe(true);
    expect(isCopyName('box')).toBe(false);
    const [tester, builder] = handHolders(events, 7);
    expect(tester && describeHolding(tester)).toBe("shared with thread 'tester'");
    expect(builder && describeHolding(builder)).toBe("fresh copy for 'builder'");
    const readOnly = handHolders(log(created(TESTER, 'tester'), access(TESTER, 'docs', 'read_only', 'granted')))[0];
    expect(readOnly && describeHolding(readOnly)).toBe("read-only for 'tester'");
  });
});
