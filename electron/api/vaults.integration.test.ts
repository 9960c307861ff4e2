// Vaults and credentials through the official SDK against Drover's API. Values are write-only:
// they land in Drover's encrypted vault (and its redactor), and no response and no file under the
// data folder ever carries one in the clear.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultStore } from '#services/managed/vaults';
import { SecretIdSchema } from '#shared/vault';
import { API_TOKEN, apiRig, type ApiRig } from '#test/support/api-rig';

let rig: ApiRig;
/** Every response body the SDK client below received. */
const seen: string[] = [];
let client: Anthropic;

beforeAll(async () => {
  rig = await apiRig();
  client = new Anthropic({
    baseURL: rig.api.baseURL,
    apiKey: API_TOKEN,
    maxRetries: 0,
    fetch: async (url, init) => {
      const response = await fetch(url, init);
      seen.push(await response.clone().text());
      return response;
    },
  });
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

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : entry.isFile() ? [path.join(dir, entry.name)] : [],
  );
}

function secretIdOf(credentialId: string, vaultId: string): string {
  const found = new VaultStore(rig.managed, null).credentialsFor([vaultId]).find((credential) => credential.id === credentialId);
  if (found === undefined) throw new Error(`no usable credential ${credentialId}`);
  return found.secret_id;
}

