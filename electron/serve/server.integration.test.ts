// Serve mode for real: an HTTP + WebSocket server on 127.0.0.1, real clients, a real store.
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHost, type Host } from '#rpc/host';
import { SessionStore } from '#services/session/store';
import { closedWithin, closeFrameOf, frame, rawExchange, rawWebSocket, upgradeRequest } from '#test/support/raw-http';
import { tempDir } from '#test/support/system';
import { AppError } from '#shared/errors';
import { startServe, type RunningServer } from './server.ts';
import { loadOrCreateToken, TOKEN_FILE } from './token.ts';

let dir: string;
let store: SessionStore;
let server: RunningServer;
let host: Host;
let token: string;
const refused: string[] = [];

beforeEach(async () => {
  dir = tempDir('drover-serve-');
  const staticDir = path.join(dir, 'ui');
  mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Drover</title>');
  writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'secret.txt'), 'not for the web');
  store = SessionStore.open({ dataDir: path.join(dir, 'data') });
  token = loadOrCreateToken(path.join(dir, 'data'));
  let push: RunningServer['push'] = () => undefined;
  host = createHost({
    store,
    info: { version: 't', dataDir: dir, platform: 'linux' },
    push: (message) => push(message),
    keyProvider: () => null,
    log: () => undefined,
  });
  server = await startServe({ host: '127.0.0.1', port: 0, token, staticDir, dispatch: host.dispatch, log: (line) => refused.push(line) });
  push = server.push;
});

afterEach(async () => {
  await host.close();
  await server.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  refused.length = 0;
});

function wsUrl(withToken: string | null): string {
  const url = new URL('/rpc', server.origin.replace('http:', 'ws:'));
  if (withToken !== null) url.searchParams.set('token', withToken);
  return url.href;
}

/** Opens a socket; resolves with it when open, or with the HTTP status that refused it. */
function open(url: string, origin: string | undefined): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
}

function nextMessage(ws: WebSocket, match: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      if (match(message)) {
        ws.off('message', onMessage);
        resolve(message);
      }
    };
    ws.on('message', onMessage);
  });
}

