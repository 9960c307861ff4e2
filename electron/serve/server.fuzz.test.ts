// Fuzzing the real serve server: over 10,000 malformed HTTP requests and 1,000 bad WebSocket
// frames after a valid, authenticated upgrade. The server runs in a child process without the
// process guard (fuzz-child.ts), so an error escaping it ends that process: "alive"
// means the process did not exit, and a valid request still succeeds, every 250 cases and at the end.
// Seeded: DROVER_FUZZ_SEED=<n> replays a run; the seed is printed when a case fails.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedWithin, frame, rawExchange, rawWebSocket, type FrameOptions } from '#test/support/raw-http';
import { prng } from '#test/support/prng';
import { runCases, ServerChild } from '#test/support/server-child';
import { tempDir } from '#test/support/system';

const SEED = Number(process.env['DROVER_FUZZ_SEED'] ?? Date.now() % 1_000_000);
const HTTP_CASES = 10_000;
const WS_CASES = 1_000;
const PARALLEL = 16;
/** RSS may grow this much over the whole run (buffers, JIT); a leak per request would pass it. */
const RSS_GROWTH_LIMIT = 64 * 1024 * 1024;

let dir: string;
let child: ServerChild;
let port: number;
let token: string;

beforeAll(async () => {
  dir = tempDir('drover-serve-fuzz-');
  const staticDir = path.join(dir, 'ui');
  mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Drover</title>');
  writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  child = new ServerChild(path.join(import.meta.dirname, 'fuzz-child.ts'), [path.join(dir, 'data'), staticDir], 'the serve process');
  const [, portText = '', tokenText = ''] = (await child.nextLine()).split(' ');
  port = Number(portText);
  token = tokenText;
});

afterAll(async () => {
  await child.stop();
  rmSync(dir, { recursive: true, force: true });
});

const alive = () => child.alive(SEED);

/** A valid page request and a valid RPC call both succeed. */
async function stillServes(): Promise<void> {
  alive();
  const page = await fetch(`http://127.0.0.1:${port}/`);
  expect(page.status).toBe(200);
  await page.arrayBuffer();
  const ws = new WebSocket(`ws://127.0.0.1:${port}/rpc?token=${token}`, { origin: `http://127.0.0.1:${port}` });
  const reply = await new Promise<Record<string, unknown>>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ id: 1, name: 'sessions-list' })));
    ws.once('message', (data: WebSocket.RawData) => resolve(JSON.parse(data.toString()) as Record<string, unknown>));
  });
  ws.close();
  expect(reply['id']).toBe(1);
  expect(Array.isArray(reply['result'])).toBe(true);
}

