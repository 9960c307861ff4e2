import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import type { SessionThreads, ThreadSummary } from '#shared/thread-view';
import { ThreadLanes, compact, eventsOfThread, hasThreadCreated, threadLabels, threadTree, tokensText } from './thread-model.ts';

function thread(id: string | null, agentName: string, parentId: string | null = null): ThreadSummary {
  return {
    id,
    agentName,
    parentId,
    task: id === null ? '' : `task of ${agentName}`,
    status: 'running',
    stopReason: null,
    createdSeq: 0,
    createdAt: null,
    updatedAt: null,
    archivedAt: null,
    events: 0,
    requests: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheCreationTokens: 0,
    costUsd: 0,
    unpricedModels: [],
    activeMs: 0,
  };
}

const A = 'sthr_aaaaaaaa';
const B = 'sthr_bbbbbbbb';
const C = 'sthr_cccccccc';
const threads = [thread(null, 'coordinator'), thread(A, 'tester'), thread(B, 'tester'), thread(C, 'builder', A)];

let seq = 0;
function event(type: StoredEvent['type'], payload: Record<string, unknown>): StoredEvent {
  seq++;
  return { seq, id: `id${seq}`, ts: '2026-01-01T00:00:00.000Z', type, payload } as StoredEvent;
}

describe('ThreadLanes', () => {
  it('answers the fold’s lane up to throughSeq and the payload’s thread after it; merges later answers', () => {
    const first: SessionThreads = { threads, throughSeq: 4, lanes: { fromSeq: 1, codes: [0, 1, 2, 0] } };
    const lanes = ThreadLanes.EMPTY.merge(first);
    expect(lanes.many).toBe(true);
    expect([1, 2, 3, 4].map((at) => lanes.laneAt(at))).toEqual([0, 1, 2, 0]);
    // Pushed since the fold: read from the event itself, unknown threads on the primary's lane.
    expect(lanes.laneAt(5, { payload: { session_thread_id: C } })).toBe(3);
    expect(lanes.laneAt(5, { payload: { session_thread_id: 'sthr_unknown1' } })).toBe(0);
    expect(lanes.laneAt(5)).toBe(0);
    const later = lanes.merge({ threads, throughSeq: 2000, lanes: { fromSeq: 5, codes: [3, ...Array<number>(1995).fill(1)] } });
    expect([4, 5, 6, 2000].map((at) => later.laneAt(at))).toEqual([0, 3, 1, 1]);
    expect(later.indexOfThread(B)).toBe(2);
    expect(later.indexOfThread('sthr_nothere1')).toBe(-1);
    expect(ThreadLanes.EMPTY.many).toBe(false);
  });
});

describe('thread model', () => {
  it('labels threads by agent, numbering agents that run more than once', () => {
    expect(threadLabels(threads)).toEqual(['coordinator', 'tester 1', 'tester 2', 'builder']);
  });

  it('nests threads under the thread that started them, the primary at the root', () => {
    const root = threadTree(threads);
    expect(root?.label).toBe('coordinator');
    expect(root?.children.map((child) => child.label)).toEqual(['tester 1', 'tester 2']);
    expect(root?.children[0]?.children.map((child) => [child.label, child.index])).toEqual([['builder', 3]]);
    expect(threadTree([])).toBeNull();
  });

  it("one thread's events: its own, and the threads it started", () => {
    seq = 0;
    const events = [
      event('user.message', { content: [{ type: 'text', text: 'go' }] }),
      event('session.thread_created', { session_thread_id: A, agent_name: 'tester', task: 't', hands: [] }),
      event('agent.message', { content: [], session_thread_id: A }),
      event('session.thread_created', { session_thread_id: C, agent_name: 'builder', parent_thread_id: A, task: 'b', hands: [] }),
      event('agent.message', { content: [], session_thread_id: C }),
      event('agent.thread_message_received', { from_thread_id: A, content: [{ type: 'text', text: 'done' }] }),
    ];
    const seqs = (list: StoredEvent[]) => list.map((each) => each.seq);
    expect(seqs(eventsOfThread(events, undefined))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seqs(eventsOfThread(events, null))).toEqual([1, 2, 6]);
    expect(seqs(eventsOfThread(events, A))).toEqual([2, 3, 4]);
    expect(seqs(eventsOfThread(events, C))).toEqual([4, 5]);
  });

  it('finds a thread creation among the timeline types; says tokens briefly', () => {
    const types = ['user.message', 'agent.message', 'session.thread_created'];
    expect(hasThreadCreated((at) => types[at - 1], 1, 3)).toBe(true);
    expect(hasThreadCreated((at) => types[at - 1], 1, 2)).toBe(false);
    expect(hasThreadCreated((at) => types[at - 1], 4, 3)).toBe(false);
    expect(tokensText({ inputTokens: 12_345, outputTokens: 999, cacheReadTokens: 0 })).toBe('12k in · 999 out');
    expect(tokensText({ inputTokens: 1500, outputTokens: 2_500_000, cacheReadTokens: 2000 })).toBe('1.5k in · 2.0k cached · 2.5M out');
    expect(compact(0)).toBe('0');
  });
});
