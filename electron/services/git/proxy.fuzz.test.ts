// Drover's git proxy under hostile input, from both sides: clients sending malformed requests
// (thousands, seeded) and a forge sending answers that are not valid HTTP. The proxy runs in this
// process, deliberately: an error escaping it is an uncaught exception that fails the run. After
// everything, real git still works through it against a real token-requiring git server.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GIT_IDENTITY, gitServerUnavailableReason, startGitServer, type GitServer } from '#test/support/git-server';
import { rawExchange } from '#test/support/raw-http';
import { requirePart } from '#test/support/system';
import { GitProxy, type GitProxyRoute } from './proxy.ts';

const ready = requirePart('git (client and http-backend)', gitServerUnavailableReason());
const TOKEN = `ghp_${randomBytes(18).toString('hex')}`;
const SEED = Number(process.env['DROVER_FUZZ_SEED'] ?? Date.now() % 1_000_000);
const CASES = 10_000;
const PARALLEL = 8;

let proxy: GitProxy;
let gitServer: GitServer | undefined;
let forge: net.Server | undefined;
const logs: string[] = [];

beforeAll(async () => {
  proxy = new GitProxy({ log: (line) => logs.push(line) });
  await proxy.start({ hosts: ['127.0.0.1'] });
});

afterAll(async () => {
  await proxy.close();
  await gitServer?.close();
  await new Promise((resolve) => (forge ? forge.close(resolve) : resolve(undefined)));
});

function portOf(route: GitProxyRoute): number {
  return Number(new URL(route.urlFor('127.0.0.1')).port);
}

/** `git ls-remote` through the proxy: the refs, or git's complaint. */
function lsRemote(url: string): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['-c', 'credential.helper=', ...GIT_IDENTITY, 'ls-remote', url],
      { encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } },
      (error, stdout, stderr) => resolve({ ok: error === null, output: `${stdout}${stderr}` }),
    );
  });
}

describe('git proxy and a forge that does not speak valid HTTP', () => {
  it('answers 502 to a status below 100 and to a protocol switch, and goes on', async () => {
    let reply = '';
    forge = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end(reply));
    });
    await new Promise<void>((resolve) => forge?.listen(0, '127.0.0.1', resolve));
    const address = forge.address() as net.AddressInfo;
    const route = proxy.register({ upstream: `http://127.0.0.1:${address.port}/team/app.git`, token: () => Promise.resolve(TOKEN) });
    const infoRefs = `${route.urlFor('127.0.0.1')}info/refs?service=git-upload-pack`;

    reply = 'HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n';
    const odd = await fetch(infoRefs, { signal: AbortSignal.timeout(10_000) });
    expect(odd.status).toBe(502);
    expect(await odd.text()).toMatch(/not valid HTTP/);

    reply = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n';
    const switched = await fetch(infoRefs, { signal: AbortSignal.timeout(10_000) });
    expect(switched.status).toBe(502);
    expect(await switched.text()).toMatch(/protocol switch/);

    reply = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok';
    const fine = await fetch(infoRefs, { signal: AbortSignal.timeout(10_000) });
    expect([fine.status, await fine.text()]).toEqual([200, 'ok']);
    expect(logs.join('\n')).not.toContain(TOKEN);
    proxy.unregister(route);
  });
});

