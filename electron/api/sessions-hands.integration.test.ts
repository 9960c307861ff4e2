// What an API session's agent becomes in Drover, through the official SDK: an MCP server over HTTP
// whose bearer comes from a vault credential (checked by the server, never returned), the agent
// toolset on the environment's Docker hand with its tools' policies, custom tools, and the hands the
// service has no words for in `metadata["drover.hands"]`.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import type { GuardrailsView } from '#shared/guardrails';
import type { HandStatus } from '#shared/hands';
import { apiRig, endTurn, uuidOf, type ApiRig } from '#test/support/api-rig';
import { BUSYBOX_IMAGE, ensureTestImages, requireDocker } from '#test/support/docker';
import { fixtureServer, startAuthHttpServer } from '#test/support/mcp';

const TOKEN = 'mcp-bearer-never-returned-5b7c1e';

let rig: ApiRig;
let docker = false;

beforeAll(async () => {
  docker = await requireDocker();
  if (docker) ensureTestImages();
}, 120_000);

beforeEach(async () => {
  rig = await apiRig();
});

afterEach(async () => {
  await rig.close();
});

afterAll(() => undefined);

async function rpc<T>(name: string, arg: unknown): Promise<T> {
  const outcome = await rig.host.dispatch(name, arg);
  if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
  return outcome.result as T;
}

