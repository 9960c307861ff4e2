// The sessions resource through the official SDK against a real host (store, harness, hands,
// vault) with the local Messages API server as the model: create from an agent id, a pinned
// version or overrides, initial events answered by the model, what the API keeps round-tripping,
// usage and outcome evaluations after a turn, update, archive, delete, and the cockpit's own
// sessions listed and retrievable.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BetaManagedAgentsSession } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import type { StoredEvent } from '#shared/events';
import type { SessionSummary } from '#shared/sessions';
import { VERDICT_TOOL } from '#services/harness/grader';
import { apiRig, endTurn, uuidOf, type ApiRig } from '#test/support/api-rig';
import type { RecordedRequest, Reply } from '#test/support/model-server';

let rig: ApiRig;

/** The grader's requests (a forced verdict tool) are satisfied; every other request ends its turn. */
function fallback(request: RecordedRequest): Reply {
  if (request.body.tool_choice?.type === 'tool') {
    const input = { criteria: [{ criterion: 'It greets', met: true, note: 'It does.' }], verdict: 'satisfied', explanation: 'It greets.' };
    return { kind: 'message', message: { content: [{ type: 'tool_use', name: VERDICT_TOOL, input }], stop_reason: 'tool_use' } };
  }
  return endTurn('Done.');
}

beforeEach(async () => {
  rig = await apiRig({ fallback });
});

afterEach(async () => {
  await rig.close();
});

