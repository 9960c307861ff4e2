// Bad input to the sessions resource, by raw HTTP (what the SDK would never send): unknown and
// malformed ids, malformed and unknown fields, unknown agents, environments and vaults, what Drover
// cannot do — each answered in the service's error shape, with a message that says what to do, and
// nothing recorded (no session in the store, no record in managed.sqlite).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRig, API_TOKEN, type ApiRig } from '#test/support/api-rig';

let rig: ApiRig;
let agentId: string;
let envId: string;
let sessionId: string;

beforeAll(async () => {
  rig = await apiRig();
  envId = (await rig.client.beta.environments.create({ name: 'box', config: { type: 'cloud', networking: { type: 'unrestricted' } } })).id;
  agentId = (await rig.client.beta.agents.create({ name: 'fixer', model: 'claude-sonnet-4-6' })).id;
  sessionId = (await rig.client.beta.sessions.create({ agent: agentId, environment_id: envId })).id;
}, 60_000);

afterAll(async () => {
  await rig.close();
});

interface Answer {
  status: number;
  body: { type?: string; error?: { type: string; message: string }; request_id?: string };
}

async function raw(method: string, path: string, body?: unknown, text?: string): Promise<Answer> {
  const response = await fetch(`${rig.api.baseURL}${path}`, {
    method,
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    ...(text !== undefined ? { body: text } : body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

/** The request is refused in the service's shape with `status`/`type`, its message matching `words`, and nothing is recorded. */
async function refused(answer: Promise<Answer>, status: number, type: string, words: RegExp): Promise<void> {
  const sessions = rig.store.listSessions().length;
  const records = rig.managed.list('session').map((row) => JSON.stringify(row));
  const { status: got, body } = await answer;
  expect({ status: got, type: body.type, error: body.error?.type }).toEqual({ status, type: 'error', error: type });
  expect(body.error?.message).toMatch(words);
  expect(body.request_id).toMatch(/^req_/);
  expect(rig.store.listSessions()).toHaveLength(sessions);
  expect(rig.managed.list('session').map((row) => JSON.stringify(row))).toEqual(records);
}

const base = () => ({ agent: agentId, environment_id: envId });

describe('bad input to /v1/sessions', () => {
  it('unknown and malformed session ids are 404s', async () => {
    await refused(raw('GET', `/v1/sessions/sesn_${'0'.repeat(32)}`), 404, 'not_found_error', /session/i);
    await refused(raw('GET', '/v1/sessions/sesn_nothex'), 404, 'not_found_error', /sesn_nothex/);
    await refused(raw('POST', `/v1/sessions/sesn_${'1'.repeat(32)}`, { title: 'x' }), 404, 'not_found_error', /session/i);
    await refused(raw('POST', `/v1/sessions/sesn_${'2'.repeat(32)}/archive`), 404, 'not_found_error', /session/i);
    await refused(raw('DELETE', `/v1/sessions/sesn_${'3'.repeat(32)}`), 404, 'not_found_error', /session/i);
    await refused(raw('POST', `/v1/sessions/evt_1/fork`, { at_event_id: 'sevt_1' }), 404, 'not_found_error', /evt_1/);
  });

  it('malformed bodies, unknown keys and wrong types are 400s naming what was wrong', async () => {
    await refused(raw('POST', '/v1/sessions', undefined, '{"agent": '), 400, 'invalid_request_error', /JSON/i);
    await refused(raw('POST', '/v1/sessions', { ...base(), surprise: 1 }), 400, 'invalid_request_error', /surprise/);
    await refused(raw('POST', '/v1/sessions', { environment_id: envId }), 400, 'invalid_request_error', /agent/);
    await refused(raw('POST', '/v1/sessions', { ...base(), title: 'bad\u001b[31m' }), 400, 'invalid_request_error', /title/);
    await refused(
      raw('POST', '/v1/sessions', { ...base(), metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }),
      400,
      'invalid_request_error',
      /16 pairs/,
    );
    await refused(
      raw('POST', '/v1/sessions', { ...base(), budget: { type: 'limit', max_list_cost: { amount: '-5', currency: 'USD' } } }),
      400,
      'invalid_request_error',
      /budget/,
    );
    await refused(
      raw('POST', '/v1/sessions', { ...base(), initial_events: [{ type: 'user.interrupt' }] }),
      400,
      'invalid_request_error',
      /initial_events/,
    );
  });

  it('unknown agents, agent versions, environments and vaults are 404s', async () => {
    await refused(raw('POST', '/v1/sessions', { ...base(), agent: 'agent_000000000000000000000000' }), 404, 'not_found_error', /agent/i);
    await refused(
      raw('POST', '/v1/sessions', { ...base(), agent: { type: 'agent', id: agentId, version: 9 } }),
      404,
      'not_found_error',
      /version|9/,
    );
    await refused(
      raw('POST', '/v1/sessions', { ...base(), environment_id: 'env_000000000000000000000000' }),
      404,
      'not_found_error',
      /env/i,
    );
    await refused(
      raw('POST', '/v1/sessions', { ...base(), vault_ids: ['vlt_000000000000000000000000'] }),
      404,
      'not_found_error',
      /vault|vlt_/i,
    );
  });

  it('archived agents and environments start no new session', async () => {
    const archivedAgent = await rig.client.beta.agents.create({ name: 'old', model: 'claude-sonnet-4-6' });
    await rig.client.beta.agents.archive(archivedAgent.id);
    await refused(raw('POST', '/v1/sessions', { ...base(), agent: archivedAgent.id }), 400, 'invalid_request_error', /archived/);
    const archivedEnv = await rig.client.beta.environments.create({
      name: 'old',
      config: { type: 'cloud', networking: { type: 'unrestricted' } },
    });
    await rig.client.beta.environments.archive(archivedEnv.id);
    await refused(raw('POST', '/v1/sessions', { ...base(), environment_id: archivedEnv.id }), 400, 'invalid_request_error', /archived/);
  });

  it('what Drover cannot do is refused in words before anything runs', async () => {
    await refused(
      raw('POST', '/v1/sessions', { ...base(), resources: [{ type: 'file', file_id: 'file_1' }] }),
      400,
      'invalid_request_error',
      /resources/,
    );
    await refused(
      raw('POST', '/v1/sessions', {
        ...base(),
        initial_events: [{ type: 'user.define_outcome', description: 'x', rubric: { type: 'file', file_id: 'file_1' } }],
      }),
      400,
      'invalid_request_error',
      /rubric/,
    );
    await refused(
      raw('POST', '/v1/sessions', {
        ...base(),
        agent: { type: 'agent_with_overrides', id: agentId, tools: [{ type: 'mcp_toolset', mcp_server_name: 'nowhere' }] },
      }),
      400,
      'invalid_request_error',
      /nowhere/,
    );
    await refused(
      raw('POST', '/v1/sessions', { ...base(), metadata: { 'drover.hands': '[{"name": "Bad Name"}]' } }),
      400,
      'invalid_request_error',
      /drover\.hands/,
    );
    await refused(
      raw('POST', '/v1/sessions', { ...base(), metadata: { 'drover.hands': 'not json' } }),
      400,
      'invalid_request_error',
      /JSON/,
    );
    // A drover.hands spec names a credential of the session's vaults, never a vault secret by its own id.
    const ssh = { kind: 'ssh', host: '127.0.0.1', user: 'me', auth: { method: 'key', key_secret_id: 'sec_0123456789abcdef' } };
    await refused(
      raw('POST', '/v1/sessions', { ...base(), metadata: { 'drover.hands': JSON.stringify([{ name: 'box', config: ssh }]) } }),
      400,
      'invalid_request_error',
      /key_secret_id.*vcrd_/,
    );
    // A later initial event the host would refuse is refused before the session is made.
    const many = Array.from({ length: 101 }, (_, index) => ({ type: 'text', text: `part ${index}` }));
    await refused(
      raw('POST', '/v1/sessions', {
        ...base(),
        initial_events: [
          { type: 'user.message', content: [{ type: 'text', text: 'first' }] },
          { type: 'user.message', content: many },
        ],
      }),
      400,
      'invalid_request_error',
      /initial_events\.1.*100 blocks/,
    );
  });

  it('list, update and branch refuse bad queries and bodies', async () => {
    await refused(raw('GET', '/v1/sessions?colour=red'), 400, 'invalid_request_error', /colour/);
    await refused(raw('GET', '/v1/sessions?statuses[]=sleeping'), 400, 'invalid_request_error', /statuses/);
    await refused(raw('GET', '/v1/sessions?page=not-a-cursor'), 400, 'invalid_request_error', /page/);
    await refused(raw('GET', '/v1/sessions?limit=0'), 400, 'invalid_request_error', /limit/);
    await refused(raw('POST', `/v1/sessions/${sessionId}`, { colour: 'red' }), 400, 'invalid_request_error', /colour/);
    await refused(raw('POST', `/v1/sessions/${sessionId}`, { vault_ids: [] }), 400, 'invalid_request_error', /vault_ids/);
    await refused(
      raw('POST', `/v1/sessions/${sessionId}`, { agent: { tools: [{ type: 'mcp_toolset', mcp_server_name: 'nowhere' }] } }),
      400,
      'invalid_request_error',
      /nowhere/,
    );
    await refused(raw('POST', `/v1/sessions/${sessionId}`, { agent: { colour: [] } }), 400, 'invalid_request_error', /colour/);
    await refused(raw('POST', `/v1/sessions/${sessionId}/fork`, {}), 400, 'invalid_request_error', /at_event_id/);
    await refused(
      raw('POST', `/v1/sessions/${sessionId}/fork`, { at_event_id: `sevt_${'4'.repeat(32)}` }),
      400,
      'invalid_request_error',
      /no event/,
    );
    // Nothing changed on the session either.
    const session = await rig.client.beta.sessions.retrieve(sessionId);
    expect(session.metadata).toEqual({});
    expect(session.title).toBeNull();
  });
});
