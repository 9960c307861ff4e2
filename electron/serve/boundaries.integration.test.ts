// The new trust boundaries of issues 21 and 23 over the real serve server, in a child process without
// the process guard (fuzz-child.ts: an error escaping the server ends that process): terminal RPCs on a
// real Docker hand with huge, binary and invalid input, resizes of 0 / negative / huge / fractional sizes,
// acknowledgements out of range, a close twice and unknown ids; search with odd queries; rosters and
// thread reads with deep, huge and cyclic-looking input; a damaged hand library. Every call gets an
// answer (a result or an error in words), the process lives, and the terminal still works afterwards.
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceIdOf } from '#services/hands/docker/engine';
import { BASH_IMAGE, removeInstanceObjects, requireDocker } from '#test/support/docker';
import { ServerChild } from '#test/support/server-child';
import { tempDir } from '#test/support/system';

const dockerReady = await requireDocker();

let dir: string;
let dataDir: string;
let child: ServerChild;
let port: number;
let token: string;

interface Reply {
  id: number;
  result?: unknown;
  error?: { code: string; message: string };
}

/** One UI connection over the WebSocket RPC: calls in order, replies by id, terminal output kept. */
interface Connection {
  call(name: string, arg?: unknown): Promise<Reply>;
  /** Calls with `argJson` as the argument's JSON text (input too deep for JSON.stringify). */
  callText(name: string, argJson: string): Promise<Reply>;
  /** Sends a raw frame (not a well-formed request). */
  raw(data: string | Buffer): void;
  output: () => string;
  closed: () => Promise<number>;
  close(): void;
}