/** Waits until the session has recorded `count` idle events (its turns ended). */
async function idles(session: { id: string }, count = 1): Promise<StoredEvent[]> {
  const uuid = uuidOf(session);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = rig.store.getEvents(uuid, { types: ['session.status_idle'] });
    if (found.length >= count) return found;
    if (Date.now() > deadline)
      throw new Error(`no idle: ${JSON.stringify(rig.store.getEvents(uuid, { direction: 'backward', limit: 5 }))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function environment(metadata: Record<string, string> = {}) {
  return rig.client.beta.environments.create({ name: 'box', config: { type: 'cloud', networking: { type: 'unrestricted' } }, metadata });
}

async function agent(system = 'You fix builds.', model = 'claude-sonnet-4-6') {
  return rig.client.beta.agents.create({ name: 'fixer', model, system });
}

const say = (text: string) => ({ type: 'user.message' as const, content: [{ type: 'text' as const, text }] });

describe('sessions through the SDK', () => {
  it('creates from an agent id: the agent snapshot, the first message answered, usage and stats after the turn, seen by the cockpit', async () => {
    const env = await environment();
    const fixer = await agent();
    rig.script.push(() => ({
      kind: 'message',
      message: {
        content: [{ type: 'text', text: 'The build is green.' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 120, output_tokens: 30 },
      },
    }));
    const created = await rig.client.beta.sessions.create({
      agent: fixer.id,
      environment_id: env.id,
      initial_events: [say('Make the build green')],
    });
    expect(created).toMatchObject({
      type: 'session',
      environment_id: env.id,
      title: null,
      metadata: {},
      vault_ids: [],
      archived_at: null,
      resources: [],
      outcome_evaluations: [],
      agent: { id: fixer.id, type: 'agent', version: 1, name: 'fixer', system: 'You fix builds.', model: { id: 'claude-sonnet-4-6' } },
    });
    expect(created.id).toMatch(/^sesn_[0-9a-f]{32}$/);
    await idles(created);
    const request = rig.model.requests[0];
    expect(request?.body.model).toBe('claude-sonnet-4-6');
    expect(JSON.stringify(request?.body.system)).toContain('You fix builds.');
    expect(JSON.stringify(request?.body.messages)).toContain('Make the build green');

    const session = await rig.client.beta.sessions.retrieve(created.id);
    expect(session.status).toBe('idle');
    expect(session.usage).toMatchObject({ input_tokens: 120, output_tokens: 30, cache_read_input_tokens: 0 });
    expect(session.usage.list_cost?.currency).toBe('USD');
    expect(session.stats.active_seconds).toBeGreaterThan(0);
    expect(session.stats.duration_seconds).toBeGreaterThanOrEqual(session.stats.active_seconds ?? 0);
    // The cockpit sees it as one of its own sessions, titled after the agent.
    const cockpit = rig.store.listSessions().find((each) => each.id === uuidOf(created));
    expect(cockpit?.title).toBe('fixer');
    const messages = rig.store.getEvents(uuidOf(created), { types: ['agent.message'] });
    expect(messages.map((event) => (event.type === 'agent.message' ? event.payload.content[0]?.text : null))).toEqual([
      'The build is green.',
    ]);
  });

  it('pins an agent version, and keeps its snapshot when the agent gets a new version', async () => {
    const env = await environment();
    const fixer = await agent('Version one.');
    const updated = await rig.client.beta.agents.update(fixer.id, { version: fixer.version, system: 'Version two.' });
    expect(updated.version).toBe(2);
    const pinned = await rig.client.beta.sessions.create({ agent: { type: 'agent', id: fixer.id, version: 1 }, environment_id: env.id });
    expect(pinned.agent).toMatchObject({ version: 1, system: 'Version one.' });
    const latest = await rig.client.beta.sessions.create({ agent: fixer.id, environment_id: env.id });
    expect(latest.agent).toMatchObject({ version: 2, system: 'Version two.' });
    await rig.client.beta.agents.update(fixer.id, { version: 2, system: 'Version three.' });
    expect((await rig.client.beta.sessions.retrieve(latest.id)).agent).toMatchObject({ version: 2, system: 'Version two.' });
    expect((await rig.client.beta.sessions.list({ agent_id: fixer.id, agent_version: 1 })).data.map((each) => each.id)).toEqual([
      pinned.id,
    ]);
  });

  it('applies overrides to this session only: model and system reach the model, the agent is unchanged', async () => {
    const env = await environment();
    const fixer = await agent('The agent’s own prompt.');
    const session = await rig.client.beta.sessions.create({
      agent: { type: 'agent_with_overrides', id: fixer.id, model: 'claude-haiku-4-5', system: 'Overridden prompt.' },
      environment_id: env.id,
      initial_events: [say('hello')],
    });
    expect(session.agent).toMatchObject({ id: fixer.id, version: 1, model: { id: 'claude-haiku-4-5' }, system: 'Overridden prompt.' });
    await idles(session);
    expect(rig.model.requests[0]?.body.model).toBe('claude-haiku-4-5');
    expect(JSON.stringify(rig.model.requests[0]?.body.system)).toContain('Overridden prompt.');
    expect((await rig.client.beta.agents.retrieve(fixer.id)).system).toBe('The agent’s own prompt.');
  });

  it('round-trips title, metadata, budget and vault ids; an outcome in initial_events is graded', async () => {
    const env = await environment();
    const fixer = await agent();
    const vault = await rig.client.beta.vaults.create({ display_name: 'team' });
    const session = await rig.client.beta.sessions.create({
      agent: fixer.id,
      environment_id: env.id,
      title: 'Green build',
      metadata: { team: 'infra', ticket: 'B-12' },
      budget: { type: 'limit', max_list_cost: { amount: '500', currency: 'USD' } },
      vault_ids: [vault.id],
      initial_events: [
        { type: 'user.define_outcome', description: 'A greeting', rubric: { type: 'text', content: 'It greets.' }, max_iterations: 2 },
        say('Say hello'),
      ],
    });
    expect(session).toMatchObject({
      title: 'Green build',
      metadata: { team: 'infra', ticket: 'B-12' },
      budget: { type: 'limit', max_list_cost: { amount: '500', currency: 'USD' } },
      vault_ids: [vault.id],
    });
    expect(session.outcome_evaluations).toHaveLength(1);
    expect(session.outcome_evaluations[0]).toMatchObject({ type: 'outcome_evaluation', description: 'A greeting', completed_at: null });
    expect(session.outcome_evaluations[0]?.outcome_id).toMatch(/^outc_[0-9a-f]{32}$/);
    await idles(session);
    const done = await waitFor(session, (each) => each.outcome_evaluations[0]?.result === 'satisfied');
    expect(done.outcome_evaluations[0]).toMatchObject({ result: 'satisfied', explanation: 'It greets.', iteration: 0 });
    expect(done.outcome_evaluations[0]?.completed_at).not.toBeNull();
    // The grader's request counts in the session's usage, as in the cockpit.
    expect(done.usage.input_tokens).toBeGreaterThan(0);
    expect(rig.store.getSession(uuidOf(session)).title).toBe('Green build');
  });

  it('updates title, metadata (set and delete) and budget; archives; deletes', async () => {
    const env = await environment();
    const fixer = await agent();
    const session = await rig.client.beta.sessions.create({
      agent: fixer.id,
      environment_id: env.id,
      metadata: { keep: '1', drop: '2' },
      budget: { type: 'limit', max_list_cost: { amount: '100', currency: 'USD' } },
    });
    const updated = await rig.client.beta.sessions.update(session.id, {
      title: 'Renamed',
      metadata: { drop: null, add: '3' },
      budget: { type: 'limit', max_list_cost: { amount: '900', currency: 'USD' } },
    });
    expect(updated).toMatchObject({ title: 'Renamed', metadata: { keep: '1', add: '3' } });
    // The cockpit shows the new title too; a null title (the service's "none") leaves it as it is.
    expect(rig.store.getSession(uuidOf(session)).title).toBe('Renamed');
    expect((await rig.client.beta.sessions.update(session.id, { title: null })).title).toBeNull();
    expect(rig.store.getSession(uuidOf(session)).title).toBe('Renamed');
    expect(updated.metadata).not.toHaveProperty('drop');
    expect(updated.budget?.max_list_cost.amount).toBe('900');
    const guardrails = await rig.host.dispatch('sessions-guardrails', { sessionId: uuidOf(session) });
    expect(guardrails.ok && (guardrails.result as { budget: unknown }).budget).toMatchObject({ max_list_cost: { amount: '900' } });

    const archived = await rig.client.beta.sessions.archive(session.id);
    expect(archived.archived_at).not.toBeNull();
    expect((await rig.client.beta.sessions.list()).data.map((each) => each.id)).not.toContain(session.id);
    expect((await rig.client.beta.sessions.list({ include_archived: true })).data.map((each) => each.id)).toContain(session.id);

    // Deleting through the API ends its open streams at once, with session.deleted.
    const open = await rig.client.beta.sessions.events.stream(session.id);
    const ended = (async () => {
      const types: string[] = [];
      for await (const event of open) types.push(event.type);
      return types;
    })();
    const deleted = await rig.client.beta.sessions.delete(session.id);
    expect((await ended).at(-1)).toBe('session.deleted');
    expect(deleted).toEqual({ id: session.id, type: 'session_deleted' });
    expect(rig.store.listSessions().map((each) => each.id)).not.toContain(uuidOf(session));
    expect(rig.managed.get('session', uuidOf(session))).toBeNull();
    await expect(rig.client.beta.sessions.retrieve(session.id)).rejects.toMatchObject({ status: 404 });
  });

  it('lists past one page with auto-pagination, in either order, by status; the cockpit’s own sessions too', async () => {
    const env = await environment();
    const fixer = await agent();
    const made: string[] = [];
    for (let index = 0; index < 5; index++) {
      made.push((await rig.client.beta.sessions.create({ agent: fixer.id, environment_id: env.id, title: `s${index}` })).id);
      await new Promise((resolve) => setTimeout(resolve, 3)); // distinct creation times
    }
    const launched = await rig.host.dispatch('sessions-launch', { title: 'From the cockpit', settings: { system: 'Cockpit prompt.' } });
    if (!launched.ok) throw new Error(launched.error.message);
    const cockpitId = `sesn_${(launched.result as SessionSummary).id.replaceAll('-', '')}`;

    const all: BetaManagedAgentsSession[] = [];
    for await (const session of rig.client.beta.sessions.list({ limit: 2 })) all.push(session);
    expect(all.map((each) => each.id)).toEqual([cockpitId, ...[...made].reverse()]);
    const first = await rig.client.beta.sessions.list({ limit: 2, order: 'asc' });
    expect(first.data.map((each) => each.id)).toEqual(made.slice(0, 2));
    expect(first.prev_page).toBeNull();
    const second = await first.getNextPage();
    expect(second.data.map((each) => each.id)).toEqual(made.slice(2, 4));
    expect(second.prev_page).not.toBeNull();
    const back = await rig.client.beta.sessions.list({ limit: 2, order: 'asc', page: second.prev_page ?? '' });
    expect(back.data.map((each) => each.id)).toEqual(made.slice(0, 2));
    // A cursor belongs to its order.
    await expect(rig.client.beta.sessions.list({ limit: 2, order: 'desc', page: first.next_page ?? '' })).rejects.toMatchObject({
      status: 400,
    });

    expect((await rig.client.beta.sessions.list({ statuses: ['running'] })).data).toEqual([]);
    expect((await rig.client.beta.sessions.list({ statuses: ['idle', 'running'], limit: 100 })).data).toHaveLength(6);

    const cockpit = all[0];
    expect(cockpit).toMatchObject({
      title: 'From the cockpit',
      environment_id: 'drover_local',
      agent: { id: 'drover_cockpit', system: 'Cockpit prompt.', tools: [] },
      status: 'idle',
    });
    expect((await rig.client.beta.sessions.retrieve(cockpitId)).agent.id).toBe('drover_cockpit');
  });

  it('forks and rewinds through the extensions, answering the new session with the agent snapshot', async () => {
    const env = await environment();
    const fixer = await agent();
    const session = await rig.client.beta.sessions.create({ agent: fixer.id, environment_id: env.id, initial_events: [say('one')] });
    await idles(session);
    const [message] = rig.store.getEvents(uuidOf(session), { types: ['user.message'] });
    // The event's id as the events list gives it.
    const listed = await rig.client.beta.sessions.events.list(session.id, { types: ['user.message'] });
    const atEventId = listed.data[0]?.id ?? '';
    expect(atEventId).toBe(`sevt_${message?.id.replaceAll('-', '')}`);
    const fork = await rig.client.post<BetaManagedAgentsSession>(`/v1/sessions/${session.id}/fork`, {
      body: { at_event_id: atEventId, title: 'A fork' },
    });
    expect(fork).toMatchObject({ type: 'session', title: 'A fork', agent: { id: fixer.id, version: 1 }, environment_id: env.id });
    expect(fork.id).not.toBe(session.id);
    const forked = rig.store.getSession(uuidOf(fork));
    expect(forked).toMatchObject({ kind: 'fork', parentId: uuidOf(session), forkSeq: message?.seq });

    const rewind = await rig.client.post<BetaManagedAgentsSession>(`/v1/sessions/${session.id}/rewind`, {
      body: { at_event_id: atEventId },
    });
    expect(rig.store.getSession(uuidOf(rewind))).toMatchObject({ kind: 'rewind', forkSeq: message?.seq });
    expect(rewind.agent.id).toBe(fixer.id);

    // A fork made in the cockpit runs with the same agent, environment and metadata.
    const cockpitFork = await rig.host.dispatch('sessions-fork', { sessionId: uuidOf(session), atSeq: message?.seq ?? 1 });
    if (!cockpitFork.ok) throw new Error(cockpitFork.error.message);
    const seen = await rig.client.beta.sessions.retrieve(`sesn_${(cockpitFork.result as SessionSummary).id.replaceAll('-', '')}`);
    expect(seen).toMatchObject({ agent: { id: fixer.id, version: 1 }, environment_id: env.id, archived_at: null });
    expect((await rig.client.beta.sessions.list({ agent_id: fixer.id, limit: 100 })).data).toHaveLength(4);
  });
});

describe('sessions through the SDK, further', () => {
  it('sends the initial events after the first in order, images included; a replaced outcome reads interrupted', async () => {
    const env = await environment();
    const fixer = await agent();
    // The first turn streams slowly, so every initial event is in before it ends (and before any grading).
    rig.script.push(() => ({
      kind: 'message',
      message: { content: [{ type: 'text', text: 'Working.' }], stop_reason: 'end_turn' },
      frameDelayMs: 60,
    }));
    const pixel = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const session = await rig.client.beta.sessions.create({
      agent: fixer.id,
      environment_id: env.id,
      initial_events: [
        { type: 'user.define_outcome', description: 'First aim', rubric: { type: 'text', content: 'Anything.' } },
        say('one'),
        { type: 'user.message', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: pixel } }] },
        { type: 'user.define_outcome', description: 'Second aim', rubric: { type: 'text', content: 'It greets.' } },
      ],
    });
    const id = uuidOf(session);
    const messages = rig.store.getEvents(id, { types: ['user.message', 'user.define_outcome'] });
    expect(messages.map((event) => event.type)).toEqual(['user.define_outcome', 'user.message', 'user.message', 'user.define_outcome']);
    expect(messages[2]?.payload).toMatchObject({ content: [{ type: 'image' }] });
    const done = await waitFor(session, (each) => each.outcome_evaluations[1]?.result === 'satisfied');
    expect(done.outcome_evaluations.map((each) => [each.description, each.result])).toEqual([
      ['First aim', 'interrupted'],
      ['Second aim', 'satisfied'],
    ]);
    expect(done.outcome_evaluations[0]?.completed_at).not.toBeNull();
  });

  it('an environment is held by its sessions until they are deleted, in the API or in the cockpit', async () => {
    const env = await environment();
    const fixer = await agent();
    const viaApi = await rig.client.beta.sessions.create({ agent: fixer.id, environment_id: env.id });
    const viaCockpit = await rig.client.beta.sessions.create({ agent: fixer.id, environment_id: env.id });
    await expect(rig.client.beta.environments.delete(env.id)).rejects.toMatchObject({ status: 409 });
    await rig.client.beta.sessions.delete(viaApi.id);
    const deleted = await rig.host.dispatch('sessions-delete', { sessionId: uuidOf(viaCockpit) });
    expect(deleted.ok).toBe(true);
    expect(await rig.client.beta.environments.delete(env.id)).toEqual({ id: env.id, type: 'environment_deleted' });
  });

  it('counts an outcome’s revision cycles: after a needs_revision, the verdict comes on iteration 1', async () => {
    const env = await environment();
    const fixer = await agent();
    const revise = {
      criteria: [{ criterion: 'It greets', met: false, note: 'Not yet.' }],
      verdict: 'needs_revision',
      explanation: 'Say hello.',
    };
    rig.script.push(() => endTurn('Hm.'));
    rig.script.push(() => ({
      kind: 'message',
      message: { content: [{ type: 'tool_use', name: VERDICT_TOOL, input: revise }], stop_reason: 'tool_use' },
    }));
    const session = await rig.client.beta.sessions.create({
      agent: fixer.id,
      environment_id: env.id,
      initial_events: [
        { type: 'user.define_outcome', description: 'A greeting', rubric: { type: 'text', content: 'It greets.' } },
        say('Go'),
      ],
    });
    const done = await waitFor(session, (each) => each.outcome_evaluations[0]?.result === 'satisfied');
    expect(done.outcome_evaluations[0]).toMatchObject({ iteration: 1, explanation: 'It greets.' });
    const ends = rig.store.getEvents(uuidOf(session), { types: ['span.outcome_evaluation_end'] });
    expect(ends.map((event) => (event.type === 'span.outcome_evaluation_end' ? event.payload.result : null))).toEqual([
      'needs_revision',
      'satisfied',
    ]);
  });

  it('reads rescheduling while a failed model request waits to be retried, then idle', async () => {
    const env = await environment();
    const fixer = await agent();
    rig.script.push(() => ({ kind: 'http-error', status: 529, type: 'overloaded_error', message: 'Overloaded', retryAfterSeconds: 2 }));
    rig.script.push(() => endTurn('Back.'));
    const session = await rig.client.beta.sessions.create({ agent: fixer.id, environment_id: env.id, initial_events: [say('hi')] });
    const rescheduling = await waitFor(session, (each) => each.status === 'rescheduling');
    expect((await rig.client.beta.sessions.list({ statuses: ['rescheduling'] })).data.map((each) => each.id)).toEqual([session.id]);
    expect(rescheduling.status).toBe('rescheduling');
    await idles(session);
    expect((await rig.client.beta.sessions.retrieve(session.id)).status).toBe('idle');
  });

  it('updates and archives a cockpit session, which keeps its synthesized agent', async () => {
    const launched = await rig.host.dispatch('sessions-launch', { title: 'Cockpit', settings: { model: 'claude-opus-4-5' } });
    if (!launched.ok) throw new Error(launched.error.message);
    const id = `sesn_${(launched.result as SessionSummary).id.replaceAll('-', '')}`;
    const updated = await rig.client.beta.sessions.update(id, { metadata: { owner: 'ci' } });
    expect(updated).toMatchObject({
      metadata: { owner: 'ci' },
      title: 'Cockpit',
      agent: { id: 'drover_cockpit', model: { id: 'claude-opus-4-5' } },
    });
    const archived = await rig.client.beta.sessions.archive(id);
    expect(archived.archived_at).not.toBeNull();
    expect(archived.metadata).toEqual({ owner: 'ci' });
    expect((await rig.client.beta.sessions.list()).data).toEqual([]);
  });
});

/** Polls the SDK's retrieve until `done` holds. */
async function waitFor(session: { id: string }, done: (session: BetaManagedAgentsSession) => boolean): Promise<BetaManagedAgentsSession> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const current = await rig.client.beta.sessions.retrieve(session.id);
    if (done(current)) return current;
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${JSON.stringify(current)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