function generators(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const host = () => `Host: 127.0.0.1:${port}`;
  const badPercents = ['%', '%Z', '%ZZ', '%E0%A4%A', '%C0%AF', '%FF', '%ED%A0%80', '%F4%90%80%80', '%00', '%2', '%%', '%E2%82', '%C3%28'];
  const pathPieces = [
    '/',
    '//',
    '[',
    ']',
    '..',
    '.',
    '%2e%2e',
    '\\',
    '?',
    '#',
    '@',
    ':',
    'é',
    '\u{1F600}',
    'assets',
    'index.html',
    'rpc',
    ...badPercents,
  ];
  const badPath = () => {
    const kind = int(5);
    if (kind === 0) return pick(['/%', '/%E0%A4%A', '/%ZZ', '//[', '//[::1', '//]', 'http://[', '*', '//%', '//a:b@[']);
    if (kind === 1) return `/${Array.from({ length: 1 + int(8) }, () => pick(pathPieces)).join('')}`;
    if (kind === 2) return `/${'a/'.repeat(int(3000))}${pick(badPercents)}`;
    if (kind === 3)
      return `/${bytes(1 + int(40))
        .toString('latin1')
        .replace(/[\r\n ]/g, '%')}`;
    return `${pick(['', '/', '//', 'http://127.0.0.1/', 'ws://x/'])}${pick(badPercents)}${pick(pathPieces)}`;
  };
  const methods = [
    'GET',
    'HEAD',
    'POST',
    'PUT',
    'DELETE',
    'OPTIONS',
    'PATCH',
    'TRACE',
    'CONNECT',
    'get',
    'G ET',
    'FOO',
    'GET\u0000',
    '',
    'M-SEARCH',
    'PRI',
    'ÄÖÜ',
  ];
  const request = (method: string, target: string, headers: string[], body = ''): string =>
    `${method} ${target} HTTP/1.1\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${body}`;
  const httpCase = (): Buffer | string => {
    switch (int(10)) {
      case 0:
      case 1:
        return request('GET', badPath(), [host()]);
      case 2:
        return request(pick(methods), pick(['/', badPath(), '/assets/app.js']), [host()]);
      case 3: {
        // Huge headers: one big value, or very many.
        const headers =
          random() < 0.5
            ? [host(), `X-Big: ${'a'.repeat(17_000 + int(60_000))}`]
            : [host(), ...Array.from({ length: 200 + int(2000) }, (_, i) => `X-${i}: ${'v'.repeat(int(40))}`)];
        return request('GET', '/', headers);
      }
      case 4:
        return bytes(1 + int(4096));
      case 5: {
        // Truncated: a valid request cut anywhere.
        const whole = request('GET', pick(['/', '/assets/app.js', badPath()]), [host(), 'Accept: */*', 'User-Agent: fuzz']);
        return whole.slice(0, int(whole.length));
      }
      case 6:
        return `GET / ${pick(['HTTP/9.9', 'HTTP/1', 'HTTP/1.1 extra', 'HTTTP/1.1', '', 'HTTP/0.9'])}\r\n${host()}\r\n\r\n`;
      case 7:
        return request(
          'GET',
          pick(['/', badPath()]),
          pick([
            [],
            ['Host: evil.example'],
            [host(), host()],
            ['Host: [::1'],
            ['Host:'],
            [`Host: 127.0.0.1:${port}\u0000`],
            ['Host 127.0.0.1'],
            [' Host: x'],
          ]),
        );
      case 8: {
        // Upgrades that must be refused: bad paths, tokens, origins, keys and versions.
        const target = pick([
          badPath(),
          `/rpc?token=${pick(['', 'x', token.slice(1), `${token}%`, '%E0%A4%A'])}`,
          `//[?token=${token}`,
          `/rpc?token=${token}%ZZ`,
        ]);
        const headers = [
          host(),
          'Connection: Upgrade',
          `Upgrade: ${pick(['websocket', 'WebSocket', 'h2c', ''])}`,
          `Sec-WebSocket-Version: ${pick(['13', '8', 'x'])}`,
          `Sec-WebSocket-Key: ${pick(['dGhlIHNhbXBsZSBub25jZQ==', 'short', ''])}`,
          `Origin: ${pick([`http://127.0.0.1:${port}`, 'http://evil.example', '%', 'http://[', ''])}`,
        ];
        return request('GET', target, headers);
      }
      default: {
        // Bodies and framing: conflicting lengths, bad chunks, pipelined garbage after a good request.
        return pick([
          request('POST', '/', [host(), 'Content-Length: 5', 'Content-Length: 6'], 'hello!'),
          request(
            'POST',
            '/',
            [host(), 'Transfer-Encoding: chunked'],
            `${pick(['zz', 'ffffffffffffffffff', '5', '-1'])}\r\nhello\r\n0\r\n\r\n`,
          ),
          request('POST', '/', [host(), 'Transfer-Encoding: chunked', 'Content-Length: 3'], '3\r\nabc\r\n0\r\n\r\n'),
          request('GET', '/', [host(), `Content-Length: ${pick(['-1', '1e9', 'abc', '99999999999999999999'])}`]),
          `${request('GET', '/', [host()])}${bytes(1 + int(300)).toString('latin1')}`,
          `${request('GET', '/', [host()])}${request('GET', badPath(), [host()])}`,
        ]);
      }
    }
  };
  const invalidUtf8 = () =>
    pick([
      Buffer.from([0xff]),
      Buffer.from([0xc3, 0x28]),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from([0xf4, 0x90, 0x80, 0x80]),
      Buffer.from([0xe2, 0x82]),
      Buffer.concat([Buffer.from('{"id":1,"name":"'), bytes(8), Buffer.from([0xfe]), Buffer.from('"}')]),
    ]);
  /** A frame the server must answer by closing the connection itself. */
  const wsCase = (): { what: string; frame: FrameOptions | Buffer; finish: boolean } => {
    switch (int(12)) {
      case 0:
        return {
          what: 'oversize',
          frame: { opcode: pick([0x1, 0x2]), claimedLength: BigInt(64 * 1024 * 1024 + 1 + int(1_000_000_000)) },
          finish: false,
        };
      case 1:
        return { what: 'length over 2^63', frame: { opcode: 0x2, claimedLength: 2n ** 63n + BigInt(int(1000)) }, finish: false };
      case 2:
        return { what: 'invalid UTF-8 text', frame: { opcode: 0x1, payload: invalidUtf8() }, finish: false };
      case 3:
        return { what: 'unmasked', frame: { opcode: pick([0x1, 0x2, 0x9, 0x8]), payload: Buffer.from('{}'), mask: false }, finish: false };
      case 4:
        return {
          what: 'reserved opcode',
          frame: { opcode: pick([0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf]), payload: bytes(int(20)) },
          finish: false,
        };
      case 5:
        return { what: 'RSV bits', frame: { opcode: pick([0x1, 0x2]), rsv: 1 + int(7), payload: Buffer.from('{}') }, finish: false };
      case 6:
        return {
          what: 'bad control frame',
          frame: pick<FrameOptions>([
            { opcode: 0x9, fin: false },
            { opcode: 0xa, payload: bytes(126 + int(200)) },
            { opcode: 0x8, payload: Buffer.from([0x03]) },
            { opcode: 0x8, payload: Buffer.from([0x03, 0xe7]) },
            { opcode: 0x8, payload: Buffer.concat([Buffer.from([0x03, 0xe8]), invalidUtf8()]) },
          ]),
          finish: false,
        };
      case 7:
        return { what: 'continuation out of place', frame: { opcode: 0x0, payload: Buffer.from('x') }, finish: false };
      case 8:
        return {
          what: 'not JSON',
          frame: { opcode: pick([0x1, 0x2]), payload: Buffer.from(pick(['not json', '{', '[1,', '', '\u0000', 'é'.repeat(int(500))])) },
          finish: false,
        };
      case 9: {
        const key = pick(['é', '\u{1F600}', 'a', '€'.repeat(3)]).repeat(1 + int(200));
        return {
          what: 'malformed request',
          frame: {
            opcode: 0x1,
            payload: Buffer.from(
              JSON.stringify(pick([{ id: 1, name: 'sessions-list', [key]: 1 }, { id: key, name: key }, { id: 1 }, [1, 2], null, 42])),
            ),
          },
          finish: false,
        };
      }
      case 10:
        return {
          what: 'truncated frame',
          frame: frame({ opcode: 0x1, payload: Buffer.from('{"id":1,"name":"sessions-list"}') }).subarray(0, 1 + int(10)),
          finish: true,
        };
      default:
        return { what: 'garbage', frame: bytes(2 + int(200)), finish: true };
    }
  };
  return { httpCase, wsCase };
}

