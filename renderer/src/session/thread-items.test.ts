import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import { threadItem } from './thread-items.ts';
import { transcriptItems } from './transcript-items.ts';

const A = 'sthr_aaaaaaaa';
const names: Record<string, string> = { [A]: 'tester' };
const nameOf = (thread: string | null) => (thread === null ? 'coordinator' : (names[thread] ?? thread));

let seq = 0;
function event(type: StoredEvent['type'], payload: Record<string, unknown>): StoredEvent {
  seq++;
  return { seq, id: `id${seq}`, ts: '2026-01-01T00:00:00.000Z', type, payload } as StoredEvent;
}

describe('thread items', () => {
  const events = [
    event('session.thread_created', {
      session_thread_id: A,
      agent_name: 'tester',
      task: 'Run the tests.',
      hands: [{ hand: 'box', mode: 'read_only' }],
    }),
    event('agent.message', { content: [{ type: 'text', text: 'Tests pass.' }], session_thread_id: A }),
    event('agent.thread_message_sent', { session_thread_id: A, content: [{ type: 'text', text: 'Tests pass.' }] }),
    event('agent.thread_message_received', { from_thread_id: A, content: [{ type: 'text', text: 'Tests pass.' }] }),
    event('session.thread_status_terminated', { session_thread_id: A, reason: 'done' }),
  ];

  it('every thread interleaved: who started whom with which hands, each message once (received), the end', () => {
    const items = transcriptItems(
      events,
      () => undefined,
      (each) => threadItem(each, { nameOf, interleaved: true }),
    );
    expect(items.map((item) => [item.kind, item.seq, 'title' in item ? item.title : '', 'text' in item ? item.text : ''])).toEqual([
      ['thread', 1, 'coordinator started tester with box (read-only)', 'Run the tests.'],
      ['agent', 2, '', 'Tests pass.'],
      ['thread', 4, 'tester → coordinator', 'Tests pass.'],
      ['thread', 5, 'tester ended', 'done'],
    ]);
  });

  it('one thread alone shows the message it sent', () => {
    const sent = events[2] as StoredEvent;
    expect(threadItem(sent, { nameOf, interleaved: false })).toMatchObject({
      kind: 'thread',
      tone: 'message',
      title: 'tester → coordinator',
    });
    expect(threadItem(sent, { nameOf, interleaved: true })).toBeNull();
    expect(threadItem(events[1] as StoredEvent, { nameOf, interleaved: false })).toBeNull();
  });
});