describe('git proxy and a client sending paths that do not parse', () => {
  it('answers 400, not a failure of its own', async () => {
    const route = proxy.register({ upstream: 'http://127.0.0.1:9/team/app.git', token: () => Promise.resolve(TOKEN) });
    const port = portOf(route);
    for (const path of ['//[', '//[::1', 'http://[']) {
      const outcome = await rawExchange(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      expect(outcome.status, path).toBe(400);
      expect(outcome.bytes.toString()).toContain('not a valid URL path');
    }
    proxy.unregister(route);
  });
});

describe.skipIf(!ready)('git proxy under fuzzing', () => {
  it(`answers or closes each of ${CASES} malformed requests, and real git still works through it`, { timeout: 120_000 }, async () => {
    gitServer = await startGitServer({ token: TOKEN });
    gitServer.createBareRepo('app.git', { 'README.md': '# app\n' });
    const route = proxy.register({ upstream: gitServer.url('app.git'), token: () => Promise.resolve(TOKEN) });
    const port = portOf(route);
    const base = new URL(route.urlFor('127.0.0.1')).pathname;
    expect((await lsRemote(route.urlFor('127.0.0.1'))).ok).toBe(true);

    let a = SEED >>> 0;
    const random = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const int = (n: number) => Math.floor(random() * n);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
    const host = `Host: 127.0.0.1:${port}`;
    const pieces = [
      '%',
      '%ZZ',
      '%E0%A4%A',
      '%2e%2e',
      '..',
      '//',
      '[',
      '\\',
      'info/refs',
      'git-upload-pack',
      'git-receive-pack',
      'objects/',
      'HEAD',
      '?service=git-upload-pack',
      '#',
      'é',
    ];
    const target = () =>
      pick([
        '//[',
        '/%',
        `${base}${Array.from({ length: 1 + int(5) }, () => pick(pieces)).join('')}`,
        `/${randomBytes(16).toString('hex')}/info/refs`,
        `${base.slice(0, -1)}${pick(pieces)}`,
        `/${bytes(1 + int(30))
          .toString('latin1')
          .replace(/[\r\n ]/g, '%')}`,
        `${base}info/refs?${'x'.repeat(int(5000))}`,
      ]);
    const request = (method: string, path: string, headers: string[], body = '') =>
      `${method} ${path} HTTP/1.1\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${body}`;
    const oneCase = (): string | Buffer => {
      switch (int(8)) {
        case 0:
        case 1:
          return request(pick(['GET', 'POST', 'PUT', 'DELETE', 'PROPFIND', 'FOO', 'get']), target(), [host]);
        case 2:
          return request('GET', `${base}info/refs`, [host, `X-Big: ${'a'.repeat(17_000 + int(40_000))}`]);
        case 3:
          return bytes(1 + int(2048));
        case 4: {
          const whole = request(
            'POST',
            `${base}git-upload-pack`,
            [host, 'Content-Type: application/x-git-upload-pack-request', 'Content-Length: 200'],
            '0032want ',
          );
          return whole.slice(0, int(whole.length));
        }
        case 5:
          return request('GET', target(), [host, 'Connection: Upgrade', `Upgrade: ${pick(['websocket', 'h2c'])}`]);
        case 6:
          return pick([
            `CONNECT github.com:443 HTTP/1.1\r\n${host}\r\n\r\n`,
            request('POST', `${base}git-upload-pack`, [host, 'Transfer-Encoding: chunked'], 'zz\r\nxx\r\n'),
            request('POST', `${base}git-upload-pack`, [host, 'Content-Length: 3', 'Content-Length: 4'], 'abcd'),
          ]);
        default:
          return `GET ${target()} ${pick(['HTTP/9.9', 'HTTP/1', ''])}\r\n${host}\r\n\r\n`;
      }
    };

    let next = 0;
    const worker = async () => {
      while (next < CASES) {
        const index = next++;
        const bytesOut = oneCase();
        const outcome = await rawExchange(port, bytesOut, 10_000);
        if (!outcome.closed)
          throw new Error(
            `case ${index} (seed ${SEED}) was neither answered nor closed within 10 s: ${JSON.stringify(bytesOut.toString().slice(0, 200))}`,
          );
        if (index % 500 === 499) expect((await fetch(`${route.urlFor('127.0.0.1')}info/refs?service=git-upload-pack`)).status).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));

    const after = await lsRemote(route.urlFor('127.0.0.1'));
    expect(after.output).toMatch(/refs\/heads\//);
    expect(logs.join('\n')).not.toContain(TOKEN);
    proxy.unregister(route);
  });
});