describe('serve mode', () => {
  it('prints a ready-to-open URL on 127.0.0.1 carrying the token', () => {
    expect(server.url).toBe(`${server.origin}/?token=${encodeURIComponent(token)}`);
    expect(new URL(server.origin).hostname).toBe('127.0.0.1');
  });

  it('serves the UI with a strict CSP, and nothing outside the UI folder', async () => {
    const index = await fetch(`${server.origin}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await index.text()).toContain('<title>Drover</title>');
    expect((await fetch(`${server.origin}/assets/app.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${server.origin}/..%2Fsecret.txt`)).status).toBe(404);
    expect((await fetch(`${server.origin}/%2e%2e/secret.txt`)).status).toBe(404);
  });

  it('refuses a missing or wrong token, and a foreign or missing Origin', async () => {
    expect(await open(wsUrl(null), server.origin)).toBe(401);
    expect(await open(wsUrl('x'.repeat(token.length)), server.origin)).toBe(401);
    expect(await open(wsUrl(token), 'http://evil.example')).toBe(403);
    expect(await open(wsUrl(token), `http://127.0.0.1.evil.example:${new URL(server.origin).port}`)).toBe(403);
    expect(await open(wsUrl(token), undefined)).toBe(403);
    expect(refused).toHaveLength(5);
    expect(refused.join('\n')).not.toContain(token);
  });

  it('answers RPC calls and pushes changes to connected pages', async () => {
    const ws = await open(wsUrl(token), server.origin);
    if (typeof ws === 'number') throw new Error(`refused with ${ws}`);
    const changed = nextMessage(ws, (m) => m['push'] === 'sessions-changed');
    ws.send(JSON.stringify({ id: 1, name: 'sessions-create', arg: { title: 'Over the wire' } }));
    const reply = await nextMessage(ws, (m) => m['id'] === 1);
    const created = reply['result'] as { id: string; title: string };
    expect(created.title).toBe('Over the wire');
    expect((await changed)['arg']).toEqual({ sessionId: created.id });

    const pushed = nextMessage(ws, (m) => m['push'] === 'session-event');
    store.emitEvent(created.id, { type: 'user.message', payload: { content: [{ type: 'text', text: 'hello' }] } });
    expect(((await pushed)['arg'] as { event: { seq: number } }).event.seq).toBe(1);

    ws.send(JSON.stringify({ id: 2, name: 'sessions-get', arg: { sessionId: 'nope' } }));
    expect((await nextMessage(ws, (m) => m['id'] === 2))['error']).toMatchObject({ code: 'invalid-argument' });

    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('not json');
    expect(await closed).toBe(1007);
  });
});

describe('serve mode under malformed input', () => {
  const port = () => Number(new URL(server.origin).port);
  const hostHeader = () => `Host: 127.0.0.1:${port()}`;

  /** A valid call still answers: the server is alive and serving. */
  async function stillServes(): Promise<void> {
    expect((await fetch(`${server.origin}/`)).status).toBe(200);
    const ws = await open(wsUrl(token), server.origin);
    if (typeof ws === 'number') throw new Error(`refused with ${ws}`);
    ws.send(JSON.stringify({ id: 7, name: 'sessions-list' }));
    expect((await nextMessage(ws, (m) => m['id'] === 7))['result']).toBeDefined();
    ws.close();
  }

  it('answers 400 to paths that do not decode or parse, and keeps serving', async () => {
    for (const target of ['/%', '/%E0%A4%A', '/%ZZ', '//[', '/assets/%C0%AF']) {
      const outcome = await rawExchange(port(), `GET ${target} HTTP/1.1\r\n${hostHeader()}\r\n\r\n`);
      expect(outcome.status, target).toBe(400);
    }
    const upgrade = await rawExchange(port(), upgradeRequest(`//[?token=${token}`, { Host: `127.0.0.1:${port()}`, Origin: server.origin }));
    expect(upgrade.status).toBe(400);
    expect(refused.join('\n')).not.toContain(token);
    await stillServes();
  });

  it('closes one connection on a WebSocket protocol error and keeps serving', async () => {
    const headers = { Host: `127.0.0.1:${port()}`, Origin: server.origin };
    const path = `/rpc?token=${token}`;
    const bad: Array<[string, Buffer, number]> = [
      ['a frame over the size limit', frame({ opcode: 0x2, claimedLength: 2n ** 40n }), 1009],
      ['a text frame with invalid UTF-8', frame({ opcode: 0x1, payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }), 1007],
      ['an unmasked frame', frame({ opcode: 0x1, payload: Buffer.from('{}'), mask: false }), 1002],
      ['a reserved opcode', frame({ opcode: 0x3, payload: Buffer.from('x') }), 1002],
      ['RSV1 set', frame({ opcode: 0x1, rsv: 0b100, payload: Buffer.from('{}') }), 1002],
      ['a fragmented ping', frame({ opcode: 0x9, fin: false }), 1002],
      ['a close frame with a bad code', frame({ opcode: 0x8, payload: Buffer.from([0x03, 0xe7]) }), 1002],
    ];
    for (const [what, bytes, code] of bad) {
      const socket = await rawWebSocket(port(), path, headers);
      const ended = closedWithin(socket);
      socket.write(bytes);
      const { closed, bytes: answer } = await ended;
      expect(closed, what).toBe(true);
      expect(closeFrameOf(answer)?.code, what).toBe(code);
    }
    await stillServes();
  });

  it('cuts a long close reason by UTF-8 bytes, not characters', async () => {
    const ws = await open(wsUrl(token), server.origin);
    if (typeof ws === 'number') throw new Error(`refused with ${ws}`);
    const closed = new Promise<[number, Buffer]>((resolve) => ws.once('close', (code, reason) => resolve([code, reason])));
    ws.send(JSON.stringify({ id: 1, name: 'sessions-list', ['é'.repeat(80)]: 1 }));
    const [code, reason] = await closed;
    expect(code).toBe(1007);
    expect(reason.length).toBeLessThanOrEqual(123);
    expect(reason.toString('utf8')).toMatch(/^malformed request.*\.\.\.$/);
    expect(reason.toString('utf8')).not.toContain('\ufffd');
    await stillServes();
  });
});

describe('serve token', () => {
  it('is random, stored readable by the user only, and reused', () => {
    const data = path.join(dir, 'other');
    mkdirSync(data);
    const first = loadOrCreateToken(data);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(path.join(data, TOKEN_FILE)).mode & 0o777).toBe(0o600);
    expect(loadOrCreateToken(data)).toBe(first);
    expect(loadOrCreateToken(data, 'my-own-token-123456')).toBe('my-own-token-123456');
    expect(() => loadOrCreateToken(data, 'short')).toThrow(AppError);
  });
});
