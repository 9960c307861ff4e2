// The MCP client against real servers from node_modules (no network): server-filesystem,
// server-everything (stdio and Streamable HTTP) and server-memory, plus the fixture servers of
// test/support/mcp.ts for what the reference servers cannot show: a server that crashes
// mid-call, slow tools (timeout, cancellation), tools added at run time (list_changed), secrets
// from a real vault in the environment and in headers.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '#shared/events';
import { McpHandConfigSchema, type McpTransport } from '#shared/hands';
import type { SecretId } from '#shared/vault';
import { Vault } from '#services/vault/vault';
import { FileKeySource } from '#test/support/file-key-source';
import { fixtureServer, referenceServer, startAuthHttpServer, startEverythingHttp } from '#test/support/mcp';
import { tempDir } from '#test/support/system';
import { McpServerConnection, McpStartError, type McpServerConnectionOptions } from './mcp-client.ts';
import { McpHand } from './mcp-hand.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

let vault: Vault;
let scratch: string;
beforeAll(() => {
  scratch = tempDir('drover-mcp-');
  vault = Vault.open({ dataDir: path.join(scratch, 'data'), keySource: new FileKeySource(path.join(scratch, 'vault.key')) });
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function connect(transport: McpTransport, options: Partial<McpServerConnectionOptions> = {}): McpServerConnection {
  const connection = new McpServerConnection({ name: 'test', transport, secrets: vault, ...options });
  cleanups.push(() => connection.dispose());
  return connection;
}

const never = new AbortController().signal;
const call = { signal: never, timeoutMs: 30_000 };

function textOf(outcome: { content: Array<{ type: string; text?: string }> }): string {
  return outcome.content.map((block) => (block.type === 'text' ? block.text : `<${block.type}>`)).join('\n');
}

describe('server-filesystem over stdio', () => {
  it('lists its tools, reads a file in the allowed folder and refuses one outside it', async () => {
    const allowed = path.join(scratch, 'allowed');
    mkdirSync(allowed, { recursive: true });
    writeFileSync(path.join(allowed, 'hello.txt'), 'hello from drover\n');
    writeFileSync(path.join(scratch, 'outside.txt'), 'secret-ish');
    const connection = connect(referenceServer('server-filesystem', [allowed]));
    expect(connection.state().state).toBe('idle');

    const tools = await connection.listTools(never);
    expect(connection.state().state).toBe('ready');
    const names = tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['read_text_file', 'write_file', 'list_directory']));
    const read = tools.find((tool) => tool.name === 'read_text_file');
    expect(read?.inputSchema.type).toBe('object');
    expect(read?.description).not.toBe('');

    const ok = await connection.callTool('read_text_file', { path: path.join(allowed, 'hello.txt') }, call);
    expect(ok).toMatchObject({ isError: false, status: 'completed' });
    expect(textOf(ok)).toContain('hello from drover');

    const denied = await connection.callTool('read_text_file', { path: path.join(scratch, 'outside.txt') }, call);
    expect(denied.isError).toBe(true);
    expect(denied.status).toBe('completed');
    expect(textOf(denied)).toMatch(/denied|outside allowed/i);
    expect(textOf(denied)).not.toContain('secret-ish');
  });
});

