// A session's threads through the Managed Agents API with the official SDK as the client: list
// (statuses[], pages), retrieve (agent from the roster, usage and cost per thread), a thread's
// events (its own, in the service's shapes), its live stream (only its frames), the session's own
// list and stream (every thread's events marked with its session_thread_id, the lifecycle), archive (an event in the log: forks
// after it inherit it); and bad
// input by raw HTTP — unknown sessions and threads 404, bad bodies and queries 400 — recording
// nothing. The session's log is the one the harness writes for a coordinator and two threads
// (test/support/thread-log.ts), appended to a real store; its opening user.message is left out so
// the harness has nothing to wake for.
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type { BetaManagedAgentsSession } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import type { BetaManagedAgentsSessionThread } from '@anthropic-ai/sdk/resources/beta/sessions/threads/threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEvent } from '#shared/events';
import { SessionSummarySchema } from '#shared/sessions';
import { threadOf } from '#shared/thread-view';
import { apiRig, rawRequest, type ApiRig, type RawAnswer } from '#test/support/api-rig';
import { BUILDER, TESTER, threadSessionEvents } from '#test/support/thread-log';
import { usageTotals } from '#services/harness/models';
import { externalId } from './ids.ts';

let rig: ApiRig;
let id: string;
let sesn: string;
let primary: string;

const ROSTER: NewEvent = {
  type: 'session.roster_set',
  payload: {
    agents: [{ name: 'tester', model: 'claude-haiku-4-5', system: 'You run the tests.' }, { name: 'builder' }],
    self_copies: false,
  },
};

beforeEach(async () => {
  rig = await apiRig();
  const outcome = await rig.host.dispatch('sessions-launch', { title: 'api threads' });
  if (!outcome.ok) throw new Error(outcome.error.message);
  id = SessionSummarySchema.parse(outcome.result).id;
  sesn = externalId('session', id);
  primary = `sthr_${id.replaceAll('-', '')}`;
  rig.store.emitEvents(id, [ROSTER, ...threadSessionEvents().slice(1)]);
});

afterEach(async () => {
  await rig.close();
});

async function threads(query: Record<string, unknown> = {}): Promise<BetaManagedAgentsSessionThread[]> {
  const list: BetaManagedAgentsSessionThread[] = [];
  for await (const thread of rig.client.beta.sessions.threads.list(sesn, query)) list.push(thread);
  return list;
}

async function events(thread: string, query: Record<string, unknown> = {}): Promise<BetaManagedAgentsSessionEvent[]> {
  const list: BetaManagedAgentsSessionEvent[] = [];
  for await (const event of rig.client.beta.sessions.threads.events.list(thread, { session_id: sesn, ...query })) list.push(event);
  return list;
}

const raw = (path: string, init?: RequestInit): Promise<RawAnswer> => rawRequest(rig, path, init);

function textOf(blocks: readonly { type: string }[]): string {
  return blocks.map((block) => ('text' in block && typeof block.text === 'string' ? block.text : '')).join('');
}

/** Each thread's list cost in cents, priced as the sessions list prices the whole session. */
function cents(thread: string | null): string {
  const ends = rig.store.getEvents(id, { types: ['span.model_request_end'] }).filter((event) => threadOf(event) === thread);
  return String(Math.round(usageTotals(ends).cost_usd * 100));
}