async function connect(): Promise<Connection> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/rpc?token=${token}`, { origin: `http://127.0.0.1:${port}` });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let next = 1;
  let output = '';
  const waiting = new Map<number, (reply: Reply) => void>();
  ws.on('message', (data: WebSocket.RawData) => {
    const message = JSON.parse(data.toString()) as Reply & { push?: string; arg?: { terminalId?: string; data?: string } };
    if (message.push === 'terminal-output') {
      // Acknowledged as drawn, as the UI does (unacknowledged output past 512 KiB pauses the terminal).
      const data = message.arg?.data ?? '';
      output += data;
      if (data.length > 0)
        void callText('terminal-ack', JSON.stringify({ terminalId: message.arg?.terminalId, chars: data.length })).catch(() => undefined);
    } else if (typeof message.id === 'number') waiting.get(message.id)?.(message);
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  const callText = (name: string, argJson: string | undefined): Promise<Reply> =>
    new Promise<Reply>((resolve, reject) => {
      const id = next++;
      waiting.set(id, resolve);
      const frame = `{"id":${id},"name":${JSON.stringify(name)}${argJson === undefined ? '' : `,"arg":${argJson}`}}`;
      ws.send(frame, (error) => error && reject(error));
      void closed.then((code) => reject(new Error(`the connection closed (${code}) before ${name} was answered`)));
    });
  return {
    call: (name, arg) => callText(name, arg === undefined ? undefined : JSON.stringify(arg)),
    callText,
    raw: (data) => ws.send(data),
    output: () => output,
    closed: () => closed,
    close: () => ws.close(),
  };
}

/** The call was refused with a message in words (not a crash, not a result). */
async function refused(ui: Connection, name: string, arg: unknown): Promise<string> {
  const text = typeof arg === 'string' && arg.startsWith('{') ? arg : JSON.stringify(arg);
  const reply = await ui.callText(name, text);
  if (!reply.error) throw new Error(`${name} ${text.slice(0, 200)} was not refused: ${JSON.stringify(reply.result)}`);
  expect(reply.error.message.length).toBeGreaterThan(5);
  child.alive(0);
  return reply.error.message;
}

/** `[[[…]]]` nested `depth` deep, as JSON text (built as text: an object this deep cannot be stringified). */
const deepJson = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

beforeAll(async () => {
  dir = tempDir('drover-serve-boundaries-');
  dataDir = path.join(dir, 'data');
  const staticDir = path.join(dir, 'ui');
  child = new ServerChild(path.join(import.meta.dirname, 'fuzz-child.ts'), [dataDir, staticDir], 'the serve process');
  const [, portText = '', tokenText = ''] = (await child.nextLine()).split(' ');
  port = Number(portText);
  token = tokenText;
}, 60_000);

afterAll(async () => {
  await child?.stop();
  if (dockerReady && dataDir) removeInstanceObjects(instanceIdOf(dataDir));
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.runIf(dockerReady)('terminal RPCs from outside cannot kill the serve process', () => {
  it('refuses huge, binary-looking and invalid input, bad sizes, a second close and unknown ids; the terminal still works', async () => {
    const ui = await connect();
    const launched = await ui.call('sessions-launch', {
      title: 'boundaries',
      hands: [{ name: 'box', config: { kind: 'docker', image: BASH_IMAGE, network: 'none' } }],
    });
    const sessionId = (launched.result as { id: string }).id;
    expect(sessionId).toBeTruthy();
    const opened = await ui.call('terminal-open', { sessionId, hand: 'box', cols: 80, rows: 24 });
    const terminalId = (opened.result as { terminalId: string }).terminalId;
    expect(terminalId, JSON.stringify(opened)).toMatch(/^term_[0-9a-f]{16}$/);

    // Input: too large, of the wrong type, nested deep; control bytes and lone surrogates are typed as they are.
    expect(await refused(ui, 'terminal-input', { terminalId, data: 'x'.repeat(64 * 1024 + 1) })).toMatch(/at most/);
    expect(await refused(ui, 'terminal-input', { terminalId, data: '' })).toMatch(/empty/);
    for (const data of [42, null, ['a'], { a: 1 }, true]) await refused(ui, 'terminal-input', { terminalId, data });
    const deep = await ui.callText('terminal-input', `{"terminalId":"${terminalId}","data":${deepJson(5_000)}}`);
    expect(deep.error?.message).toBeTruthy();
    for (const data of ['\u0000\u0001\u0002\u00ff\u001b[999999;999999H', '\ud800\udfff\ud800', '\u0003', '\u{1F600}'.repeat(50)]) {
      const typed = await ui.call('terminal-input', { terminalId, data });
      expect(typed.error, JSON.stringify(typed.error)).toBeUndefined();
    }

    // Sizes: zero, negative, fractional, huge, not numbers.
    for (const [cols, rows] of [
      [0, 24],
      [80, 0],
      [-1, 24],
      [80, -5],
      [2.5, 24],
      [1e9, 24],
      [80, 1e9],
      [Number.MAX_SAFE_INTEGER + 2, 1],
      ['80', 24],
      [null, null],
    ])
      await refused(ui, 'terminal-resize', { terminalId, cols, rows });
    // Acknowledgements out of range.
    for (const chars of [0, -1, 1.5, 1e300, 'all', null]) await refused(ui, 'terminal-ack', { terminalId, chars });
    expect((await ui.call('terminal-ack', { terminalId, chars: 1_000_000_000 })).error).toBeUndefined();

    // Unknown and malformed ids.
    for (const name of ['terminal-input', 'terminal-resize', 'terminal-ack', 'terminal-close']) {
      const arg = { terminalId: 'term_0000000000000000', data: 'x', cols: 80, rows: 24, chars: 1 };
      const wanted = Object.fromEntries(
        Object.entries(arg).filter(([key]) =>
          name === 'terminal-input'
            ? ['terminalId', 'data'].includes(key)
            : name === 'terminal-resize'
              ? ['terminalId', 'cols', 'rows'].includes(key)
              : name === 'terminal-ack'
                ? ['terminalId', 'chars'].includes(key)
                : key === 'terminalId',
        ),
      );
      expect(await refused(ui, name, wanted)).toMatch(/terminal/i);
      for (const terminal of ['', 'term_', '../../etc/passwd', 'term_ZZZZZZZZZZZZZZZZ', 'x'.repeat(100_000), 7])
        await refused(ui, name, { ...wanted, terminalId: terminal });
    }
    await refused(ui, 'terminal-open', { sessionId, hand: 'box', cols: 0, rows: 24 });
    await refused(ui, 'terminal-open', { sessionId, hand: 'x'.repeat(100_000), cols: 80, rows: 24 });
    await refused(ui, 'terminal-open', { sessionId: 'not-a-session', hand: 'box', cols: 80, rows: 24 });

    // After all that, the terminal answers, and a valid resize reaches its TTY.
    expect((await ui.call('terminal-resize', { terminalId, cols: 100, rows: 30 })).error).toBeUndefined();
    // (What was typed may have left readline asking "Display all … possibilities? (y or n)": answer it, then interrupt.)
    expect((await ui.call('terminal-input', { terminalId, data: 'n\u0003' })).error).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await ui.call('terminal-input', { terminalId, data: '\u0003' })).error).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await ui.call('terminal-input', { terminalId, data: 'stty size; echo still-$((40+2))\n' })).error).toBeUndefined();
    const deadline = Date.now() + 20_000;
    while (!/30 100\r\nstill-42/.test(ui.output()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ui.output().slice(-2000)).toMatch(/30 100\r\nstill-42/);

    // Closing twice: the second close is refused in words.
    expect((await ui.call('terminal-close', { terminalId })).error).toBeUndefined();
    expect(await refused(ui, 'terminal-close', { terminalId })).toMatch(/terminal/i);
    expect(await refused(ui, 'terminal-input', { terminalId, data: 'after close\n' })).toMatch(/terminal/i);
    child.alive(0);

    expect((await ui.call('sessions-delete', { sessionId })).error).toBeUndefined();
    ui.close();
  }, 120_000);
});