describe('server-everything over stdio', () => {
  it('echoes, adds, returns an image, structured content, resource links and embedded resources', async () => {
    const connection = connect(referenceServer('server-everything'));
    const names = (await connection.listTools(never)).map((tool) => tool.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'echo',
        'get-sum',
        'get-tiny-image',
        'get-structured-content',
        'get-resource-reference',
        'get-resource-links',
      ]),
    );

    expect(textOf(await connection.callTool('echo', { message: 'hi there' }, call))).toContain('hi there');
    expect(textOf(await connection.callTool('get-sum', { a: 2, b: 40 }, call))).toContain('42');

    const image = await connection.callTool('get-tiny-image', {}, call);
    const block = image.content.find((item) => item.type === 'image');
    expect(block).toMatchObject({ type: 'image', source: { type: 'base64', media_type: 'image/png' } });
    if (block?.type === 'image') expect(Buffer.from(block.source.data, 'base64').subarray(1, 4).toString()).toBe('PNG');

    const structured = await connection.callTool('get-structured-content', { location: 'Chicago' }, call);
    expect(structured.isError).toBe(false);
    expect(structured.structuredContent).toMatchObject({
      temperature: expect.any(Number),
      conditions: expect.any(String),
      humidity: expect.any(Number),
    });

    const textResource = await connection.callTool('get-resource-reference', { resourceType: 'Text', resourceId: 2 }, call);
    expect(textOf(textResource)).toMatch(/\[resource demo:\/\/resource\/dynamic\/text\/2/);
    const blobResource = await connection.callTool('get-resource-reference', { resourceType: 'Blob', resourceId: 3 }, call);
    expect(textOf(blobResource)).toMatch(/\[binary resource demo:\/\/resource\/dynamic\/blob\/3 \(.*\d+ bytes\): not shown\]/);

    const links = await connection.callTool('get-resource-links', { count: 2 }, call);
    expect(textOf(links).match(/\[resource link: demo:\/\//g)).toHaveLength(2);

    const unknown = await connection.callTool('no-such-tool', {}, call);
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toMatch(/no-such-tool/);
  });

  it('gives the server only a minimal environment plus the configured values, secrets resolved from the vault', async () => {
    const secret = await vault.create({ name: 'everything env', kind: 'token', value: 'env-secret-value-123' });
    const connection = connect(
      referenceServer('server-everything', [], { PLAIN_VALUE: { value: 'plain' }, API_TOKEN: { secret_id: secret.id as SecretId } }),
    );
    const env = JSON.parse(textOf(await connection.callTool('get-env', {}, call))) as Record<string, string>;
    // The server got the value; the result it echoed it in shows it masked.
    expect(env['API_TOKEN']).toBe('[secret “everything env” redacted]');
    expect(env['PLAIN_VALUE']).toBe('plain');
    expect(env['VITEST']).toBeUndefined();
    expect(
      Object.keys(env).every((key) =>
        ['PATH', 'HOME', 'LANG', 'LOGNAME', 'SHELL', 'TERM', 'USER', 'PLAIN_VALUE', 'API_TOKEN'].includes(key),
      ),
    ).toBe(true);
  });
});

describe('server-everything over Streamable HTTP', () => {
  it('lists and calls tools at http://127.0.0.1:<port>/mcp', async () => {
    const server = await startEverythingHttp();
    cleanups.push(() => server.stop());
    const connection = connect({ type: 'http', url: server.url, headers: {}, bearer_secret_id: null });
    const names = (await connection.listTools(never)).map((tool) => tool.name);
    expect(names).toContain('echo');
    expect(textOf(await connection.callTool('echo', { message: 'over http' }, call))).toContain('over http');
    expect(textOf(await connection.callTool('get-sum', { a: 1, b: 1 }, call))).toContain('2');
  });

  it('says the server cannot be reached when it is down, and reconnects on the next call once it is back', async () => {
    const server = await startEverythingHttp();
    cleanups.push(() => server.stop());
    const connection = connect({ type: 'http', url: server.url, headers: {}, bearer_secret_id: null });
    expect((await connection.callTool('echo', { message: 'one' }, call)).isError).toBe(false);
    await server.stop();
    const lost = await connection.callTool('echo', { message: 'two' }, call);
    expect(lost).toMatchObject({ isError: true, status: 'crashed' });
    expect(textOf(lost)).toMatch(
      /could not reach the MCP server "test" at http:\/\/127\.0\.0\.1:\d+\/mcp \(fetch failed: ECONNREFUSED\): the call did not run/,
    );
    expect(textOf(lost)).not.toMatch(/start(s|ed)? (it|the server)/);
    expect(connection.state().state).toBe('lost');

    const back = await startEverythingHttp(server.port);
    cleanups.push(() => back.stop());
    const again = await connection.callTool('echo', { message: 'three' }, call);
    expect(again).toMatchObject({ isError: false, status: 'completed' });
    expect(textOf(again)).toContain('three');
    expect(connection.state().state).toBe('ready');
  });
});

describe('server-everything over Streamable HTTP, killed or restarted', () => {
  it('fails a call promptly when the server is killed mid-call, saying it went away', async () => {
    const server = await startEverythingHttp();
    cleanups.push(() => server.stop());
    const connection = connect({ type: 'http', url: server.url, headers: {}, bearer_secret_id: null });
    await connection.start(never);
    const pending = connection.callTool(
      'trigger-long-running-operation',
      { duration: 30, steps: 30 },
      { signal: never, timeoutMs: 60_000 },
    );
    // The call is under way on the server (its SSE response is open) when the server dies.
    await expect
      .poll(() => server.output(), { timeout: 5_000 })
      .toMatch(/Received MCP POST request[\s\S]*Received MCP POST request[\s\S]*Received MCP POST request/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const killedAt = Date.now();
    server.child.kill('SIGKILL');
    const outcome = await pending;
    const took = Date.now() - killedAt;
    expect(took).toBeLessThan(5_000);
    expect(outcome).toMatchObject({ isError: true, status: 'crashed' });
    expect(textOf(outcome)).toMatch(/went away during the call/);
    expect(textOf(outcome)).not.toMatch(/start(s|ed)? (it|the server)/);
    expect(connection.state().state).toBe('lost');
    expect(connection.state().detail).not.toMatch(/start(s|ed)? (it|the server)/);
  }, 20_000);

  it('starts a new MCP session and retries once when the server was restarted between calls', async () => {
    const server = await startEverythingHttp();
    cleanups.push(() => server.stop());
    const connection = connect({ type: 'http', url: server.url, headers: {}, bearer_secret_id: null });
    expect((await connection.callTool('echo', { message: 'before' }, call)).isError).toBe(false);
    expect(connection.starts()).toBe(1);
    await server.stop();
    const back = await startEverythingHttp(server.port);
    cleanups.push(() => back.stop());
    const after = await connection.callTool('echo', { message: 'after the restart' }, call);
    expect(after).toMatchObject({ isError: false, status: 'completed' });
    expect(textOf(after)).toContain('after the restart');
    expect(textOf(after)).not.toMatch(/session/i);
    expect(connection.starts()).toBe(2);
    expect(connection.state().state).toBe('ready');

    // The same for listing its tools (the listing is not cached yet: only initialize ran).
    const listing = connect({ type: 'http', url: back.url, headers: {}, bearer_secret_id: null });
    await listing.start(never);
    await back.stop();
    const again = await startEverythingHttp(server.port);
    cleanups.push(() => again.stop());
    expect((await listing.listTools(never)).map((tool) => tool.name)).toContain('echo');
    expect(listing.starts()).toBe(2);
  });
});

describe('a URL server as a hand', () => {
  it('never says Drover starts it: not before, not when it cannot be reached, not when it goes away', async () => {
    const server = await startEverythingHttp();
    cleanups.push(() => server.stop());
    const events: NewEvent[] = [];
    const config = McpHandConfigSchema.parse({ kind: 'mcp', transport: { type: 'http', url: server.url } });
    const hand = new McpHand(
      { sessionId: 's', name: 'remote', config },
      { record: (event) => events.push(event), progress: () => undefined, log: () => undefined },
      vault,
    );
    cleanups.push(() => hand.dispose());
    const said: string[] = [hand.status().detail];
    await hand.provision(never);
    expect((await hand.execute('echo', { message: 'hi' }, { signal: never })).isError).toBe(false);
    server.child.kill('SIGKILL');
    const lost = await hand.execute('echo', { message: 'gone' }, { signal: never });
    expect(lost.isError).toBe(true);
    said.push(hand.status().detail, ...lost.content.map((block) => (block.type === 'text' ? block.text : '')));
    await expect(hand.provision(never)).rejects.toThrow(/could not connect/);
    said.push(hand.status().detail, (await hand.info(never)).message);
    for (const event of events) said.push(JSON.stringify(event.payload));
    expect(events.map((event) => event.type)).toEqual(['hand.ready', 'hand.lost', 'hand.failed']);
    for (const text of said) expect(text).not.toMatch(/\bstart(s|ed|ing)?\b(?! again where it runs)|restart/i);
  });
});

describe('a URL server that keeps failing, worded differently each time', () => {
  it('records one hand.failed for the outage, and a new one only after it was ready again', async () => {
    // First it accepts and drops every connection (a reset), then nothing listens (refused): one outage.
    const dropper = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    const port = (dropper.address() as AddressInfo).port;
    const events: NewEvent[] = [];
    const config = McpHandConfigSchema.parse({ kind: 'mcp', transport: { type: 'http', url: `http://127.0.0.1:${port}/mcp` } });
    const hand = new McpHand(
      { sessionId: 's', name: 'flaky', config },
      { record: (event) => events.push(event), progress: () => undefined, log: () => undefined },
      vault,
    );
    cleanups.push(() => hand.dispose());
    const reset = await hand.info(never);
    await new Promise<void>((resolve) => dropper.close(() => resolve()));
    const refused = await hand.info(never);
    expect(reset.ok || refused.ok).toBe(false);
    expect(reset.message).not.toBe(refused.message);
    expect(events.map((event) => event.type)).toEqual(['hand.failed']);

    // Ready again, then gone again: a second outage is recorded.
    const server = await startEverythingHttp(port);
    cleanups.push(() => server.stop());
    expect((await hand.info(never)).ok).toBe(true);
    await server.stop();
    expect((await hand.info(never)).ok).toBe(true); // its tools are listed already; a call finds it gone
    const lost = await hand.execute('echo', { message: 'gone' }, { signal: never });
    expect(lost.isError).toBe(true);
    await expect(hand.provision(never)).rejects.toThrow(/could not connect/);
    expect(events.map((event) => event.type)).toEqual(['hand.failed', 'hand.ready', 'hand.lost', 'hand.failed']);
  });
});

describe('a Streamable HTTP server that requires a bearer token', () => {
  it('receives the bearer token and the headers from the vault', async () => {
    const token = 'bearer-token-from-the-vault';
    const server = await startAuthHttpServer(token);
    cleanups.push(() => server.close());
    const bearer = await vault.create({ name: 'auth fixture bearer', kind: 'token', value: token });
    const header = await vault.create({ name: 'auth fixture header', kind: 'http-header', value: 'header-secret' });
    const connection = connect({
      type: 'http',
      url: server.url,
      headers: { 'X-Api-Key': { secret_id: header.id as SecretId }, 'X-Plain': { value: 'plain' } },
      bearer_secret_id: bearer.id as SecretId,
    });
    const outcome = await connection.callTool('whoami', {}, call);
    expect(outcome).toMatchObject({ isError: false, status: 'completed', content: [{ type: 'text', text: 'ok' }] });
    expect(server.received.length).toBeGreaterThan(0);
    for (const headers of server.received) {
      expect(headers.authorization).toBe(`Bearer ${token}`);
      expect(headers['x-api-key']).toBe('header-secret');
      expect(headers['x-plain']).toBe('plain');
    }
  });

  it('fails to start, with a message, without the right token', async () => {
    const server = await startAuthHttpServer('the-right-token');
    cleanups.push(() => server.close());
    const connection = connect({ type: 'http', url: server.url, headers: {}, bearer_secret_id: null });
    await expect(connection.start(never)).rejects.toBeInstanceOf(McpStartError);
    expect(connection.state().state).toBe('failed');
    expect(connection.state().detail).toMatch(/Check that it is running at that URL and that its headers or token are right/);
    const outcome = await connection.callTool('whoami', {}, call);
    expect(outcome).toMatchObject({ isError: true });
    // Drover only connects to a URL server: no message may say it starts one.
    expect(textOf(outcome)).toMatch(/could not connect to the MCP server "test" at http/);
    expect(textOf(outcome)).not.toMatch(/start/);
  });
});

describe('server-memory over stdio', () => {
  it('creates entities, then reads them back from the graph', async () => {
    const memoryFile = path.join(scratch, 'memory.jsonl');
    const connection = connect(referenceServer('server-memory', [], { MEMORY_FILE_PATH: { value: memoryFile } }));
    const created = await connection.callTool(
      'create_entities',
      {
        entities: [
          { name: 'Drover', entityType: 'app', observations: ['runs agents on hands'] },
          { name: 'Vault', entityType: 'component', observations: [] },
        ],
      },
      call,
    );
    expect(created.isError).toBe(false);
    const graph = await connection.callTool('read_graph', {}, call);
    expect(graph.isError).toBe(false);
    expect(textOf(graph)).toContain('runs agents on hands');
    expect(textOf(graph)).toContain('Vault');
    expect(readFileSync(memoryFile, 'utf8')).toContain('Drover');
  });
});

describe('the fixture server', () => {
  it('refreshes its tool list when the server says it changed', async () => {
    const changes: string[][] = [];
    const connection = connect(fixtureServer(), { onToolsChanged: (tools) => changes.push(tools.map((tool) => tool.name)) });
    expect((await connection.listTools(never)).map((tool) => tool.name)).not.toContain('late');
    await connection.callTool('add-tool', {}, call);
    await expect.poll(() => changes.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(changes.at(-1)).toContain('late');
    expect((await connection.listTools(never)).map((tool) => tool.name)).toContain('late');
    expect(textOf(await connection.callTool('late', {}, call))).toBe('late');
  });

  it('answers a crash mid-call with an error and its stderr, then restarts on the next call', async () => {
    const connection = connect(fixtureServer());
    expect((await connection.callTool('sleep', { ms: 1 }, call)).isError).toBe(false);
    const crashed = await connection.callTool('crash', {}, call);
    expect(crashed).toMatchObject({ isError: true, status: 'crashed' });
    expect(textOf(crashed)).toMatch(/exited during the call/);
    expect(textOf(crashed)).toContain('fixture: about to crash (boom)');
    expect(connection.state().state).toBe('lost');
    expect(connection.stderrTail()).toContain('about to crash');

    const again = await connection.callTool('sleep', { ms: 1 }, call);
    expect(again).toMatchObject({ isError: false, status: 'completed', content: [{ type: 'text', text: 'slept 1 ms' }] });
    expect(connection.state().state).toBe('ready');
  });

  it('times a slow call out and cancels it on the server', async () => {
    const connection = connect(fixtureServer());
    await connection.start(never);
    const started = Date.now();
    const outcome = await connection.callTool('sleep', { ms: 20_000 }, { signal: never, timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(outcome).toMatchObject({ isError: true, status: 'timed_out' });
    expect(textOf(outcome)).toMatch(/did not finish within 1 s/);
    await expect.poll(async () => textOf(await connection.callTool('cancelled', {}, call)), { timeout: 5_000 }).toBe('1');
    expect(connection.state().state).toBe('ready');
  });

  it('lets one caller stop waiting for a start without stopping it for the others', async () => {
    const connection = connect(fixtureServer());
    const controller = new AbortController();
    const first = connection.callTool('sleep', { ms: 1 }, { signal: controller.signal, timeoutMs: 30_000 });
    const second = connection.callTool('sleep', { ms: 1 }, call);
    controller.abort();
    expect(await first).toMatchObject({ isError: true, status: 'interrupted' });
    expect(await second).toMatchObject({ isError: false, status: 'completed' });
  });

  it('stops a call when interrupted, and tells the server to cancel it', async () => {
    const connection = connect(fixtureServer());
    await connection.start(never);
    const controller = new AbortController();
    const pending = connection.callTool('sleep', { ms: 20_000 }, { signal: controller.signal, timeoutMs: 60_000 });
    setTimeout(() => controller.abort(), 300);
    const outcome = await pending;
    expect(outcome).toMatchObject({ isError: true, status: 'interrupted' });
    await expect.poll(async () => textOf(await connection.callTool('cancelled', {}, call)), { timeout: 5_000 }).toBe('1');
    const already = await connection.callTool('sleep', { ms: 1 }, { signal: controller.signal, timeoutMs: 1_000 });
    expect(already).toMatchObject({ isError: true, status: 'interrupted' });
  });

  it('gives the server its secret, and masks it in the results and stderr it shows', async () => {
    const secret = await vault.create({ name: 'fixture env', kind: 'token', value: 'fixture-secret-456' });
    const connection = connect(fixtureServer({ FIXTURE_SECRET: { secret_id: secret.id as SecretId } }));
    const outcome = await connection.callTool('env', { name: 'FIXTURE_SECRET' }, call);
    // The server saw the real value (it reports it and its length), the result shows it masked.
    expect(JSON.parse(textOf(outcome))).toMatchObject({ value: '[secret “fixture env” redacted]', length: 'fixture-secret-456'.length });
    expect(textOf(outcome)).not.toContain('fixture-secret-456');
    await expect.poll(() => connection.stderrTail(), { timeout: 5_000 }).toContain('FIXTURE_SECRET=[secret “fixture env” redacted]');
    expect(connection.stderrTail()).not.toContain('fixture-secret-456');
  });

  it('fails to start with a message when the command does not exist, and tries again next time', async () => {
    const connection = connect({ type: 'stdio', command: path.join(scratch, 'no-such-server'), args: [], cwd: null, env: {} });
    const outcome = await connection.callTool('anything', {}, call);
    expect(outcome).toMatchObject({ isError: true, status: 'crashed' });
    expect(textOf(outcome)).toMatch(/could not be started/);
    expect(connection.state().state).toBe('failed');
    await expect(connection.start(never)).rejects.toBeInstanceOf(McpStartError);
  });
});