describe('serve mode under fuzzing', () => {
  it(
    `answers or closes each of ${HTTP_CASES} malformed requests and ${WS_CASES} bad frames, stays up, and keeps its memory`,
    { timeout: 180_000 },
    async () => {
      const started = Date.now();
      const { httpCase, wsCase } = generators(prng(SEED));
      await stillServes();
      const before = await child.rss();
      let unanswered = 0;
      await runCases(
        HTTP_CASES,
        PARALLEL,
        async (index) => {
          const bytes = httpCase();
          const outcome = await rawExchange(port, bytes, 10_000);
          if (!outcome.closed) {
            unanswered++;
            throw new Error(
              `case ${index} (seed ${SEED}) was neither answered nor closed within 10 s: ${JSON.stringify(bytes.toString().slice(0, 200))}`,
            );
          }
          alive();
        },
        stillServes,
      );
      const upgrade = { Host: `127.0.0.1:${port}`, Origin: `http://127.0.0.1:${port}` };
      await runCases(
        WS_CASES,
        PARALLEL,
        async (index) => {
          const test = wsCase();
          const socket = await rawWebSocket(port, `/rpc?token=${token}`, upgrade, 10_000);
          const ended = closedWithin(socket, 10_000);
          socket.write(Buffer.isBuffer(test.frame) ? test.frame : frame(test.frame));
          if (test.finish) socket.end();
          const { closed } = await ended;
          if (!closed) throw new Error(`frame case ${index} (${test.what}, seed ${SEED}) did not close the connection within 10 s`);
          alive();
        },
        stillServes,
      );
      await stillServes();
      const after = await child.rss();
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `serve fuzz (seed ${SEED}): ${HTTP_CASES} requests + ${WS_CASES} frames in ${seconds.toFixed(1)} s; RSS ${(before / 2 ** 20).toFixed(1)} → ${(after / 2 ** 20).toFixed(1)} MiB`,
      );
      expect(unanswered).toBe(0);
      expect(after - before).toBeLessThan(RSS_GROWTH_LIMIT);
      alive();
    },
  );
});