describe('threads through the API', () => {
  it('lists the primary and its threads with parents, statuses, agents, usage and cost; statuses[] and pages', async () => {
    const list = await threads();
    expect(list.map((thread) => [thread.id, thread.type, thread.session_id, thread.parent_thread_id, thread.status])).toEqual([
      [primary, 'session_thread', sesn, null, 'idle'],
      [TESTER, 'session_thread', sesn, primary, 'terminated'],
      [BUILDER, 'session_thread', sesn, primary, 'idle'],
    ]);
    const [main, tester, builder] = list;
    expect(main?.agent).toMatchObject({ type: 'agent', name: 'Drover session' });
    expect(tester?.agent).toMatchObject({
      type: 'inline',
      name: 'tester',
      model: { id: 'claude-haiku-4-5' },
      system: 'You run the tests.',
    });
    // An agent the roster gives no model runs on the session's.
    expect(builder?.agent).toMatchObject({ type: 'inline', name: 'builder', model: main?.agent.model });
    expect(tester?.usage).toMatchObject({ input_tokens: 4000, output_tokens: 600, cache_read_input_tokens: 0 });
    expect(builder?.usage).toMatchObject({ input_tokens: 1000, output_tokens: 100 });
    expect(main?.usage).toMatchObject({ input_tokens: 4000, output_tokens: 300 });
    expect([main, tester, builder].map((thread) => thread?.usage?.list_cost)).toEqual(
      [null, TESTER, BUILDER].map((thread) => ({ amount: cents(thread), currency: 'USD' })),
    );
    expect(Number(cents(TESTER))).toBeGreaterThan(Number(cents(BUILDER)));
    expect(tester?.stats?.startup_seconds).toBe(0);
    expect(tester?.archived_at).toBeNull();

    expect((await threads({ statuses: ['terminated'] })).map((thread) => thread.id)).toEqual([TESTER]);
    expect((await threads({ statuses: ['idle', 'running'] })).map((thread) => thread.id)).toEqual([primary, BUILDER]);
    // One per page: the SDK follows next_page through all three.
    const page = await rig.client.beta.sessions.threads.list(sesn, { limit: 1 });
    expect(page.data.map((thread) => thread.id)).toEqual([primary]);
    expect(page.next_page).not.toBeNull();
    expect((await threads({ limit: 1 })).map((thread) => thread.id)).toEqual([primary, TESTER, BUILDER]);
  });

  it('retrieves a thread, the primary included; lists a thread’s own events in the service’s shapes', async () => {
    const tester = await rig.client.beta.sessions.threads.retrieve(TESTER, { session_id: sesn });
    expect(tester).toEqual((await threads())[1]);
    expect((await rig.client.beta.sessions.threads.retrieve(primary, { session_id: sesn })).parent_thread_id).toBeNull();

    const own = await events(TESTER);
    expect(own.map((event) => event.type)).toEqual([
      'session.thread_created',
      'session.thread_status_running',
      'span.model_request_start',
      'span.model_request_end',
      'agent.tool_use',
      'agent.tool_result',
      'span.model_request_start',
      'span.model_request_end',
      'agent.message',
      'session.thread_status_idle',
      'agent.thread_message_sent',
      'session.thread_status_terminated',
    ]);
    expect(own[0]).toMatchObject({
      type: 'session.thread_created',
      session_thread_id: TESTER,
      agent_name: 'tester',
      workflow_run_id: null,
    });
    expect(own[9]).toMatchObject({
      type: 'session.thread_status_idle',
      session_thread_id: TESTER,
      agent_name: 'tester',
      stop_reason: { type: 'end_turn' },
    });
    expect(own[10]).toMatchObject({ type: 'agent.thread_message_sent', to_session_thread_id: primary, to_agent_name: 'coordinator' });
    // A tool result names its tool use by the use's event id, as on the session's list.
    expect(own[5]).toMatchObject({ type: 'agent.tool_result', tool_use_id: own[4]?.id });
    // Pages of three give the same events.
    expect((await events(TESTER, { limit: 3 })).map((event) => event.id)).toEqual(own.map((event) => event.id));

    // The primary's: its own events, the threads it started, and the replies it received.
    const main = await events(primary);
    const types = main.map((event) => event.type);
    expect(types.filter((type) => type === 'session.thread_created')).toHaveLength(2);
    expect(main.filter((event) => event.type === 'agent.thread_message_received')).toEqual([
      expect.objectContaining({ from_session_thread_id: TESTER, from_agent_name: 'tester' }),
      expect.objectContaining({ from_session_thread_id: BUILDER, from_agent_name: 'builder' }),
    ]);
    expect(types).not.toContain('agent.tool_use');
    expect(types.at(-1)).toBe('session.status_idle');
    const builderTexts = (await events(BUILDER))
      .filter((event) => event.type === 'agent.message')
      .map((event) => (event.type === 'agent.message' ? textOf(event.content) : ''));
    expect(builderTexts).toEqual(['builder is done: all good.']);
  });

  it("streams only the thread's events as they become durable", async () => {
    const stream = await rig.client.beta.sessions.threads.events.stream(BUILDER, { session_id: sesn });
    const seen: BetaManagedAgentsSessionEvent[] = [];
    const reading = (async () => {
      for await (const event of stream) {
        seen.push(event as BetaManagedAgentsSessionEvent);
        if (event.type === 'session.thread_status_terminated') break;
      }
    })();
    rig.store.emitEvents(id, [
      { type: 'agent.message', payload: { content: [{ type: 'text', text: 'not the builder' }], session_thread_id: TESTER } },
      { type: 'agent.message', payload: { content: [{ type: 'text', text: 'the builder again' }], session_thread_id: BUILDER } },
      { type: 'agent.message', payload: { content: [{ type: 'text', text: 'the coordinator' }] } },
      { type: 'session.thread_status_terminated', payload: { session_thread_id: BUILDER, reason: 'done' } },
    ]);
    await reading;
    expect(seen.map((event) => [event.type, event.type === 'agent.message' ? textOf(event.content) : ''])).toEqual([
      ['agent.message', 'the builder again'],
      ['session.thread_status_terminated', ''],
    ]);
    expect(seen[1]).toMatchObject({ session_thread_id: BUILDER, agent_name: 'builder' });
  });

  it("the session's list and stream show every thread's events with its session_thread_id, and the thread lifecycle", async () => {
    const log = rig.store.getEvents(id);
    const all: BetaManagedAgentsSessionEvent[] = [];
    for await (const event of rig.client.beta.sessions.events.list(sesn, { limit: 7 })) all.push(event);
    const threadOfApi = (event: BetaManagedAgentsSessionEvent): string | null =>
      'session_thread_id' in event && typeof event.session_thread_id === 'string' ? event.session_thread_id : null;
    // Every API event of the log, in its order: the thread lifecycle included, Drover's own types left out.
    const lifecycle = [
      'session.thread_created',
      'session.thread_status_running',
      'session.thread_status_idle',
      'session.thread_status_terminated',
      'agent.thread_message_sent',
      'agent.thread_message_received',
    ];
    const stored = log.filter((event) => event.type !== 'session.roster_set' && event.type !== 'session.configured');
    expect(all.map((event) => event.id)).toEqual(stored.map((event) => externalId('event', event.id)));
    for (const type of lifecycle) expect(all.map((event) => event.type)).toContain(type);
    // A thread's events carry its id; the primary's carry none (a session without threads reads as before).
    expect(all.map(threadOfApi)).toEqual(stored.map((event) => threadOf(event)));
    const byThread = (thread: string | null) => all.filter((event) => threadOfApi(event) === thread).map((event) => event.type);
    expect(byThread(TESTER)).toContain('agent.tool_use');
    expect(byThread(BUILDER)).toContain('agent.message');
    expect(byThread(null)).toContain('session.status_idle');
    expect(byThread(null)).not.toContain('agent.thread_message_sent');
    const created = all.filter((event) => event.type === 'session.thread_created');
    expect(created).toEqual([
      expect.objectContaining({ session_thread_id: TESTER, agent_name: 'tester', workflow_run_id: null }),
      expect.objectContaining({ session_thread_id: BUILDER, agent_name: 'builder' }),
    ]);
    expect(all.filter((event) => event.type === 'agent.thread_message_sent')).toEqual([
      expect.objectContaining({ session_thread_id: TESTER, to_session_thread_id: primary, to_agent_name: 'coordinator' }),
      expect.objectContaining({ session_thread_id: BUILDER, to_session_thread_id: primary, to_agent_name: 'coordinator' }),
    ]);
    expect(all.find((event) => event.type === 'session.thread_status_idle')).toMatchObject({
      session_thread_id: TESTER,
      agent_name: 'tester',
      stop_reason: { type: 'end_turn' },
    });
    // types[] takes the thread types (the service's names).
    const picked: BetaManagedAgentsSessionEvent[] = [];
    for await (const event of rig.client.beta.sessions.events.list(sesn, { types: ['session.thread_created', 'agent.tool_use'] }))
      picked.push(event);
    expect(picked.map((event) => [event.type, threadOfApi(event)])).toEqual(
      stored
        .filter((event) => event.type === 'session.thread_created' || event.type === 'agent.tool_use')
        .map((event) => [event.type, threadOf(event)]),
    );

    // The session's stream: a thread's new events with its id, the primary's without, a thread's end.
    const stream = await rig.client.beta.sessions.events.stream(sesn);
    const seen: BetaManagedAgentsSessionEvent[] = [];
    const reading = (async () => {
      for await (const event of stream) {
        seen.push(event as BetaManagedAgentsSessionEvent);
        if (event.type === 'session.thread_status_terminated') break;
      }
    })();
    rig.store.emitEvents(id, [
      { type: 'agent.message', payload: { content: [{ type: 'text', text: 'builder again' }], session_thread_id: BUILDER } },
      { type: 'agent.message', payload: { content: [{ type: 'text', text: 'the coordinator' }] } },
      { type: 'session.thread_status_terminated', payload: { session_thread_id: BUILDER, reason: 'done' } },
    ]);
    await reading;
    expect(seen.map((event) => [event.type, event.type === 'agent.message' ? textOf(event.content) : '', threadOfApi(event)])).toEqual([
      ['agent.message', 'builder again', BUILDER],
      ['agent.message', 'the coordinator', null],
      ['session.thread_status_terminated', '', BUILDER],
    ]);
    expect(seen[0]).not.toHaveProperty('agent_name');
    expect(seen[2]).toMatchObject({ agent_name: 'builder' });
  });

  it('archives an ended or idle thread once, in the log; refuses the primary and a running thread, recording nothing', async () => {
    const lastSeq = rig.store.getSession(id).lastSeq;
    const archived = await rig.client.beta.sessions.threads.archive(TESTER, { session_id: sesn });
    // One event, session.thread_archived, whose time is the thread's archived_at.
    const recorded = rig.store.getEvents(id, { afterSeq: lastSeq });
    expect(recorded.map((event) => [event.type, event.payload])).toEqual([['session.thread_archived', { session_thread_id: TESTER }]]);
    expect(archived).toMatchObject({ id: TESTER, archived_at: recorded[0]?.ts, status: 'terminated' });
    expect((await rig.client.beta.sessions.threads.retrieve(TESTER, { session_id: sesn })).archived_at).toBe(archived.archived_at);
    // Again: answered as it is, nothing recorded.
    expect((await rig.client.beta.sessions.threads.archive(TESTER, { session_id: sesn })).archived_at).toBe(archived.archived_at);
    expect(rig.store.getSession(id).lastSeq).toBe(lastSeq + 1);
    expect((await rig.client.beta.sessions.threads.retrieve(BUILDER, { session_id: sesn })).archived_at).toBeNull();

    rig.store.emitEvents(id, [
      {
        type: 'session.thread_created',
        payload: { session_thread_id: 'sthr_runner0001', agent_name: 'builder', task: 'Keep going.', hands: [] },
      },
      { type: 'session.thread_status_running', payload: { session_thread_id: 'sthr_runner0001' } },
    ]);
    const before = rig.store.getSession(id).lastSeq;
    const running = await raw(`/v1/sessions/${sesn}/threads/sthr_runner0001/archive`, { method: 'POST' });
    expect(running.status).toBe(400);
    expect(running.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(running.body.error?.message).toContain('is running: a running thread cannot be archived. Wait until it is idle or ended');
    const main = await raw(`/v1/sessions/${sesn}/threads/${primary}/archive`, { method: 'POST' });
    expect(main.status).toBe(400);
    expect(main.body.error?.message).toContain('Archive the session instead');
    expect(rig.store.getSession(id).lastSeq).toBe(before);
  });

  it('the list shows an archived thread from the log; a fork after the archive sees it archived, a fork before does not', async () => {
    const visible: BetaManagedAgentsSessionEvent[] = [];
    for await (const event of rig.client.beta.sessions.events.list(sesn)) visible.push(event);
    const beforeArchive = visible.at(-1)?.id ?? '';
    const archived = await rig.client.beta.sessions.threads.archive(BUILDER, { session_id: sesn });
    expect(archived.status).toBe('idle');
    const listed = await threads();
    expect(listed.map((thread) => [thread.id, thread.archived_at])).toEqual([
      [primary, null],
      [TESTER, null],
      [BUILDER, archived.archived_at],
    ]);
    // The archive is no event of the service's union: the session's list does not show it.
    const after: BetaManagedAgentsSessionEvent[] = [];
    for await (const event of rig.client.beta.sessions.events.list(sesn)) after.push(event);
    expect(after.map((event) => event.id)).toEqual(visible.map((event) => event.id));

    const [mark] = rig.store.getEvents(id, { types: ['session.thread_archived'] });
    const forkAt = async (atEventId: string): Promise<BetaManagedAgentsSessionThread[]> => {
      const fork = await rig.client.post<BetaManagedAgentsSession>(`/v1/sessions/${sesn}/fork`, { body: { at_event_id: atEventId } });
      const list: BetaManagedAgentsSessionThread[] = [];
      for await (const thread of rig.client.beta.sessions.threads.list(fork.id)) list.push(thread);
      return list;
    };
    const forkedAfter = await forkAt(`sevt_${mark?.id.replaceAll('-', '') ?? ''}`);
    expect(forkedAfter.find((thread) => thread.id === BUILDER)?.archived_at).toBe(archived.archived_at);
    const forkedBefore = await forkAt(beforeArchive);
    expect(forkedBefore.find((thread) => thread.id === BUILDER)).toMatchObject({ archived_at: null });
    // The original keeps its mark.
    expect((await rig.client.beta.sessions.threads.retrieve(BUILDER, { session_id: sesn })).archived_at).toBe(archived.archived_at);
  });

  it('unknown sessions and threads are 404; bad bodies and queries are 400 in the service’s shape, recording nothing', async () => {
    const lastSeq = rig.store.getSession(id).lastSeq;
    const unknownSession = externalId('session', '00000000-0000-4000-8000-000000000000');
    const notFound = [
      await raw(`/v1/sessions/${unknownSession}/threads`),
      await raw(`/v1/sessions/not-a-session/threads/${TESTER}`),
      await raw(`/v1/sessions/${sesn}/threads/sthr_nothere0001`),
      await raw(`/v1/sessions/${sesn}/threads/garbage`),
      await raw(`/v1/sessions/${sesn}/threads/sthr_nothere0001/events`),
      await raw(`/v1/sessions/${sesn}/threads/sthr_nothere0001/archive`, { method: 'POST' }),
      await raw(`/v1/sessions/${sesn}/threads/sthr_nothere0001/stream`),
    ];
    for (const answer of notFound) {
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    }
    const bad = [
      await raw(`/v1/sessions/${sesn}/threads/${TESTER}/archive`, { method: 'POST', body: JSON.stringify({ reason: 'x' }) }),
      await raw(`/v1/sessions/${sesn}/threads?statuses[]=sleeping`),
      await raw(`/v1/sessions/${sesn}/threads?order=desc`),
      await raw(`/v1/sessions/${sesn}/threads?limit=0`),
      await raw(`/v1/sessions/${sesn}/threads?page=not-a-cursor`),
      await raw(`/v1/sessions/${sesn}/threads/${TESTER}/events?types[]=agent.message`),
      await raw(`/v1/sessions/${sesn}/threads/${TESTER}/stream?event_deltas[]=agent.message`),
      await raw(`/v1/sessions/${sesn}/threads/${TESTER}?verbose=1`),
    ];
    for (const answer of bad) {
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
      expect(answer.body.error?.message.length).toBeGreaterThan(20);
    }
    expect(bad[0]?.body.error?.message).toContain('takes no body');
    expect(bad[1]?.body.error?.message).toContain('statuses[] takes running, idle, rescheduling, terminated');
    expect(rig.store.getSession(id).lastSeq).toBe(lastSeq);
  });
});
