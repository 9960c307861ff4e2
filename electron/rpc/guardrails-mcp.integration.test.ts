// Guardrails for MCP servers through the RPC a UI uses, with the real fixture MCP server
// (test/support/mcp-child.ts) and the local Messages API server: an untrusted server's tools ask; a
// policy names a tool by the server's own name (`notes.read`, which the model calls under an
// API-safe name); approving a server from an imported file does not make it trusted.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import type { GuardrailsView } from '#shared/guardrails';
import { HandSpecSchema, type McpServerInfo } from '#shared/hands';
import { SessionSummarySchema } from '#shared/sessions';
import { createHost, type Host } from '#rpc/host';
import { SessionStore } from '#services/session/store';
import { fixtureServer } from '#test/support/mcp';
import { startModelServer, type ModelServer, type Reply } from '#test/support/model-server';
import { tempDir } from '#test/support/system';

const API_KEY = 'sk-ant-test-guardrails-mcp';

let dir: string;
let store: SessionStore;
let host: Host;
let model: ModelServer;
let script: Reply[] = [];
const done: Reply = { kind: 'message', message: { content: [{ type: 'text', text: 'Done.' }], stop_reason: 'end_turn' } };

beforeAll(async () => {
  dir = tempDir('drover-guardrails-mcp-');
  model = await startModelServer({ apiKey: API_KEY, respond: () => script.shift() ?? done });
  store = SessionStore.open({ dataDir: dir });
  host = createHost({
    store,
    info: { version: 'test', dataDir: dir, platform: process.platform },
    baseURL: model.url,
    keyProvider: () => API_KEY,
    push: () => undefined,
    log: () => undefined,
  });
}, 60_000);

afterAll(async () => {
  await host?.close();
  await host?.hands.close();
  store?.close();
  await model?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call<T = unknown>(name: string, arg?: unknown): Promise<T> {
  const outcome = await host.dispatch(name, arg);
  if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
  return outcome.result as T;
}

async function refusal(name: string, arg: unknown): Promise<string> {
  const outcome = await host.dispatch(name, arg);
  if (outcome.ok) throw new Error(`${name} was expected to be refused`);
  return outcome.error.message;
}

async function nextIdle(sessionId: string): Promise<Extract<StoredEvent, { type: 'session.status_idle' }>> {
  const before = store.getEvents(sessionId, { types: ['session.status_idle'] }).length;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const idles = store.getEvents(sessionId, { types: ['session.status_idle'] });
    if (idles.length > before) return idles.at(-1) as Extract<StoredEvent, { type: 'session.status_idle' }>;
    if (Date.now() > deadline)
      throw new Error(`no idle: ${JSON.stringify(store.getEvents(sessionId, { direction: 'backward', limit: 6 }))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('MCP servers under guardrails', () => {
  it('an untrusted server’s tools ask; a policy names a tool by the server’s own name', async () => {
    const id = SessionSummarySchema.parse(
      await call('sessions-launch', { title: 'mcp', hands: [{ name: 'fx', config: { kind: 'mcp', transport: fixtureServer() } }] }),
    ).id;
    const info = await call<McpServerInfo>('hands-mcp-info', { sessionId: id, name: 'fx' });
    const notes = info.tools.find((tool) => tool.name === 'notes.read');
    expect(notes?.exposedName).toMatch(/^fx__notes_read_[0-9a-f]+$/);

    // The server's own name is what a policy names; the API-safe one is not a tool of the hand.
    const exposedOwn = notes!.exposedName.slice('fx__'.length);
    expect(await refusal('sessions-set-policy', { sessionId: id, hand: 'fx', tool: exposedOwn, policy: 'always_allow' })).toMatch(
      /no tool named/,
    );
    const view = await call<GuardrailsView>('sessions-set-policy', {
      sessionId: id,
      hand: 'fx',
      tool: 'notes.read',
      policy: 'always_allow',
    });
    expect(view.policies).toEqual(
      expect.arrayContaining([
        { hand: 'fx', tool: null, policy: 'always_ask' },
        { hand: 'fx', tool: 'notes.read', policy: 'always_allow' },
        { hand: 'fx', tool: 'cancelled', policy: 'always_ask' },
      ]),
    );

    script = [
      {
        kind: 'message',
        message: {
          content: [
            { type: 'tool_use', name: notes!.exposedName, input: {} },
            { type: 'tool_use', name: 'fx__cancelled', input: {} },
          ],
          stop_reason: 'tool_use',
        },
      },
    ];
    await call('sessions-send', { sessionId: id, text: 'read the notes' });
    const stop = await nextIdle(id);
    const uses = store.getEvents(id, { types: ['agent.mcp_tool_use'] }) as Array<Extract<StoredEvent, { type: 'agent.mcp_tool_use' }>>;
    expect(uses.map((use) => use.payload.evaluated_permission)).toEqual(['allow', 'ask']);
    expect(stop.payload.stop_reason).toMatchObject({ type: 'requires_action', event_ids: [uses[1]?.id] });
    const results = store.getEvents(id, { types: ['agent.mcp_tool_result'] }) as Array<
      Extract<StoredEvent, { type: 'agent.mcp_tool_result' }>
    >;
    expect(results.map((result) => result.payload.tool_use_id)).toEqual([uses[0]?.payload.tool_use_id]);
    expect(results[0]?.payload.content).toEqual([{ type: 'text', text: 'notes' }]);

    const idle = nextIdle(id);
    await call('sessions-confirm-tool', { sessionId: id, confirmations: [{ tool_use_id: uses[1]!.payload.tool_use_id, result: 'deny' }] });
    expect((await idle).payload.stop_reason.type).toBe('end_turn');
    const answered = store.getEvents(id, { types: ['agent.mcp_tool_result'] }) as Array<
      Extract<StoredEvent, { type: 'agent.mcp_tool_result' }>
    >;
    expect(answered.at(-1)?.payload).toMatchObject({ tool_use_id: uses[1]?.payload.tool_use_id, is_error: true });
  }, 60_000);

  it('approving a server from an imported file does not trust it: its tools still ask', async () => {
    const spec = HandSpecSchema.parse({ name: 'fx', config: { kind: 'mcp', transport: fixtureServer(), trusted: true } });
    const header = {
      drover_session_export: 1,
      session: { id: randomUUID(), title: 'imported', created_at: new Date().toISOString(), parent_id: null, fork_seq: null },
      event_count: 1,
    };
    const line = {
      seq: 1,
      id: randomUUID(),
      ts: new Date().toISOString(),
      type: 'hand.attached',
      payload: { hand_id: 'fx', config: spec.config },
    };
    const imported = SessionSummarySchema.parse(
      await call('sessions-import', { jsonl: `${JSON.stringify(header)}\n${JSON.stringify(line)}\n` }),
    );
    await call('hands-approve', { sessionId: imported.id, name: 'fx', attachedSeq: 1 });
    const [latest] = store.getEvents(imported.id, { types: ['hand.attached'], direction: 'backward', limit: 1 });
    expect(latest?.type === 'hand.attached' && latest.payload.config).not.toHaveProperty('trusted');
    const view = await call<GuardrailsView>('sessions-guardrails', { sessionId: imported.id });
    expect(view.policies).toContainEqual({ hand: 'fx', tool: null, policy: 'always_ask' });
  }, 60_000);
});
