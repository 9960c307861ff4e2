// A session's threads folded from a real store's log (SQLite in a temp dir): agents, parents,
// statuses, per-thread tokens and cost, the lane of every event, incremental reads, and a fork
// taken inside a thread showing every thread as it was at that event.
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { threadOf } from '#shared/thread-view';
import { tempDir } from '#test/support/system';
import { BUILDER, TESTER, coordinatorStart, threadSessionEvents } from '#test/support/thread-log';
import { SessionStore } from '#services/session/store';
import { usageTotals } from './models.ts';
import { ThreadViews } from './thread-views.ts';

let dir: string;
let store: SessionStore;

beforeEach(() => {
  dir = tempDir('drover-threads-');
  store = SessionStore.open({ dataDir: dir, appVersion: '1.0.0-test' });
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ThreadViews', () => {
  it('folds the primary and its two threads: agents, parents, statuses, tokens, cost and the lane of every event', () => {
    const session = store.createSession({ title: 'threads' });
    const stored = store.emitEvents(session.id, threadSessionEvents());
    const view = new ThreadViews(store).view(session.id);

    expect(view.threads.map((thread) => [thread.id, thread.agentName, thread.parentId, thread.status, thread.stopReason])).toEqual([
      [null, 'coordinator', null, 'idle', null],
      [TESTER, 'tester', null, 'terminated', 'ended by the coordinator'],
      [BUILDER, 'builder', null, 'idle', null],
    ]);
    const [primary, tester, builder] = view.threads;
    expect([primary?.inputTokens, tester?.inputTokens, builder?.inputTokens]).toEqual([4000, 4000, 1000]);
    expect([primary?.outputTokens, tester?.outputTokens, builder?.outputTokens]).toEqual([300, 600, 100]);
    expect([primary?.requests, tester?.requests, builder?.requests]).toEqual([2, 2, 2]);
    // Each thread is priced on its own requests, with the sessions list's prices; together they are the session's cost.
    for (const [index, id] of [null, TESTER, BUILDER].entries()) {
      const ends = stored.filter((event) => event.type === 'span.model_request_end' && threadOf(event) === id);
      expect(view.threads[index]?.costUsd).toBeCloseTo(usageTotals(ends).cost_usd, 10);
    }
    const total = view.threads.reduce((sum, thread) => sum + thread.costUsd, 0);
    expect(total).toBeCloseTo(usageTotals(stored).cost_usd, 10);
    expect(tester?.costUsd).toBeGreaterThan(builder?.costUsd ?? Infinity);

    // One lane code per event, in seq order, naming the thread the event's payload names.
    expect(view.lanes.fromSeq).toBe(1);
    expect(view.lanes.codes).toHaveLength(stored.length);
    expect(view.lanes.codes).toEqual(stored.map((event) => [null, TESTER, BUILDER].indexOf(threadOf(event))));
    expect(view.throughSeq).toBe(stored.length);
    expect(view.threads.reduce((sum, thread) => sum + thread.events, 0)).toBe(stored.length);
  });

  it('reads only what was appended since the last call, and answers the lanes after afterSeq', () => {
    const session = store.createSession({ title: 'growing' });
    const views = new ThreadViews(store);
    const first = store.emitEvents(session.id, coordinatorStart());
    const before = views.view(session.id);
    expect(before.threads.map((thread) => thread.status)).toEqual(['running', 'running', 'running']);
    const rest = store.emitEvents(session.id, threadSessionEvents().slice(first.length));
    const after = views.view(session.id, first.length);
    expect(after.lanes.fromSeq).toBe(first.length + 1);
    expect(after.lanes.codes).toEqual(rest.map((event) => [null, TESTER, BUILDER].indexOf(threadOf(event))));
    expect(after.threads.map((thread) => thread.status)).toEqual(['idle', 'terminated', 'idle']);
    // A new fold of the same log agrees with the incremental one.
    expect(new ThreadViews(store).view(session.id, first.length)).toEqual(after);
  });

  it('a session without threads has only its primary and no lanes to draw', () => {
    const session = store.createSession({ title: 'single' });
    store.emitEvents(session.id, [
      { type: 'user.message', payload: { content: [{ type: 'text', text: 'hi' }] } },
      { type: 'session.status_running', payload: {} },
      { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } },
    ]);
    const view = new ThreadViews(store).view(session.id);
    expect(view.threads.map((thread) => [thread.id, thread.status, thread.events])).toEqual([[null, 'idle', 3]]);
    expect(view.lanes).toEqual({ fromSeq: 1, codes: [] });
  });

  it('a fork at an event inside a thread has every thread as it was then, and its own events after', () => {
    const session = store.createSession({ title: 'parent' });
    const stored = store.emitEvents(session.id, threadSessionEvents());
    // The tester's tool result: both threads are running, neither has reported yet.
    const at = stored.find((event) => event.type === 'agent.tool_result' && threadOf(event) === TESTER)?.seq ?? 0;
    const fork = store.fork(session.id, at);
    const views = new ThreadViews(store);
    const forked = views.view(fork.id);
    expect(forked.threads.map((thread) => [thread.id, thread.status])).toEqual([
      [null, 'running'],
      [TESTER, 'running'],
      [BUILDER, 'running'],
    ]);
    // The fork's first own event (session.forked) is the primary's; the parent keeps its whole story.
    expect(forked.lanes.codes).toEqual([...stored.slice(0, at).map((event) => [null, TESTER, BUILDER].indexOf(threadOf(event))), 0]);
    expect(views.view(session.id).threads.map((thread) => thread.status)).toEqual(['idle', 'terminated', 'idle']);
    // The fork's threads carry on in the fork only.
    store.emitEvent(fork.id, {
      type: 'session.thread_status_terminated',
      payload: { session_thread_id: BUILDER, reason: 'stopped in the fork' },
    });
    expect(views.view(fork.id).threads[2]).toMatchObject({ status: 'terminated', stopReason: 'stopped in the fork' });
    expect(views.view(session.id).threads[2]).toMatchObject({ status: 'idle' });
  });

  it('archives a thread in the log: its archivedAt from the event, once; refuses a running thread or one not in the session, writing nothing', () => {
    const session = store.createSession({ title: 'archive' });
    store.emitEvents(session.id, threadSessionEvents());
    const views = new ThreadViews(store);
    const lastSeq = store.getSession(session.id).lastSeq;
    const archived = views.archive(session.id, BUILDER);
    const [mark] = store.getEvents(session.id, { afterSeq: lastSeq });
    expect(mark).toMatchObject({ type: 'session.thread_archived', payload: { session_thread_id: BUILDER } });
    expect(archived).toMatchObject({ id: BUILDER, archivedAt: mark?.ts, status: 'idle' });
    expect(views.archive(session.id, BUILDER).archivedAt).toBe(mark?.ts);
    expect(views.threads(session.id).map((thread) => thread.archivedAt)).toEqual([null, null, mark?.ts]);
    // A fresh fold (a new process) reads the same from the log; the event is in nobody's lane but the thread's.
    expect(new ThreadViews(store).threads(session.id).map((thread) => thread.archivedAt)).toEqual([null, null, mark?.ts]);

    store.emitEvents(session.id, [
      { type: 'session.thread_created', payload: { session_thread_id: 'sthr_runner0001', agent_name: 'builder', task: 'Go.', hands: [] } },
      { type: 'session.thread_status_running', payload: { session_thread_id: 'sthr_runner0001' } },
    ]);
    const before = store.getSession(session.id).lastSeq;
    expect(() => views.archive(session.id, 'sthr_runner0001')).toThrow(/is running: a running thread cannot be archived/);
    expect(() => views.archive(session.id, 'sthr_nothere0001')).toThrow(/has no thread sthr_nothere0001/);
    expect(store.getSession(session.id).lastSeq).toBe(before);
  });
});