async function idle(sessionId: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (rig.store.getEvents(sessionId, { types: ['session.status_idle'] }).length === 0) {
    if (Date.now() > deadline)
      throw new Error(`no idle: ${JSON.stringify(rig.store.getEvents(sessionId, { direction: 'backward', limit: 5 }))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function environment(metadata: Record<string, string> = {}) {
  return rig.client.beta.environments.create({ name: 'box', config: { type: 'cloud', networking: { type: 'unrestricted' } }, metadata });
}

describe('an API session’s hands', () => {
  it('gives an MCP server over HTTP its bearer from a vault credential matched by URL, and never returns it', async () => {
    const server = await startAuthHttpServer(TOKEN);
    try {
      const env = await environment();
      const vault = await rig.client.beta.vaults.create({ display_name: 'mcp' });
      const credential = await rig.client.beta.vaults.credentials.create(vault.id, {
        auth: { type: 'static_bearer', token: TOKEN, mcp_server_url: server.url },
      });
      const agent = await rig.client.beta.agents.create({
        name: 'asker',
        model: 'claude-sonnet-4-6',
        mcp_servers: [{ type: 'url', name: 'Auth Fixture', url: server.url }],
        tools: [{ type: 'mcp_toolset', mcp_server_name: 'Auth Fixture', default_config: { permission_policy: { type: 'always_allow' } } }],
      });
      rig.script.push((request) => {
        const name = (request.body.tools ?? []).map((tool) => tool.name).find((each) => each.endsWith('whoami'));
        if (name === undefined) return endTurn(`no whoami tool in ${JSON.stringify(request.body.tools)}`);
        return { kind: 'message', message: { content: [{ type: 'tool_use', name, input: {} }], stop_reason: 'tool_use' } };
      });
      rig.script.push(() => endTurn('You are ok.'));
      const session = await rig.client.beta.sessions.create({
        agent: agent.id,
        environment_id: env.id,
        vault_ids: [vault.id],
        initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'Who am I?' }] }],
      });
      const id = uuidOf(session);
      const deadline = Date.now() + 30_000;
      let results: StoredEvent[] = [];
      while ((results = rig.store.getEvents(id, { types: ['agent.mcp_tool_result'] })).length === 0) {
        if (Date.now() > deadline)
          throw new Error(`no MCP result: ${JSON.stringify(rig.store.getEvents(id, { direction: 'backward', limit: 6 }))}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(results[0]?.payload).toMatchObject({ is_error: false, content: [{ type: 'text', text: 'ok' }] });
      expect(server.received.some((headers) => headers.authorization === `Bearer ${TOKEN}`)).toBe(true);

      const hands = await rpc<HandStatus[]>('hands-list', { sessionId: id });
      expect(hands).toHaveLength(1);
      expect(hands[0]).toMatchObject({ name: 'auth-fixture', kind: 'mcp' });
      const policies = await rpc<GuardrailsView>('sessions-guardrails', { sessionId: id });
      expect(policies.policies).toContainEqual({ hand: 'auth-fixture', tool: null, policy: 'always_allow' });

      // The value is in no answer and in no event; only the vault holds it.
      const answers = [
        session,
        await rig.client.beta.sessions.retrieve(session.id),
        await rig.client.beta.sessions.list(),
        await rig.client.beta.vaults.credentials.retrieve(credential.id, { vault_id: vault.id }),
      ];
      for (const answer of answers) expect(JSON.stringify(answer)).not.toContain(TOKEN);
      expect(JSON.stringify(rig.store.getEvents(id))).not.toContain(TOKEN);
    } finally {
      await server.close();
    }
  });

  it('puts the agent toolset on the environment’s Docker hand with its tools’ policies; a tool turned off is not offered', async () => {
    if (!docker) return;
    const env = await environment({ 'drover.image': BUSYBOX_IMAGE });
    const agent = await rig.client.beta.agents.create({
      name: 'builder',
      model: 'claude-sonnet-4-6',
      tools: [
        {
          type: 'agent_toolset_20260401',
          configs: [
            { name: 'bash', permission_policy: { type: 'always_ask' } },
            { name: 'write', permission_policy: { type: 'always_ask' } },
            { name: 'grep', enabled: false },
          ],
        },
      ],
    });
    const session = await rig.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
    const id = uuidOf(session);
    const hands = await rpc<HandStatus[]>('hands-list', { sessionId: id });
    expect(hands).toHaveLength(1);
    const hand = hands[0];
    expect(hand?.config).toMatchObject({ kind: 'docker', image: BUSYBOX_IMAGE });
    expect(hand?.tools).toEqual(expect.arrayContaining(['bash', 'read', 'write', 'edit', 'glob']));
    expect(hand?.tools).not.toContain('grep');
    const guardrails = await rpc<GuardrailsView>('sessions-guardrails', { sessionId: id });
    expect(guardrails.policies).toContainEqual({ hand: hand?.name, tool: 'bash', policy: 'always_ask' });
    expect(guardrails.policies).toContainEqual({ hand: hand?.name, tool: 'write', policy: 'always_ask' });
    expect(guardrails.policies).toContainEqual({ hand: hand?.name, tool: null, policy: 'always_allow' });
  });

  it('lets a drover.hands spec use a vault credential of the session by its id, never its value', async () => {
    const value = 'docs-token-value-9f3a7c21';
    const env = await environment();
    const vault = await rig.client.beta.vaults.create({ display_name: 'local' });
    const credential = await rig.client.beta.vaults.credentials.create(vault.id, {
      auth: { type: 'environment_variable', secret_name: 'DOCS_TOKEN', secret_value: value, networking: { type: 'unrestricted' } },
    });
    const agent = await rig.client.beta.agents.create({ name: 'local', model: 'claude-sonnet-4-6' });
    const hands = [
      {
        name: 'fx',
        config: { kind: 'mcp', transport: { ...fixtureServer(), env: { DOCS_TOKEN: { secret_id: credential.id } } }, trusted: true },
      },
    ];
    rig.script.push((request) => {
      const name = (request.body.tools ?? []).map((tool) => tool.name).find((each) => each.endsWith('__env'));
      if (name === undefined) return endTurn(`no env tool in ${JSON.stringify(request.body.tools)}`);
      return {
        kind: 'message',
        message: { content: [{ type: 'tool_use', name, input: { name: 'DOCS_TOKEN' } }], stop_reason: 'tool_use' },
      };
    });
    rig.script.push(() => endTurn('Read it.'));
    const session = await rig.client.beta.sessions.create({
      agent: agent.id,
      environment_id: env.id,
      vault_ids: [vault.id],
      metadata: { 'drover.hands': JSON.stringify(hands) },
      initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'Read DOCS_TOKEN' }] }],
    });
    const id = uuidOf(session);
    await idle(id);
    const [result] = rig.store.getEvents(id, { types: ['agent.mcp_tool_result'] });
    const text =
      result?.type === 'agent.mcp_tool_result' && result.payload.content[0]?.type === 'text' ? result.payload.content[0].text : '';
    // The server had the value (its length); the log has it redacted.
    expect(JSON.parse(text)).toMatchObject({ length: value.length });
    expect(JSON.stringify(rig.store.getEvents(id))).not.toContain(value);
    const [attached] = rig.store.getEvents(id, { types: ['hand.attached'] });
    expect(JSON.stringify(attached?.payload)).toMatch(/"secret_id":"sec_[a-z0-9]{16}"/);
    expect(JSON.stringify(await rig.client.beta.sessions.retrieve(session.id))).not.toContain(value);
  });

  it('changes an idle session’s tools and MCP servers through an update, leaving the agent as it was', async () => {
    const env = await environment();
    const agent = await rig.client.beta.agents.create({ name: 'plain', model: 'claude-sonnet-4-6' });
    const session = await rig.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
    const id = uuidOf(session);
    const updated = await rig.client.beta.sessions.update(session.id, {
      agent: {
        mcp_servers: [{ type: 'url', name: 'docs', url: 'http://127.0.0.1:9/mcp' }],
        tools: [
          { type: 'mcp_toolset', mcp_server_name: 'docs', default_config: { permission_policy: { type: 'always_allow' } } },
          { type: 'custom', name: 'lookup', description: 'Looks up.', input_schema: { type: 'object' } },
        ],
      },
    });
    expect(updated.agent.tools.map((tool) => tool.type)).toEqual(['mcp_toolset', 'custom']);
    expect(updated.agent.mcp_servers).toEqual([{ type: 'url', name: 'docs', url: 'http://127.0.0.1:9/mcp' }]);
    expect((await rpc<HandStatus[]>('hands-list', { sessionId: id })).map((hand) => [hand.name, hand.kind])).toEqual([['docs', 'mcp']]);
    expect((await rpc<GuardrailsView>('sessions-guardrails', { sessionId: id })).policies).toContainEqual({
      hand: 'docs',
      tool: null,
      policy: 'always_allow',
    });
    const [custom] = rig.store.getEvents(id, { types: ['session.custom_tools_set'], direction: 'backward', limit: 1 });
    expect(custom?.payload).toMatchObject({ tools: [{ name: 'lookup' }] });

    const cleared = await rig.client.beta.sessions.update(session.id, { agent: { tools: [], mcp_servers: [] } });
    expect(cleared.agent).toMatchObject({ tools: [], mcp_servers: [] });
    expect(await rpc<HandStatus[]>('hands-list', { sessionId: id })).toEqual([]);
    expect((await rig.client.beta.agents.retrieve(agent.id)).tools).toEqual([]);
    expect((await rig.client.beta.sessions.retrieve(session.id)).agent.tools).toEqual([]);
  });

  it('runs the toolset’s bash on the environment’s container under its own name', async () => {
    if (!docker) return;
    const env = await environment({ 'drover.image': BUSYBOX_IMAGE });
    const agent = await rig.client.beta.agents.create({
      name: 'runner',
      model: 'claude-sonnet-4-6',
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    rig.script.push((request) => {
      const names = (request.body.tools ?? []).map((tool) => tool.name);
      if (!names.includes('bash')) return endTurn(`no bash tool in ${JSON.stringify(names)}`);
      return {
        kind: 'message',
        message: { content: [{ type: 'tool_use', name: 'bash', input: { command: 'echo hi-from-$((40+2))' } }], stop_reason: 'tool_use' },
      };
    });
    rig.script.push(() => endTurn('It said hi.'));
    const session = await rig.client.beta.sessions.create({
      agent: agent.id,
      environment_id: env.id,
      initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'Say hi in the shell' }] }],
    });
    const id = uuidOf(session);
    const deadline = Date.now() + 90_000;
    let results: StoredEvent[] = rig.store.getEvents(id, { types: ['agent.tool_result'] });
    while (results.length === 0) {
      if (Date.now() > deadline)
        throw new Error(`no tool result: ${JSON.stringify(rig.store.getEvents(id, { direction: 'backward', limit: 6 }))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      results = rig.store.getEvents(id, { types: ['agent.tool_result'] });
    }
    const [use] = rig.store.getEvents(id, { types: ['agent.tool_use'] });
    expect(use?.payload).toMatchObject({ name: 'bash', hand_id: 'env', evaluated_permission: 'allow' });
    expect(JSON.stringify(results[0]?.payload)).toContain('hi-from-42');
    await idle(id);
  }, 120_000);

  it('offers the agent’s custom tools, and attaches the hands named in metadata["drover.hands"]', async () => {
    const env = await environment();
    const agent = await rig.client.beta.agents.create({
      name: 'caller',
      model: 'claude-sonnet-4-6',
      tools: [
        {
          type: 'custom',
          name: 'lookup_order',
          description: 'Looks an order up.',
          input_schema: { type: 'object', properties: { order: { type: 'string' } }, required: ['order'] },
        },
      ],
    });
    const hands = [{ name: 'notes', config: { kind: 'mcp', transport: fixtureServer() } }];
    rig.script.push(() => endTurn('Noted.'));
    const session = await rig.client.beta.sessions.create({
      agent: agent.id,
      environment_id: env.id,
      metadata: { 'drover.hands': JSON.stringify(hands) },
      initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'Look up order 7' }] }],
    });
    const id = uuidOf(session);
    await idle(id);
    const tools = (rig.model.requests[0]?.body.tools ?? []).map((tool) => tool.name);
    expect(tools).toContain('lookup_order');
    const attached = await rpc<HandStatus[]>('hands-list', { sessionId: id });
    expect(attached.map((each) => [each.name, each.kind])).toEqual([['notes', 'mcp']]);
    expect(session.metadata['drover.hands']).toBe(JSON.stringify(hands));
  });
});