describe('vaults', () => {
  it('creates, retrieves, updates, lists past one page, archives and deletes vaults', async () => {
    const vault = await client.beta.vaults.create({ display_name: 'CI secrets', metadata: { team: 'infra', old: 'x' } });
    expect(vault).toMatchObject({ type: 'vault', display_name: 'CI secrets', metadata: { team: 'infra', old: 'x' }, archived_at: null });
    expect(vault.id).toMatch(/^vlt_[0-9A-Za-z]{24}$/);
    expect(await client.beta.vaults.retrieve(vault.id)).toEqual(vault);
    const updated = await client.beta.vaults.update(vault.id, { display_name: 'CI', metadata: { old: null, added: 'y' } });
    expect(updated).toMatchObject({ display_name: 'CI', metadata: { team: 'infra', added: 'y' } });
    expect(Object.keys(updated.metadata).sort()).toEqual(['added', 'team']);

    const made: string[] = [];
    for (let index = 0; index < 4; index++) made.push((await client.beta.vaults.create({ display_name: `v${index}` })).id);
    const listed: string[] = [];
    for await (const each of client.beta.vaults.list({ limit: 2 })) listed.push(each.id);
    expect(listed.slice(0, 5)).toEqual([...[...made].reverse(), vault.id]);

    const archived = await client.beta.vaults.archive(made[0] ?? '');
    expect(archived.archived_at).toEqual(expect.any(String));
    const active: string[] = [];
    for await (const each of client.beta.vaults.list({ limit: 2 })) active.push(each.id);
    expect(active).not.toContain(archived.id);
    const all: string[] = [];
    for await (const each of client.beta.vaults.list({ limit: 2, include_archived: true })) all.push(each.id);
    expect(all).toContain(archived.id);
    expect(await refused(client.beta.vaults.update(archived.id, { display_name: 'again' }))).toContain('archived');

    expect(await client.beta.vaults.delete(made[1] ?? '')).toEqual({ id: made[1], type: 'vault_deleted' });
    await expect(client.beta.vaults.retrieve(made[1] ?? '')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('keeps credential values write-only: in the vault by id, in no response and in no file in the clear', async () => {
    const bearer = 'bearer-VALUE-7f3a9c2e51d8';
    const variable = 'env-VALUE-0b4d6e8f1a2c';
    const replaced = 'bearer-REPLACED-93e1c7a5';
    const values = [bearer, variable, replaced];
    const vault = await client.beta.vaults.create({ display_name: 'values' });
    const mcp = await client.beta.vaults.credentials.create(vault.id, {
      display_name: 'docs server',
      metadata: { purpose: 'mcp' },
      auth: { type: 'static_bearer', token: bearer, mcp_server_url: 'https://docs.example.test/mcp' },
    });
    expect(mcp).toMatchObject({
      type: 'vault_credential',
      vault_id: vault.id,
      display_name: 'docs server',
      metadata: { purpose: 'mcp' },
      auth: { type: 'static_bearer', mcp_server_url: 'https://docs.example.test/mcp' },
      archived_at: null,
    });
    expect(mcp.id).toMatch(/^vcrd_[0-9A-Za-z]{24}$/);
    const env = await client.beta.vaults.credentials.create(vault.id, {
      auth: {
        type: 'environment_variable',
        secret_name: 'GITHUB_TOKEN',
        secret_value: variable,
        networking: { type: 'limited', allowed_hosts: ['api.github.com'] },
        injection_location: { header: true },
      },
    });
    expect(env.auth).toEqual({
      type: 'environment_variable',
      secret_name: 'GITHUB_TOKEN',
      networking: { type: 'limited', allowed_hosts: ['api.github.com'] },
      injection_location: { body: true, header: true },
    });

    // What sessions get to give their hands the values: ids and where each goes, never a value.
    expect(new VaultStore(rig.managed, null).credentialsFor([vault.id])).toEqual([
      {
        id: mcp.id,
        vault_id: vault.id,
        auth: { type: 'static_bearer', mcp_server_url: 'https://docs.example.test/mcp' },
        secret_id: expect.stringMatching(/^sec_/),
      },
      {
        id: env.id,
        vault_id: vault.id,
        auth: { type: 'environment_variable', name: 'GITHUB_TOKEN' },
        secret_id: expect.stringMatching(/^sec_/),
      },
    ]);
    // The values are in Drover's vault under the ids the managed DB keeps, and the redactor knows them.
    const bearerId = SecretIdSchema.parse(secretIdOf(mcp.id, vault.id));
    expect(await rig.vault.reveal(bearerId, 'test')).toBe(bearer);
    expect(await rig.vault.reveal(SecretIdSchema.parse(secretIdOf(env.id, vault.id)), 'test')).toBe(variable);
    expect(rig.host.redactor.redact(`token ${bearer} here`)).not.toContain(bearer);

    expect(await client.beta.vaults.credentials.retrieve(mcp.id, { vault_id: vault.id })).toEqual(mcp);
    const listed: string[] = [];
    for await (const credential of client.beta.vaults.credentials.list(vault.id, { limit: 1 })) listed.push(credential.id);
    expect(listed).toEqual([env.id, mcp.id]);

    // A new token replaces the value in place; the answer still carries none.
    const updated = await client.beta.vaults.credentials.update(mcp.id, {
      vault_id: vault.id,
      display_name: 'docs',
      auth: { type: 'static_bearer', token: replaced },
    });
    expect(updated).toMatchObject({
      display_name: 'docs',
      auth: { type: 'static_bearer', mcp_server_url: 'https://docs.example.test/mcp' },
    });
    expect(await rig.vault.reveal(bearerId, 'test')).toBe(replaced);
    const envUpdated = await client.beta.vaults.credentials.update(env.id, {
      vault_id: vault.id,
      auth: { type: 'environment_variable', injection_location: { body: false }, networking: { type: 'unrestricted' } },
    });
    expect(envUpdated.auth).toMatchObject({ injection_location: { body: false, header: true }, networking: { type: 'unrestricted' } });

    // The checks below see what they should: the responses and the files hold the credentials' names.
    expect(seen.filter((text) => text.includes('GITHUB_TOKEN')).length).toBeGreaterThan(2);
    expect(filesUnder(rig.dir).some((file) => readFileSync(file).includes('GITHUB_TOKEN'))).toBe(true);
    for (const text of seen) for (const value of values) expect(text).not.toContain(value);
    for (const file of filesUnder(rig.dir)) {
      const bytes = readFileSync(file);
      for (const value of values) expect(bytes.includes(value), `${file} holds a value in the clear`).toBe(false);
    }
    for (const name of ['managed.sqlite', 'managed.sqlite-wal', 'managed.sqlite-shm']) {
      const file = path.join(rig.dir, name);
      const mode = statSync(file, { throwIfNoEntry: false })?.mode;
      if (name === 'managed.sqlite') expect(mode).toBeDefined();
      if (mode !== undefined) expect((mode & 0o777).toString(8), name).toBe('600');
    }
  });

  it('archiving a credential purges its value; deleting a vault deletes its credentials and values', async () => {
    const vault = await client.beta.vaults.create({ display_name: 'purge' });
    const first = await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: 'static_bearer', token: 'purge-me-0123456', mcp_server_url: 'https://a.example.test/mcp' },
    });
    const second = await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: 'static_bearer', token: 'delete-me-0123456', mcp_server_url: 'https://b.example.test/mcp' },
    });
    const firstSecret = secretIdOf(first.id, vault.id);
    const secondSecret = secretIdOf(second.id, vault.id);
    const archived = await client.beta.vaults.credentials.archive(first.id, { vault_id: vault.id });
    expect(archived.archived_at).toEqual(expect.any(String));
    expect((await rig.vault.list()).map((secret) => secret.id)).not.toContain(firstSecret);
    expect(new VaultStore(rig.managed, null).credentialsFor([vault.id]).map((credential) => credential.id)).toEqual([second.id]);
    expect(await refused(client.beta.vaults.credentials.update(first.id, { vault_id: vault.id, display_name: 'x' }))).toContain('archived');
    const active: string[] = [];
    for await (const credential of client.beta.vaults.credentials.list(vault.id)) active.push(credential.id);
    expect(active).toEqual([second.id]);
    const all: string[] = [];
    for await (const credential of client.beta.vaults.credentials.list(vault.id, { include_archived: true })) all.push(credential.id);
    expect(all.sort()).toEqual([first.id, second.id].sort());

    // Another credential for the same URL is fine once the first is archived.
    const again = await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: 'static_bearer', token: 'again-0123456', mcp_server_url: 'https://a.example.test/mcp' },
    });
    expect(await client.beta.vaults.credentials.delete(again.id, { vault_id: vault.id })).toEqual({
      id: again.id,
      type: 'vault_credential_deleted',
    });
    await expect(client.beta.vaults.credentials.retrieve(again.id, { vault_id: vault.id })).rejects.toBeInstanceOf(Anthropic.NotFoundError);

    expect(await client.beta.vaults.delete(vault.id)).toEqual({ id: vault.id, type: 'vault_deleted' });
    expect((await rig.vault.list()).map((secret) => secret.id)).not.toContain(secondSecret);
    expect(rig.managed.list('credential', vault.id)).toEqual([]);
  });

  it('refuses other auth types, a second credential for one server, a changed URL, and credentials in an archived vault', async () => {
    const vault = await client.beta.vaults.create({ display_name: 'rules' });
    const secretsBefore = (await rig.vault.list()).length;
    const oauth = await refused(
      client.beta.vaults.credentials.create(vault.id, {
        auth: { type: 'mcp_oauth', access_token: 'oauth-0123456789', mcp_server_url: 'https://c.example.test/mcp' },
      }),
    );
    expect(oauth).toContain('"static_bearer" and "environment_variable"');
    const credential = await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: 'static_bearer', token: 'once-0123456789', mcp_server_url: 'https://c.example.test/mcp' },
    });
    const twice = await refused(
      client.beta.vaults.credentials.create(vault.id, {
        auth: { type: 'static_bearer', token: 'twice-0123456789', mcp_server_url: 'https://c.example.test/mcp' },
      }),
      Anthropic.ConflictError,
    );
    expect(twice).toContain(credential.id);
    const moved = await refused(
      client.beta.vaults.credentials.update(credential.id, {
        vault_id: vault.id,
        auth: { type: 'static_bearer', mcp_server_url: 'https://d.example.test/mcp' } as { type: 'static_bearer' },
      }),
    );
    expect(moved).toContain('mcp_server_url cannot change');
    const retyped = await refused(
      client.beta.vaults.credentials.update(credential.id, {
        vault_id: vault.id,
        auth: { type: 'environment_variable', secret_value: 'x-0123456' },
      }),
    );
    expect(retyped).toContain('cannot change to "environment_variable"');
    expect((await rig.vault.list()).length).toBe(secretsBefore + 1);

    await client.beta.vaults.archive(vault.id);
    expect((await client.beta.vaults.credentials.retrieve(credential.id, { vault_id: vault.id })).archived_at).toEqual(expect.any(String));
    expect(
      await refused(
        client.beta.vaults.credentials.create(vault.id, {
          auth: { type: 'static_bearer', token: 'late-0123456789', mcp_server_url: 'https://e.example.test/mcp' },
        }),
      ),
    ).toContain('archived');
    expect((await rig.vault.list()).length).toBe(secretsBefore);
    expect(() => new VaultStore(rig.managed, null).credentialsFor([vault.id])).toThrow(/archived/);
    expect(() => new VaultStore(rig.managed, null).credentialsFor(['vlt_unknown'])).toThrow(/No vault/);
    // A credential is reached only through its own vault.
    const other = await client.beta.vaults.create({ display_name: 'other' });
    await expect(client.beta.vaults.credentials.retrieve(credential.id, { vault_id: other.id })).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
  });

  it('two creates racing for one MCP server: one wins, the other gets a 409 and leaves no value behind', async () => {
    const vault = await client.beta.vaults.create({ display_name: 'race' });
    const secretsBefore = (await rig.vault.list()).length;
    const attempts = await Promise.allSettled(
      ['race-one-0123456', 'race-two-0123456', 'race-three-0123456'].map((token) =>
        client.beta.vaults.credentials.create(vault.id, {
          auth: { type: 'static_bearer', token, mcp_server_url: 'https://race.example.test/mcp' },
        }),
      ),
    );
    expect(attempts.filter((attempt) => attempt.status === 'fulfilled')).toHaveLength(1);
    for (const attempt of attempts) if (attempt.status === 'rejected') expect(attempt.reason).toBeInstanceOf(Anthropic.ConflictError);
    expect((await rig.vault.list()).length).toBe(secretsBefore + 1);
    expect(rig.managed.list('credential', vault.id)).toHaveLength(1);
  });
});
