// MCP servers as hands, end to end through the RPC a UI uses: real servers from npm
// (server-everything over stdio and Streamable HTTP, server-filesystem, server-memory) and the
// fixture servers of test/support/mcp.ts (a crash mid-call, slow tools, tools added at run time,
// a Streamable HTTP server that demands a bearer token), driven by the harness against the local
// Messages API server. Tool uses are recorded as agent.mcp_tool_use / agent.mcp_tool_result, and
// a header secret reaches the HTTP server but never the log, the UI or the model.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import type { HandSpecInput, HandStatus, McpImport, McpServerInfo } from '#shared/hands';
import type { PushMessage } from '#shared/rpc';
import { SessionSummarySchema } from '#shared/sessions';
import type { Host } from '#rpc/host';
import type { SessionStore } from '#services/session/store';
import { vaultHostRig, type VaultHostRig } from '#test/support/host-rig';
import { fixtureServer, referenceServer, referenceServerEntry, startAuthHttpServer, startEverythingHttp } from '#test/support/mcp';
import { startModelServer, type ModelServer, type RecordedRequest, type Reply } from '#test/support/model-server';
import { folderBytes } from '#test/support/system';

const API_KEY = 'sk-ant-test-mcp-hands';
const HEADER_CANARY = 'mcp-header-canary-3e9b71c4d2a8f605';
const BEARER_CANARY = 'mcp-bearer-canary-8c1f2e7d9a4b6053';

let rig: VaultHostRig | undefined;
let dir: string;
let store: SessionStore;
let host: Host;
let model: ModelServer;
const logs: string[] = [];
const wire: string[] = [];

/** What the model answers, in order; each gets the request. Empty: a plain "Done." */
let script: Array<(request: RecordedRequest) => Reply> = [];

function toolUse(name: string, input: Record<string, unknown>): Reply {
  return { kind: 'message', message: { content: [{ type: 'tool_use', name, input }], stop_reason: 'tool_use' } };
}
const done: Reply = { kind: 'message', message: { content: [{ type: 'text', text: 'Done.' }], stop_reason: 'end_turn' } };

beforeAll(async () => {
  model = await startModelServer({ apiKey: API_KEY, respond: (request) => (script.shift() ?? (() => done))(request) });
  rig = vaultHostRig('drover-mcp-hands-', {
    baseURL: model.url,
    apiKey: API_KEY,
    push: (message: PushMessage) => wire.push(JSON.stringify(message)),
    log: (message, error) =>
      logs.push(`${message} ${error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : (JSON.stringify(error) ?? '')}`),
  });
  ({ dir, store, host } = rig);
}, 60_000);

afterAll(async () => {
  await rig?.close();
  await model?.close();
});

/** An RPC call as a UI makes it; the reply is recorded as the renderer would receive it. */
async function call<T = unknown>(name: string, arg?: unknown): Promise<T> {
  const outcome = await host.dispatch(name, arg);
  wire.push(JSON.stringify(outcome));
  if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
  return outcome.result as T;
}

async function refused(name: string, arg?: unknown): Promise<string> {
  const outcome = await host.dispatch(name, arg);
  wire.push(JSON.stringify(outcome));
  if (outcome.ok) throw new Error(`${name} was expected to be refused`);
  return outcome.error.message;
}

async function launch(hands: HandSpecInput[], message?: string): Promise<string> {
  const session = SessionSummarySchema.parse(await call('sessions-launch', { title: 'MCP', hands, ...(message ? { message } : {}) }));
  return session.id;
}

