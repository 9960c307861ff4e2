// Bad input to agents, environments, vaults and credentials, sent raw (what the SDK would never
// send): unknown ids, malformed bodies, unknown fields, wrong types, bad query parameters. Each
// gets the service's error shape with a message that names the problem, and nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, apiRig, type ApiRig } from '#test/support/api-rig';

let rig: ApiRig;
let vaultId = '';
let agentId = '';

beforeAll(async () => {
  rig = await apiRig();
  vaultId = (await rig.client.beta.vaults.create({ display_name: 'input' })).id;
  agentId = (await rig.client.beta.agents.create({ name: 'input', model: 'claude-sonnet-4-6' })).id;
});

afterAll(async () => {
  await rig.close();
});

interface ErrorBody {
  type?: string;
  error?: { type?: string; message?: string };
  request_id?: string;
}

async function send(method: string, path: string, body?: unknown, raw?: string): Promise<{ status: number; body: ErrorBody }> {
  const response = await fetch(`${rig.api.baseURL}${path}`, {
    method,
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  return { status: response.status, body: (await response.json()) as ErrorBody };
}

async function expectError(
  method: string,
  path: string,
  status: number,
  type: string,
  contains: readonly string[],
  body?: unknown,
  raw?: string,
): Promise<void> {
  const answer = await send(method, path, body, raw);
  expect(answer.status, `${method} ${path}`).toBe(status);
  expect(answer.body.type).toBe('error');
  expect(answer.body.error?.type).toBe(type);
  expect(answer.body.request_id).toMatch(/^req_/);
  for (const text of contains) expect(answer.body.error?.message, `${method} ${path}`).toContain(text);
}

async function counts(): Promise<number[]> {
  return [
    rig.managed.list('agent').length,
    rig.managed.versions('agent', agentId).length,
    rig.managed.list('environment').length,
    rig.managed.list('vault').length,
    rig.managed.list('credential').length,
    (await rig.vault.list()).length,
  ];
}

describe('bad input to the stored resources', () => {
  it('answers unknown ids with 404 not_found_error naming the id', async () => {
    const before = await counts();
    await expectError('GET', '/v1/agents/agent_doesnotexist', 404, 'not_found_error', ['agent_doesnotexist', 'List agents']);
    await expectError('GET', '/v1/agents/agent_doesnotexist/versions', 404, 'not_found_error', ['agent_doesnotexist']);
    await expectError('POST', '/v1/agents/agent_doesnotexist', 404, 'not_found_error', ['agent_doesnotexist'], { name: 'x' });
    await expectError('POST', '/v1/agents/agent_doesnotexist/archive', 404, 'not_found_error', ['agent_doesnotexist']);
    await expectError('GET', '/v1/environments/env_nope', 404, 'not_found_error', ['env_nope']);
    await expectError('POST', '/v1/environments/env_nope', 404, 'not_found_error', ['env_nope'], { name: 'x' });
    await expectError('DELETE', '/v1/environments/env_nope', 404, 'not_found_error', ['env_nope']);
    await expectError('POST', '/v1/environments/env_nope/archive', 404, 'not_found_error', ['env_nope']);
    await expectError('GET', '/v1/vaults/vlt_nope', 404, 'not_found_error', ['vlt_nope']);
    await expectError('DELETE', '/v1/vaults/vlt_nope', 404, 'not_found_error', ['vlt_nope']);
    await expectError('GET', '/v1/vaults/vlt_nope/credentials', 404, 'not_found_error', ['vlt_nope']);
    await expectError('POST', '/v1/vaults/vlt_nope/credentials', 404, 'not_found_error', ['vlt_nope'], {
      auth: { type: 'static_bearer', token: 'value-0123456789', mcp_server_url: 'https://x.example.test/' },
    });
    await expectError('GET', `/v1/vaults/${vaultId}/credentials/vcrd_nope`, 404, 'not_found_error', ['vcrd_nope']);
    await expectError('DELETE', `/v1/vaults/${vaultId}/credentials/vcrd_nope`, 404, 'not_found_error', ['vcrd_nope']);
    await expectError('POST', `/v1/vaults/${vaultId}/credentials/vcrd_nope/archive`, 404, 'not_found_error', ['vcrd_nope']);
    expect(await counts()).toEqual(before);
  });

  it('answers malformed and ill-typed bodies with 400 naming the field, and stores nothing', async () => {
    const before = await counts();
    await expectError('POST', '/v1/agents', 400, 'invalid_request_error', ['not valid JSON'], undefined, '{"name": ');
    await expectError('POST', '/v1/agents', 400, 'invalid_request_error', ['expected object'], [{ name: 'x' }]);
    await expectError('POST', '/v1/agents', 400, 'invalid_request_error', ['model'], { name: 'no model' });
    await expectError('POST', '/v1/agents', 400, 'invalid_request_error', ['colour'], { name: 'x', model: 'm', colour: 'red' });
    await expectError('POST', '/v1/agents', 400, 'invalid_request_error', ['name'], { name: 5, model: 'm' });
    await expectError('POST', '/v1/agents', 400, 'invalid_request_error', ['tools'], { name: 'x', model: 'm', tools: 'bash' });
    await expectError('POST', '/v1/agents', 400, 'invalid_request_error', ['metadata.a'], { name: 'x', model: 'm', metadata: { a: 1 } });
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`k${index}`, 'v']));
    await expectError('POST', '/v1/agents', 400, 'invalid_request_error', ['at most 16 keys'], { name: 'x', model: 'm', metadata: many });
    await expectError('POST', '/v1/agents', 400, 'invalid_request_error', ['tools.0.configs.0.name'], {
      name: 'x',
      model: 'm',
      tools: [{ type: 'agent_toolset_20260401', configs: [{ name: 'teleport' }] }],
    });
    await expectError('POST', `/v1/agents/${agentId}`, 400, 'invalid_request_error', ['version'], { version: 0 });
    await expectError('POST', `/v1/agents/${agentId}`, 400, 'invalid_request_error', ['nmae'], { nmae: 'typo' });
    await expectError('POST', `/v1/agents/${agentId}/archive`, 400, 'invalid_request_error', ['takes no body'], { now: true });

    await expectError('POST', '/v1/environments', 400, 'invalid_request_error', ['extra'], { name: 'x', extra: 1 });
    await expectError('POST', '/v1/environments', 400, 'invalid_request_error', ['config.networking'], {
      name: 'x',
      config: { type: 'cloud', networking: { type: 'open' } },
    });
    await expectError('POST', '/v1/environments', 400, 'invalid_request_error', ['config.packages.pip'], {
      name: 'x',
      config: { type: 'cloud', packages: { pip: 'numpy' } },
    });

    await expectError('POST', '/v1/vaults', 400, 'invalid_request_error', ['display_name'], {});
    await expectError('POST', '/v1/vaults', 400, 'invalid_request_error', ['secret'], { display_name: 'x', secret: 'y' });
    await expectError('POST', `/v1/vaults/${vaultId}/credentials`, 400, 'invalid_request_error', ['auth', 'Unrecognized key', '"extra"'], {
      auth: { type: 'static_bearer', token: 'value-0123456789', mcp_server_url: 'https://x.example.test/', extra: 1 },
    });
    await expectError('POST', `/v1/vaults/${vaultId}/credentials`, 400, 'invalid_request_error', ['mcp_server_url'], {
      auth: { type: 'static_bearer', token: 'value-0123456789', mcp_server_url: 'ftp://x.example.test/' },
    });
    await expectError('POST', `/v1/vaults/${vaultId}/credentials`, 400, 'invalid_request_error', ['auth.token'], {
      auth: { type: 'static_bearer', token: '   ', mcp_server_url: 'https://x.example.test/' },
    });
    await expectError('POST', `/v1/vaults/${vaultId}/credentials`, 400, 'invalid_request_error', ['secret_name'], {
      auth: {
        type: 'environment_variable',
        secret_name: '1BAD NAME',
        secret_value: 'value-0123456789',
        networking: { type: 'unrestricted' },
      },
    });
    await expectError('POST', `/v1/vaults/${vaultId}/credentials`, 400, 'invalid_request_error', ['"basic_auth"', 'static_bearer'], {
      auth: { type: 'basic_auth', username: 'u', password: 'p' },
    });
    expect(await counts()).toEqual(before);
  });

  it('answers bad query parameters with 400 naming them', async () => {
    await expectError('GET', '/v1/agents?limit=0', 400, 'invalid_request_error', ['limit']);
    await expectError('GET', '/v1/agents?limit=abc', 400, 'invalid_request_error', ['limit']);
    await expectError('GET', '/v1/agents?limit=1000', 400, 'invalid_request_error', ['limit', '100']);
    await expectError('GET', '/v1/agents?include_archived=maybe', 400, 'invalid_request_error', ['include_archived']);
    await expectError('GET', '/v1/agents?created_at%5Bgte%5D=yesterday', 400, 'invalid_request_error', ['created_at[gte]']);
    await expectError('GET', '/v1/agents?page=not-a-cursor', 400, 'invalid_request_error', ['page', 'next_page']);
    await expectError('GET', '/v1/agents?colour=red', 400, 'invalid_request_error', ['"colour"']);
    await expectError('GET', `/v1/agents/${agentId}?version=0`, 400, 'invalid_request_error', ['version']);
    await expectError('GET', `/v1/agents/${agentId}?version=two`, 400, 'invalid_request_error', ['version']);
    await expectError('GET', `/v1/agents/${agentId}/versions?include_archived=true`, 400, 'invalid_request_error', ['include_archived']);
    await expectError('GET', '/v1/environments?created_at%5Bgte%5D=2026-01-01T00:00:00Z', 400, 'invalid_request_error', [
      'created_at[gte]',
    ]);
    await expectError('GET', '/v1/vaults?order=asc', 400, 'invalid_request_error', ['"order"']);
    await expectError('GET', `/v1/vaults/${vaultId}/credentials?limit=-1`, 400, 'invalid_request_error', ['limit']);
  });
});
