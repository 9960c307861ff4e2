// Agents through the official SDK against Drover's API: create, retrieve (with ?version=),
// update as new versions (optimistic version check), list with auto-pagination past one page,
// archive, versions, and what Drover refuses in words.
import Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRig, type ApiRig } from '#test/support/api-rig';

let rig: ApiRig;

beforeAll(async () => {
  rig = await apiRig();
});

afterAll(async () => {
  await rig.close();
});

async function all<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of pages) items.push(item);
  return items;
}

/** The service-shaped error's message (the SDK keeps the body as `error`). */
function messageOf(error: unknown): string {
  const body = (error as InstanceType<typeof Anthropic.APIError>).error as { error?: { message?: string } } | undefined;
  return body?.error?.message ?? '';
}

async function badRequest(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Anthropic.BadRequestError);
  return messageOf(error);
}

describe('agents', () => {
  it('creates an agent in the service shape and retrieves it as created', async () => {
    const agent = await rig.client.beta.agents.create({
      name: 'fixer',
      model: 'claude-sonnet-4-6',
      description: 'Fixes builds',
      system: 'You fix builds.',
      metadata: { team: 'infra' },
      tools: [
        {
          type: 'agent_toolset_20260401',
          default_config: { permission_policy: { type: 'always_ask' } },
          configs: [
            { name: 'read', permission_policy: { type: 'always_allow' } },
            { name: 'web_search', enabled: false },
          ],
        },
        { type: 'mcp_toolset', mcp_server_name: 'docs', configs: [{ name: 'search', permission_policy: { type: 'always_allow' } }] },
        {
          type: 'custom',
          name: 'lookup_ticket',
          description: 'Look a ticket up',
          input_schema: { type: 'object', properties: { id: { type: 'string' } } },
        },
      ],
      mcp_servers: [{ type: 'url', name: 'docs', url: 'https://docs.example.test/mcp' }],
    });
    expect(agent).toMatchObject({
      type: 'agent',
      name: 'fixer',
      version: 1,
      description: 'Fixes builds',
      system: 'You fix builds.',
      metadata: { team: 'infra' },
      model: { id: 'claude-sonnet-4-6', speed: 'standard', effort: { type: 'high' } },
      mcp_servers: [{ type: 'url', name: 'docs', url: 'https://docs.example.test/mcp' }],
      skills: [],
      multiagent: null,
      execution_identity: { type: 'service_account' },
      archived_at: null,
    });
    expect(agent.id).toMatch(/^agent_[0-9A-Za-z]{24}$/);
    expect(Date.parse(agent.created_at)).toBeGreaterThan(0);
    const [toolset, mcp, custom] = agent.tools;
    expect(toolset).toMatchObject({
      type: 'agent_toolset_20260401',
      default_config: { enabled: true, permission_policy: { type: 'always_ask' } },
    });
    const configs = toolset?.type === 'agent_toolset_20260401' ? toolset.configs : [];
    expect(configs.find((config) => config.name === 'read')).toMatchObject({ enabled: true, permission_policy: { type: 'always_allow' } });
    expect(configs.find((config) => config.name === 'bash')).toMatchObject({ enabled: true, permission_policy: { type: 'always_ask' } });
    expect(configs.find((config) => config.name === 'web_search')).toMatchObject({ enabled: false });
    expect(mcp).toMatchObject({
      type: 'mcp_toolset',
      default_config: { enabled: true, permission_policy: { type: 'always_ask' } },
      configs: [{ name: 'search', enabled: true, permission_policy: { type: 'always_allow' } }],
    });
    expect(custom).toEqual({
      type: 'custom',
      name: 'lookup_ticket',
      description: 'Look a ticket up',
      input_schema: { type: 'object', properties: { id: { type: 'string' } } },
    });
    expect(await rig.client.beta.agents.retrieve(agent.id)).toEqual(agent);
  });

  it('takes the model as an object with a bare effort level', async () => {
    const agent = await rig.client.beta.agents.create({ name: 'm', model: { id: 'claude-opus-4-5', effort: 'low', speed: 'standard' } });
    expect(agent.model).toEqual({ id: 'claude-opus-4-5', effort: { type: 'low' }, speed: 'standard' });
    const updated = await rig.client.beta.agents.update(agent.id, { model: { id: 'claude-haiku-4-5' } });
    expect(updated.model).toEqual({ id: 'claude-haiku-4-5', effort: { type: 'low' }, speed: 'standard' });
  });

  it('stores each change as a new version; ?version= and the versions list show the old ones', async () => {
    const v1 = await rig.client.beta.agents.create({ name: 'versioned', model: 'claude-sonnet-4-6', metadata: { a: '1', b: '2' } });
    const v2 = await rig.client.beta.agents.update(v1.id, { version: 1, system: 'Be brief.', metadata: { a: null, c: '3' } });
    expect(v2).toMatchObject({ id: v1.id, version: 2, system: 'Be brief.', metadata: { b: '2', c: '3' }, created_at: v1.created_at });
    expect(Date.parse(v2.updated_at)).toBeGreaterThan(Date.parse(v1.updated_at));
    const v3 = await rig.client.beta.agents.update(v1.id, { name: 'renamed', description: 'now described' });
    expect(v3.version).toBe(3);

    // Nothing changed: the same version back, no new one.
    expect(await rig.client.beta.agents.update(v1.id, { name: 'renamed' })).toEqual(v3);
    // Clearing: an empty string or null clears description and system.
    const v4 = await rig.client.beta.agents.update(v1.id, { description: '', system: null });
    expect(v4).toMatchObject({ version: 4, description: null, system: null });

    expect(await rig.client.beta.agents.retrieve(v1.id, { version: 1 })).toEqual(v1);
    expect(await rig.client.beta.agents.retrieve(v1.id, { version: 2 })).toEqual(v2);
    expect(await rig.client.beta.agents.retrieve(v1.id)).toEqual(v4);
    const missing = await rig.client.beta.agents.retrieve(v1.id, { version: 9 }).catch((caught: unknown) => caught);
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    expect((missing as Error).message).toContain('versions are 1 to 4');

    const versions = await all(rig.client.beta.agents.versions.list(v1.id, { limit: 3 }));
    expect(versions.map((agent) => agent.version)).toEqual([4, 3, 2, 1]);
    const firstPage = await rig.client.beta.agents.versions.list(v1.id, { limit: 3 });
    expect(firstPage.data).toHaveLength(3);
    expect(firstPage.next_page).not.toBeNull();
  });

  it('refuses an update against a stale version with a 409 and stores nothing', async () => {
    const agent = await rig.client.beta.agents.create({ name: 'raced', model: 'claude-sonnet-4-6' });
    await rig.client.beta.agents.update(agent.id, { version: 1, system: 'first writer' });
    const error = await rig.client.beta.agents.update(agent.id, { version: 1, system: 'second writer' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.ConflictError);
    expect((error as Error).message).toContain('is at version 2, not 1');
    expect((await rig.client.beta.agents.retrieve(agent.id)).system).toBe('first writer');
    expect(rig.managed.versions('agent', agent.id)).toHaveLength(2);
  });

  it('lists newest first, page by page past one page, with created_at and include_archived filters', async () => {
    const before = new Date(Date.now() - 1).toISOString();
    const made: BetaManagedAgentsAgent[] = [];
    for (let index = 0; index < 5; index++)
      made.push(await rig.client.beta.agents.create({ name: `page-${index}`, model: 'claude-sonnet-4-6' }));
    const listed = await all(rig.client.beta.agents.list({ limit: 2, 'created_at[gte]': before }));
    expect(listed.map((agent) => agent.name)).toEqual(['page-4', 'page-3', 'page-2', 'page-1', 'page-0']);
    const first = await rig.client.beta.agents.list({ limit: 2, 'created_at[gte]': before });
    expect(first.data).toHaveLength(2);
    expect(first.next_page).toEqual(expect.any(String));

    // An agent created between pages neither repeats nor hides another.
    const second = await first.getNextPage();
    await rig.client.beta.agents.create({ name: 'late', model: 'claude-sonnet-4-6' });
    const third = await second.getNextPage();
    expect([...first.data, ...second.data, ...third.data].map((agent) => agent.name)).toEqual(listed.map((agent) => agent.name));

    const archived = made[2];
    if (archived === undefined) throw new Error('no agent');
    await rig.client.beta.agents.archive(archived.id);
    const active = await all(rig.client.beta.agents.list({ limit: 100, 'created_at[gte]': before }));
    expect(active.map((agent) => agent.id)).not.toContain(archived.id);
    const everything = await all(rig.client.beta.agents.list({ limit: 100, include_archived: true, 'created_at[gte]': before }));
    expect(everything.map((agent) => agent.id)).toContain(archived.id);
    const future = await rig.client.beta.agents.list({ 'created_at[gte]': new Date(Date.now() + 60_000).toISOString() });
    expect(future.data).toEqual([]);
    expect(future.next_page).toBeNull();
  });

  it('archives: every version is stamped, the agent is listed only on request and can no longer change', async () => {
    const agent = await rig.client.beta.agents.create({ name: 'old', model: 'claude-sonnet-4-6' });
    await rig.client.beta.agents.update(agent.id, { system: 'v2' });
    const archived = await rig.client.beta.agents.archive(agent.id);
    expect(archived.archived_at).toEqual(expect.any(String));
    expect(archived.version).toBe(2);
    expect((await rig.client.beta.agents.retrieve(agent.id, { version: 1 })).archived_at).toBe(archived.archived_at);
    expect(await rig.client.beta.agents.archive(agent.id)).toEqual(archived);
    expect(await badRequest(rig.client.beta.agents.update(agent.id, { system: 'v3' }))).toContain('archived');
    expect(rig.managed.versions('agent', agent.id)).toHaveLength(2);
  });

  it('refuses in words what Drover cannot run, and stores nothing', async () => {
    const before = rig.managed.list('agent').length;
    const model = 'claude-sonnet-4-6';
    expect(
      await badRequest(rig.client.beta.agents.create({ name: 's', model, skills: [{ type: 'anthropic', skill_id: 'xlsx' }] })),
    ).toContain('skills are not available');
    expect(
      await badRequest(rig.client.beta.agents.create({ name: 'm', model, multiagent: { type: 'coordinator', agents: ['agent_missing'] } })),
    ).toContain('multiagent.agents[0]: No agent');
    expect(
      await badRequest(
        rig.client.beta.agents.create({ name: 'w', model, tools: [{ type: 'agent_toolset_20260401', configs: [{ name: 'web_fetch' }] }] }),
      ),
    ).toContain('Drover does not offer web tools yet (web_fetch)');
    expect(
      await badRequest(
        rig.client.beta.agents.create({
          name: 'p',
          model,
          tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'auto' } } }],
        }),
      ),
    ).toContain('"auto" permission policy');
    expect(
      await badRequest(
        rig.client.beta.agents.create({ name: 'u', model, mcp_servers: [{ type: 'url', name: 'lonely', url: 'https://x.example.test/' }] }),
      ),
    ).toContain('"lonely" is not used by any tool');
    expect(
      await badRequest(rig.client.beta.agents.create({ name: 't', model, tools: [{ type: 'mcp_toolset', mcp_server_name: 'absent' }] })),
    ).toContain('no MCP server is named "absent"');
    expect(await badRequest(rig.client.beta.agents.create({ name: 'f', model: { id: model, speed: 'fast' } }))).toContain('"fast"');
    expect(
      await badRequest(
        rig.client.beta.agents.create({ name: 'i', model, execution_identity: { type: 'aws_role', role_arn: 'arn:aws:iam::1:role/x' } }),
      ),
    ).toContain('aws_role');
    expect(
      await badRequest(
        rig.client.beta.agents.create({
          name: 'd',
          model,
          tools: [
            { type: 'custom', name: 'same', description: 'a', input_schema: { type: 'object' } },
            { type: 'custom', name: 'same', description: 'b', input_schema: { type: 'object' } },
          ],
        }),
      ),
    ).toContain('"same" is used twice');
    expect(rig.managed.list('agent')).toHaveLength(before);
  });
});