describe('search, rosters, threads and the hand library from outside cannot kill the serve process', () => {
  it('answers odd queries and deep, huge or cyclic-looking input with an error or a result, never a crash', async () => {
    const ui = await connect();
    const created = await ui.call('sessions-create', { title: 'threads boundaries' });
    const sessionId = (created.result as { id: string }).id;
    expect(sessionId, JSON.stringify(created)).toBeTruthy();

    // Search: FTS syntax, quotes, operators, control characters, very long, emoji, lone surrogates.
    for (const query of [
      '"',
      '""""',
      'AND',
      'OR OR OR',
      'NOT',
      '*',
      'a*b*',
      'NEAR(a b, -1)',
      '(((((',
      '))))',
      '{col}:x',
      'session_id:1',
      '^',
      '-',
      '\u0000',
      '\ud800',
      '\u{1F600}'.repeat(50),
      '%_%',
      "'; DROP TABLE events; --",
      'x'.repeat(1_000),
    ]) {
      const reply = await ui.call('search', { query });
      expect(reply.result !== undefined || (reply.error?.message.length ?? 0) > 5, `${query}: ${JSON.stringify(reply)}`).toBe(true);
      child.alive(0);
    }
    await refused(ui, 'search', { query: 'x'.repeat(1_000_000) });
    await refused(ui, 'search', `{"query":${deepJson(10_000)}}`);
    await refused(ui, 'search', { query: 'a', types: Array.from({ length: 100_000 }, () => 'user.message') });

    // Rosters: deep, huge, duplicate names, cyclic-looking references, prototype keys.
    const agent = { name: 'tester', model: 'claude-sonnet-4-6' };
    await refused(ui, 'sessions-set-roster', `{"sessionId":"${sessionId}","roster":{"agents":${deepJson(10_000)},"self_copies":false}}`);
    await refused(ui, 'sessions-set-roster', {
      sessionId,
      roster: { agents: Array.from({ length: 100_000 }, () => agent), self_copies: false },
    });
    await refused(ui, 'sessions-set-roster', { sessionId, roster: { agents: [agent, agent], self_copies: false } });
    await refused(ui, 'sessions-set-roster', { sessionId, roster: { agents: [{ ...agent, $ref: '#/roster' }], self_copies: false } });
    await refused(
      ui,
      'sessions-set-roster',
      `{"sessionId":"${sessionId}","roster":{"agents":[{"name":"a","__proto__":{"polluted":true}}],"self_copies":false}}`,
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    await refused(ui, 'sessions-set-roster', {
      sessionId,
      roster: { agents: [{ ...agent, tools: ['x'.repeat(1_000_000)] }], self_copies: false },
    });
    await refused(ui, 'sessions-set-roster', { sessionId: 'no', roster: { agents: [], self_copies: false } });

    // Thread reads of odd sessions and positions.
    for (const arg of [
      { sessionId },
      { sessionId, afterSeq: -1 },
      { sessionId, afterSeq: 1e300 },
      { sessionId, afterSeq: 0.5 },
      { sessionId: '00000000-0000-4000-8000-000000000000' },
      { sessionId: 'x'.repeat(100_000) },
    ]) {
      const reply = await ui.call('sessions-threads', arg);
      expect(reply.result !== undefined || (reply.error?.message.length ?? 0) > 5, JSON.stringify(reply)).toBe(true);
      child.alive(0);
    }
    await refused(ui, 'sessions-interrupt', { sessionId, sessionThreadId: 'x'.repeat(100_000) });

    // The hand library: deep and huge input refused; a damaged file reported, not fatal.
    await refused(ui, 'hand-library-save', `{"label":"x","hand":${deepJson(10_000)}}`);
    await refused(ui, 'hand-library-save', { label: 'x'.repeat(1_000_000), hand: { kind: 'docker', image: BASH_IMAGE } });
    for (const damaged of [
      '{',
      '[]',
      'null',
      '{"entries":' + deepJson(10_000) + '}',
      '\u0000\u0001',
      '{"version":1,"entries":[{"id":"x"}]}',
    ]) {
      writeFileSync(path.join(dataDir, 'hand-library.json'), damaged, { mode: 0o600 });
      const listed = await ui.call('hand-library-list');
      expect(listed.result !== undefined || (listed.error?.message.length ?? 0) > 5, JSON.stringify(listed)).toBe(true);
      await refused(ui, 'hand-library-save', { label: 'box', hand: { kind: 'docker', image: BASH_IMAGE } });
      child.alive(0);
    }
    rmSync(path.join(dataDir, 'hand-library.json'), { force: true });

    // Frames that are not requests close this connection only; the process serves the next one.
    ui.raw(deepJson(100_000));
    expect(await ui.closed()).toBe(1007);
    child.alive(0);
    const next = await connect();
    expect(Array.isArray((await next.call('sessions-list')).result)).toBe(true);
    next.close();
  }, 120_000);
});
