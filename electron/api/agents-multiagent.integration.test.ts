// `multiagent` on agents (issue 21) through the official SDK: the coordinator topology stored
// resolved (each member pinned to a version, `self` to the agent's own), kept across updates,
// refused in words when the service would refuse it (recording nothing), and turned into the
// session's roster (`session.roster_set`, before its first message) when a session starts from it.
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import { apiRig, uuidOf, type ApiRig } from '#test/support/api-rig';

let rig: ApiRig;
const model = 'claude-sonnet-4-6';

beforeEach(async () => {
  rig = await apiRig();
});

afterEach(async () => {
  await rig.close();
});

async function badRequest(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Anthropic.BadRequestError);
  return error instanceof Error ? error.message : String(error);
}

async function members() {
  const tester = await rig.client.beta.agents.create({ name: 'Tester', model: 'claude-haiku-4-5', system: 'You run the tests.' });
  const builder = await rig.client.beta.agents.create({ name: 'Builder bot', model });
  return { tester, builder };
}

describe('multiagent on agents', () => {
  it('stores the coordinator topology resolved: members pinned to versions, self to the agent’s own version, across updates', async () => {
    const { tester, builder } = await members();
    const coordinator = await rig.client.beta.agents.create({
      name: 'Lead',
      model,
      multiagent: { type: 'coordinator', agents: [tester.id, { type: 'agent', id: builder.id, version: 1 }, { type: 'self' }] },
    });
    expect(coordinator.multiagent).toEqual({
      type: 'coordinator',
      agents: [
        { type: 'agent', id: tester.id, version: 1 },
        { type: 'agent', id: builder.id, version: 1 },
        { type: 'agent', id: coordinator.id, version: 1 },
      ],
    });
    expect(await rig.client.beta.agents.retrieve(coordinator.id)).toEqual(coordinator);
    // An update that changes nothing answers the same version; a real change pins self to the new one.
    expect(await rig.client.beta.agents.update(coordinator.id, { version: 1, system: null })).toEqual(coordinator);
    const second = await rig.client.beta.agents.update(coordinator.id, { version: 1, system: 'Coordinate.' });
    expect(second.version).toBe(2);
    expect(second.multiagent).toEqual({
      type: 'coordinator',
      agents: [
        { type: 'agent', id: tester.id, version: 1 },
        { type: 'agent', id: builder.id, version: 1 },
        { type: 'agent', id: coordinator.id, version: 2 },
      ],
    });
    expect((await rig.client.beta.agents.retrieve(coordinator.id, { version: 1 })).multiagent).toEqual(coordinator.multiagent);
    const single = await rig.client.beta.agents.update(coordinator.id, { version: 2, multiagent: null });
    expect(single.multiagent).toBeNull();
  });

  it('refuses in words what the service refuses, storing nothing', async () => {
    const { tester, builder } = await members();
    const lead = await rig.client.beta.agents.create({ name: 'Lead', model, multiagent: { type: 'coordinator', agents: [tester.id] } });
    const retired = await rig.client.beta.agents.create({ name: 'Retired', model });
    await rig.client.beta.agents.archive(retired.id);
    const before = rig.managed.list('agent').length;
    const create = (agents: unknown[]) =>
      rig.client.beta.agents.create({ name: 'x', model, multiagent: { type: 'coordinator', agents } as never });
    expect(await badRequest(create([lead.id]))).toContain('multiagent.agents[0]: the agent');
    expect(await badRequest(create([lead.id]))).toContain('is a coordinator itself');
    expect(await badRequest(create([retired.id]))).toContain('is archived');
    expect(await badRequest(create([tester.id, { type: 'agent', id: tester.id }]))).toContain('multiagent.agents[1]');
    expect(await badRequest(create([{ type: 'self' }, { type: 'self' }]))).toContain('named twice');
    expect(await badRequest(create(['agent_nothere']))).toContain('No agent');
    expect(await badRequest(create([{ type: 'agent', id: builder.id, version: 7 }]))).toContain('has no version 7');
    expect(await badRequest(create([]))).toContain('at least one agent');
    expect(
      await badRequest(rig.client.beta.agents.create({ name: 'y', model, multiagent: { type: 'multiagent_20261001' } as never })),
    ).toContain('coordinator');
    expect(rig.managed.list('agent')).toHaveLength(before);
  });

  it('a session from a coordinator gets its roster before its first message, and shows each member in full', async () => {
    const { tester, builder } = await members();
    const lead = await rig.client.beta.agents.create({
      name: 'Lead',
      model,
      multiagent: { type: 'coordinator', agents: [tester.id, builder.id, { type: 'self' }] },
    });
    const env = await rig.client.beta.environments.create({ name: 'box', config: { type: 'cloud', networking: { type: 'unrestricted' } } });
    const session = await rig.client.beta.sessions.create({
      agent: lead.id,
      environment_id: env.id,
      initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'Test and build.' }] }],
    } as never);
    expect(session.agent.multiagent).toMatchObject({
      type: 'coordinator',
      agents: [
        { type: 'agent', id: tester.id, version: 1, name: 'Tester', model: { id: 'claude-haiku-4-5' }, system: 'You run the tests.' },
        { type: 'agent', id: builder.id, version: 1, name: 'Builder bot' },
        { type: 'agent', id: lead.id, version: 1, name: 'Lead' },
      ],
    });
    const id = uuidOf(session);
    const [roster] = rig.store.getEvents(id, { types: ['session.roster_set'] }) as Extract<StoredEvent, { type: 'session.roster_set' }>[];
    expect(roster?.payload).toEqual({
      agents: [
        // Members defined without tools may use none of the session's hands (roster-access.ts).
        { name: 'Tester', model: 'claude-haiku-4-5', system: 'You run the tests.', tools: [] },
        { name: 'Builder-bot', model, tools: [] },
      ],
      self_copies: true,
    });
    const [message] = rig.store.getEvents(id, { types: ['user.message'] });
    expect(message?.seq).toBeGreaterThan(roster?.seq ?? Infinity);
    // A single-threaded agent's session has no roster.
    const plain = await rig.client.beta.sessions.create({ agent: tester.id, environment_id: env.id });
    expect(rig.store.getEvents(uuidOf(plain), { types: ['session.roster_set'] })).toEqual([]);
    expect(plain.agent.multiagent).toBeNull();
    // Let the coordinator's turn end before the rig closes.
    const deadline = Date.now() + 30_000;
    while (rig.store.getEvents(id, { types: ['session.status_idle'] }).length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
  });
});