async function send(sessionId: string, text: string): Promise<void> {
  const before = store.getEvents(sessionId, { types: ['session.status_idle'] }).length;
  await call('sessions-send', { sessionId, text });
  const deadline = Date.now() + 60_000;
  while (store.getEvents(sessionId, { types: ['session.status_idle'] }).length === before) {
    if (Date.now() > deadline)
      throw new Error(`the turn did not end: ${JSON.stringify(store.getEvents(sessionId, { direction: 'backward', limit: 6 }))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function events<K extends StoredEvent['type']>(sessionId: string, type: K): Array<Extract<StoredEvent, { type: K }>> {
  return store.getEvents(sessionId, { types: [type] }) as Array<Extract<StoredEvent, { type: K }>>;
}

function toolNames(request: RecordedRequest | undefined): string[] {
  return (request?.body.tools ?? []).map((tool) => String((tool as { name: unknown }).name));
}

function lastToolResultText(request: RecordedRequest | undefined): string {
  const last = request?.body.messages.at(-1);
  return JSON.stringify(Array.isArray(last?.content) ? last.content.filter((block) => block.type === 'tool_result') : []);
}

/** Trusted: these tests are about MCP as hands; approvals of untrusted servers are guardrails-approvals.integration.test.ts's. */
function mcpHand(name: string, transport: unknown, extra: Record<string, unknown> = {}): HandSpecInput {
  return { name, config: { kind: 'mcp', transport, trusted: true, ...extra } } as HandSpecInput;
}

describe('MCP servers as hands', () => {
  it('offers server-everything’s tools under its name, records a call as MCP events and carries the result to the model', async () => {
    const id = await launch([mcpHand('everything', referenceServer('server-everything'))]);
    const before = model.requests.length;
    script = [
      () => toolUse('everything__echo', { message: 'hello from mcp' }),
      () => toolUse('everything__get-structured-content', { location: 'New York' }),
      () => done,
    ];
    await send(id, 'Echo something.');

    const first = model.requests[before];
    const names = toolNames(first);
    expect(names).toEqual(expect.arrayContaining(['everything__echo', 'everything__get-sum', 'everything__get-tiny-image']));
    expect(names.every((name) => /^everything__[a-zA-Z0-9_-]+$/.test(name) && name.length <= 128)).toBe(true);
    expect(new Set(names).size).toBe(names.length);

    const uses = events(id, 'agent.mcp_tool_use');
    expect(uses.map((use) => use.payload)).toEqual([
      {
        tool_use_id: expect.any(String),
        server_name: 'everything',
        name: 'everything__echo',
        input: { message: 'hello from mcp' },
        evaluated_permission: 'allow',
      },
      {
        tool_use_id: expect.any(String),
        server_name: 'everything',
        name: 'everything__get-structured-content',
        input: { location: 'New York' },
        evaluated_permission: 'allow',
      },
    ]);
    expect(events(id, 'agent.tool_use')).toEqual([]);
    const results = events(id, 'agent.mcp_tool_result');
    expect(results[0]?.payload).toMatchObject({
      is_error: false,
      status: 'completed',
      content: [{ type: 'text', text: expect.stringContaining('hello from mcp') }],
    });
    expect(results[1]?.payload.structured_content).toMatchObject({ temperature: expect.any(Number) });
    expect(lastToolResultText(model.requests[before + 1])).toContain('hello from mcp');
    // The hand's life is in the log: started when its tools were first needed.
    expect(events(id, 'hand.ready').map((event) => event.payload.detail)).toEqual([expect.stringMatching(/^MCP server .*tools/)]);
    const [status] = await call<HandStatus[]>('hands-list', { sessionId: id });
    expect(status).toMatchObject({ name: 'everything', kind: 'mcp', state: 'ready' });
    expect(status?.tools).toContain('everything__echo');
  }, 60_000);

  it('reads a file with server-filesystem and keeps server-memory’s state between calls (one process per hand)', async () => {
    const allowed = path.join(dir, 'allowed');
    mkdirSync(allowed, { recursive: true });
    writeFileSync(path.join(allowed, 'notes.txt'), 'the answer is 42\n');
    const id = await launch([
      mcpHand('files', referenceServer('server-filesystem', [allowed])),
      mcpHand('memory', referenceServer('server-memory', [], { MEMORY_FILE_PATH: { value: path.join(dir, 'memory.jsonl') } })),
    ]);
    const before = model.requests.length;
    script = [
      () => toolUse('files__read_text_file', { path: path.join(allowed, 'notes.txt') }),
      () => toolUse('memory__create_entities', { entities: [{ name: 'Drover', entityType: 'app', observations: ['runs agents'] }] }),
      () => toolUse('memory__read_graph', {}),
      () => done,
    ];
    await send(id, 'Read the notes and remember the app.');
    expect(lastToolResultText(model.requests[before + 1])).toContain('the answer is 42');
    expect(lastToolResultText(model.requests[before + 3])).toContain('runs agents');
    expect(events(id, 'agent.mcp_tool_result').map((event) => event.payload.is_error)).toEqual([false, false, false]);
  }, 60_000);

  it('a server that crashes mid-call gives an error result, is recorded lost, and is started again by the next call', async () => {
    const id = await launch([mcpHand('fx', fixtureServer())]);
    script = [() => toolUse('fx__crash', {}), () => toolUse('fx__cancelled', {}), () => done];
    await send(id, 'Crash, then carry on.');
    const [crashed, after] = events(id, 'agent.mcp_tool_result');
    expect(crashed?.payload).toMatchObject({ is_error: true, status: 'interrupted' });
    expect(JSON.stringify(crashed?.payload.content)).toMatch(/exited during the call[\s\S]*about to crash \(boom\)/);
    expect(events(id, 'hand.lost').map((event) => event.payload.hand_id)).toEqual(['fx']);
    expect(after?.payload).toMatchObject({ is_error: false, content: [{ type: 'text', text: '0' }] });
    expect(events(id, 'hand.ready')).toHaveLength(2); // started, crashed, started again
    // What the server wrote to stderr is viewable.
    const info = await call<McpServerInfo>('hands-mcp-info', { sessionId: id, name: 'fx' });
    expect(info.stderr).toContain('about to crash (boom)');
  }, 60_000);

  it('offers tools a server adds at run time (tools/list_changed) from the next request', async () => {
    const id = await launch([mcpHand('fx', fixtureServer())]);
    const before = model.requests.length;
    script = [() => toolUse('fx__add-tool', {}), () => toolUse('fx__late', {}), () => done];
    await send(id, 'Add a tool and use it.');
    expect(toolNames(model.requests[before])).not.toContain('fx__late');
    expect(toolNames(model.requests[before + 1])).toContain('fx__late');
    expect(events(id, 'agent.mcp_tool_result').at(-1)?.payload).toMatchObject({
      is_error: false,
      content: [{ type: 'text', text: 'late' }],
    });
  }, 60_000);

  it('a call over its timeout is cancelled and recorded as timed out; an interrupt stops a call within moments', async () => {
    const id = await launch([mcpHand('fx', fixtureServer(), { timeout_seconds: 1 })]);
    script = [() => toolUse('fx__sleep', { ms: 20_000 }), () => done];
    await send(id, 'Sleep long.');
    const [timedOut] = events(id, 'agent.mcp_tool_result');
    expect(timedOut?.payload).toMatchObject({ is_error: true, status: 'timed_out' });
    expect(timedOut?.payload.duration_ms).toBeLessThan(5000);

    await call('hands-update', { sessionId: id, hand: mcpHand('fx', fixtureServer(), { timeout_seconds: 120 }) });
    script = [() => toolUse('fx__sleep', { ms: 20_000 }), () => done];
    await call('sessions-send', { sessionId: id, text: 'Sleep again.' });
    const deadline = Date.now() + 20_000;
    while (events(id, 'agent.mcp_tool_use').length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await call('sessions-interrupt', { sessionId: id });
    while (events(id, 'agent.mcp_tool_result').length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const interrupted = events(id, 'agent.mcp_tool_result')[1];
    expect(interrupted?.payload).toMatchObject({ is_error: true, status: 'interrupted' });
    expect(interrupted?.payload.duration_ms).toBeLessThan(3000);
    // The server was told to cancel (the fixture counts cancelled sleeps).
    script = [() => toolUse('fx__cancelled', {}), () => done];
    await send(id, 'How many were cancelled?');
    expect(Number((events(id, 'agent.mcp_tool_result').at(-1)?.payload.content[0] as { text: string }).text)).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('turning a tool or the whole server off changes what the model is offered, without restarting the server', async () => {
    const id = await launch([mcpHand('everything', referenceServer('server-everything'))]);
    const before = model.requests.length;
    await send(id, 'Hello.');
    expect(toolNames(model.requests[before])).toContain('everything__echo');
    const readyBefore = events(id, 'hand.ready').length;

    const statuses = await call<HandStatus[]>('hands-update', {
      sessionId: id,
      hand: mcpHand('everything', referenceServer('server-everything'), { disabled_tools: ['echo'] }),
    });
    expect(statuses[0]?.tools).not.toContain('everything__echo');
    expect(statuses[0]?.tools).toContain('everything__get-sum');
    const info = await call<McpServerInfo>('hands-mcp-info', { sessionId: id, name: 'everything' });
    expect(info.tools.find((tool) => tool.name === 'echo')).toMatchObject({ enabled: false, exposedName: 'everything__echo' });
    script = [() => toolUse('everything__echo', { message: 'x' }), () => done];
    await send(id, 'Echo.');
    expect(toolNames(model.requests.at(-2))).not.toContain('everything__echo');
    expect(toolNames(model.requests.at(-2))).toContain('everything__get-sum');
    expect(JSON.stringify(events(id, 'agent.tool_result').at(-1)?.payload)).toContain('There is no tool named');
    expect(events(id, 'hand.ready')).toHaveLength(readyBefore); // the same server process

    await call('hands-update', { sessionId: id, hand: mcpHand('everything', referenceServer('server-everything'), { enabled: false }) });
    await send(id, 'Anything?');
    expect(toolNames(model.requests.at(-1)).filter((name) => name.startsWith('everything__'))).toEqual([]);
    const [off] = await call<HandStatus[]>('hands-list', { sessionId: id });
    expect(off?.detail).toMatch(/^Off/);
    // The change is in the log: a fork inherits the server turned off.
    const fork = SessionSummarySchema.parse(await call('sessions-fork', { sessionId: id, atSeq: store.getSession(id).lastSeq }));
    const [forked] = await call<HandStatus[]>('hands-list', { sessionId: fork.id });
    expect(forked?.config).toMatchObject({ kind: 'mcp', enabled: false });

    // Servers used before are offered again, one per command (the latest configuration).
    const recent = await call<Array<{ name: string; config: { enabled: boolean } }>>('mcp-recent-servers');
    expect(recent.filter((server) => server.name === 'everything')).toHaveLength(1);
    expect(recent.find((server) => server.name === 'everything')?.config.enabled).toBe(false);

    expect(
      await refused('hands-update', {
        sessionId: id,
        hand: { name: 'nope', config: { kind: 'mcp', transport: referenceServer('server-everything') } },
      }),
    ).toMatch(/no hand named "nope"/);
    expect(
      await refused('hands-update', { sessionId: id, hand: { name: 'everything', config: { kind: 'docker', image: 'alpine' } } }),
    ).toMatch(/cannot become a docker one/);
  }, 60_000);

  it('tests a server before attaching it, and says why one cannot start with what it wrote to stderr', async () => {
    const ok = await call<McpServerInfo>('mcp-test-server', { config: { kind: 'mcp', transport: referenceServer('server-everything') } });
    expect(ok).toMatchObject({ ok: true, server: { name: expect.any(String), version: expect.any(String) } });
    expect(ok.tools.map((tool) => tool.name)).toContain('echo');
    expect(ok.message).toMatch(/started and offers \d+ tools/);

    // A URL server is one Drover connects to, never one it starts: the test says so.
    const everything = await startEverythingHttp();
    try {
      const remote = await call<McpServerInfo>('mcp-test-server', {
        config: { kind: 'mcp', transport: { type: 'http', url: everything.url } },
      });
      expect(remote).toMatchObject({ ok: true });
      expect(remote.message).toMatch(/answered and offers \d+ tools/);
      expect(remote.message).not.toMatch(/start/);
    } finally {
      await everything.stop();
    }

    const broken = await call<McpServerInfo>('mcp-test-server', {
      config: {
        kind: 'mcp',
        transport: {
          type: 'stdio',
          command: process.execPath,
          args: ['-e', 'console.error("cannot open the database: /nope"); process.exit(3)'],
        },
      },
    });
    expect(broken).toMatchObject({ ok: false, tools: [] });
    expect(broken.message).toMatch(/could not be started/);
    expect(broken.stderr).toContain('cannot open the database');

    const missing = await call<McpServerInfo>('mcp-test-server', {
      config: { kind: 'mcp', transport: { type: 'stdio', command: '/no/such/server' } },
    });
    expect(missing.ok).toBe(false);
    expect(missing.message).toMatch(/could not be started/);

    // An attached server that cannot start: the turn goes on without its tools, and the log says why.
    const id = await launch([
      mcpHand('broken', { type: 'stdio', command: process.execPath, args: ['-e', 'console.error("no config file"); process.exit(1)'] }),
    ]);
    await send(id, 'Hello.');
    expect(events(id, 'hand.failed').map((event) => event.payload.message)).toEqual([
      expect.stringMatching(/could not be started[\s\S]*not offered until it starts/),
    ]);
    expect(events(id, 'session.status_idle').at(-1)?.payload.stop_reason.type).toBe('end_turn');
    expect(
      await refused('hands-attach', { sessionId: id, hand: mcpHand('url', { type: 'http', url: 'https://user:pw@example.com/mcp' }) }),
    ).toMatch(/no credentials in it/);
  }, 60_000);

  it('imports a Claude Desktop config: servers become hands, credential-looking values go to the vault', async () => {
    const file = {
      mcpServers: {
        Memory_Store: {
          command: process.execPath,
          args: [referenceServerEntry('server-memory')],
          env: { MEMORY_FILE_PATH: path.join(dir, 'imported.jsonl'), API_TOKEN: 'import-canary-token-1234' },
        },
        remote: { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer import-canary-bearer-5678', 'X-Team': 'blue' } },
        legacy: { type: 'sse', url: 'https://old.example.com/sse' },
        empty: { note: 'nothing here' },
      },
    };
    const imported = await call<McpImport>('mcp-import-config', { json: JSON.stringify(file) });
    expect(imported.skipped).toEqual([
      { key: 'legacy', reason: expect.stringMatching(/SSE transport/) },
      { key: 'empty', reason: expect.stringMatching(/neither a "command" nor a "url"/) },
    ]);
    const [memory, remote] = imported.servers;
    expect(memory?.name).toBe('memory-store');
    expect(memory?.config.transport).toMatchObject({
      type: 'stdio',
      env: { MEMORY_FILE_PATH: { value: path.join(dir, 'imported.jsonl') }, API_TOKEN: { secret_id: expect.stringMatching(/^sec_/) } },
    });
    expect(memory?.notes.join(' ')).toMatch(/API_TOKEN was stored in the vault as “memory-store API_TOKEN”/);
    expect(remote?.config.transport).toMatchObject({
      type: 'http',
      headers: { 'X-Team': { value: 'blue' } },
      bearer_secret_id: expect.stringMatching(/^sec_/),
    });
    expect(JSON.stringify(imported)).not.toContain('import-canary');
    const secrets = await call<Array<{ name: string }>>('secrets-list');
    expect(secrets.map((secret) => secret.name)).toEqual(expect.arrayContaining(['memory-store API_TOKEN', 'remote Authorization']));

    // The imported server attaches and runs, its token in its environment only.
    const id = await launch([{ name: memory!.name, config: { ...memory!.config, trusted: true } }]);
    script = [() => toolUse('memory-store__read_graph', {}), () => done];
    await send(id, 'Read the graph.');
    expect(events(id, 'agent.mcp_tool_result')[0]?.payload.is_error).toBe(false);

    expect(await refused('mcp-import-config', { json: '{"mcpServers": ' })).toMatch(/not JSON/);
    expect(await refused('mcp-import-config', { json: '{"servers2": {}}' })).toMatch(/no "mcpServers" object/);
  }, 60_000);

  it('sends vault secrets as headers to a Streamable HTTP server, and never to the log, the UI or the model', async () => {
    const auth = await startAuthHttpServer(BEARER_CANARY);
    const everything = await startEverythingHttp();
    try {
      const bearer = await call<{ id: string }>('secrets-create', { name: 'MCP bearer', kind: 'token', value: BEARER_CANARY });
      const header = await call<{ id: string }>('secrets-create', { name: 'MCP header', kind: 'http-header', value: HEADER_CANARY });
      const id = await launch([
        mcpHand('remote', { type: 'http', url: auth.url, headers: { 'X-Api-Key': { secret_id: header.id } }, bearer_secret_id: bearer.id }),
        mcpHand('web', { type: 'http', url: everything.url }),
      ]);
      script = [() => toolUse('remote__whoami', {}), () => toolUse('web__echo', { message: 'over http' }), () => done];
      await send(id, 'Who am I?');

      const results = events(id, 'agent.mcp_tool_result');
      expect(results.map((result) => [result.payload.is_error, JSON.stringify(result.payload.content)])).toEqual([
        [false, expect.stringContaining('ok')],
        [false, expect.stringContaining('over http')],
      ]);
      // It reached the server…
      expect(
        auth.received.some((headers) => headers.authorization === `Bearer ${BEARER_CANARY}` && headers['x-api-key'] === HEADER_CANARY),
      ).toBe(true);
      await call('hands-list', { sessionId: id });
      await call('hands-mcp-info', { sessionId: id, name: 'remote' });
      await call('sessions-events', { sessionId: id });
      // …and nowhere else: not raw, and not even as a redaction marker (nothing tried to carry it).
      const places: Record<string, string | Buffer> = {
        'the data folder (SQLite, WAL, vault file)': folderBytes(dir),
        'log lines': logs.join('\n'),
        'RPC replies and pushes to the UI': wire.join('\n'),
        'requests to the model': model.requests.map((request) => JSON.stringify(request.body)).join('\n'),
      };
      for (const [place, content] of Object.entries(places)) {
        for (const canary of [HEADER_CANARY, BEARER_CANARY]) {
          expect(content.includes(canary), `${canary} in ${place}`).toBe(false);
        }
        expect(content.includes('MCP header” redacted') || content.includes('MCP bearer” redacted'), `a redaction marker in ${place}`).toBe(
          false,
        );
      }
    } finally {
      await auth.close();
      await everything.stop();
    }
  }, 90_000);

  it('a tool use recorded before Drover stopped is answered as interrupted (an MCP result), never run again', async () => {
    const id = await launch([mcpHand('fx', fixtureServer())]);
    store.emitEvents(id, [
      { type: 'user.message', payload: { content: [{ type: 'text', text: 'go' }] } },
      { type: 'session.status_running', payload: {} },
      { type: 'span.model_request_start', payload: { model: 'claude-sonnet-4-5', purpose: 'turn' } },
      {
        type: 'span.model_request_end',
        payload: {
          model: 'claude-sonnet-4-5',
          purpose: 'turn',
          usage: { input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
          stop_reason: 'tool_use',
          is_error: false,
          duration_ms: 1,
        },
      },
      { type: 'agent.mcp_tool_use', payload: { tool_use_id: 'toolu_lost', server_name: 'fx', name: 'fx__crash', input: {} } },
    ]);
    script = [() => done];
    await host.harness.wake(id);
    const [result] = events(id, 'agent.mcp_tool_result');
    expect(result?.payload).toMatchObject({ tool_use_id: 'toolu_lost', is_error: true, status: 'interrupted' });
    expect(events(id, 'hand.lost')).toHaveLength(0); // the crash tool was not run again
  }, 60_000);
});
