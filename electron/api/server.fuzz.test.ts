// Fuzzing the real Managed Agents API: 10,000 malformed or hostile requests — bad paths, ids,
// queries, bodies, tokens, framing and sizes, against every route — to the server running in a
// child process without the process guard (fuzz-child.ts), so an error escaping it ends that
// process. Each case must be answered (with the service's error shape when it is an HTTP answer)
// or closed; the process must be alive after each, and the official SDK must still work every 250
// cases and at the end. Seeded: DROVER_FUZZ_SEED=<n> replays a run.
import { rmSync } from 'node:fs';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange } from '#test/support/raw-http';
import { prng } from '#test/support/prng';
import { runCases, ServerChild } from '#test/support/server-child';
import { tempDir } from '#test/support/system';

const SEED = Number(process.env['DROVER_FUZZ_SEED'] ?? Date.now() % 1_000_000);
const CASES = 10_000;
const PARALLEL = 16;
const RSS_GROWTH_LIMIT = 64 * 1024 * 1024;

let dir: string;
let child: ServerChild;
let port: number;
let token: string;
let routes: Array<{ method: string; path: string }>;

beforeAll(async () => {
  dir = tempDir('drover-api-fuzz-');
  child = new ServerChild(path.join(import.meta.dirname, 'fuzz-child.ts'), [dir], 'the API process');
  const [, portText = '', tokenText = ''] = (await child.nextLine()).split(' ');
  port = Number(portText);
  token = tokenText;
  // The server's own routes, and every path the SDK calls (the ones not served must answer too).
  const served = JSON.parse(await child.nextLine()) as Array<{ method: string; path: string }>;
  const sdkPaths = [
    '/v1/agents',
    '/v1/agents/:id',
    '/v1/agents/:id/archive',
    '/v1/agents/:id/versions',
    '/v1/environments',
    '/v1/environments/:id',
    '/v1/environments/:id/archive',
    '/v1/environments/:id/work/poll',
    '/v1/sessions',
    '/v1/sessions/:id',
    '/v1/sessions/:id/archive',
    '/v1/sessions/:id/events',
    '/v1/sessions/:id/events/stream',
    '/v1/sessions/:id/resources',
    '/v1/vaults',
    '/v1/vaults/:id',
    '/v1/vaults/:id/credentials',
    '/v1/vaults/:id/credentials/:cid',
    '/v1/vaults/:id/credentials/:cid/archive',
  ];
  routes = [...served, ...sdkPaths.map((path) => ({ method: 'POST', path }))];
}, 60_000);

afterAll(async () => {
  await child.stop();
  rmSync(dir, { recursive: true, force: true });
});

const alive = () => child.alive(SEED);

/** The official SDK still gets answers: a list, and a typed error for an unknown id. */
async function stillServes(): Promise<void> {
  alive();
  const client = new Anthropic({ baseURL: `http://127.0.0.1:${port}`, apiKey: token, maxRetries: 0 });
  const page = await client.beta.sessions.list({ limit: 1 });
  expect(Array.isArray(page.data)).toBe(true);
  await expect(client.beta.sessions.retrieve('sesn_00000000000000000000000000000000')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
}

function generators(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const badPercents = ['%', '%Z', '%ZZ', '%E0%A4%A', '%C0%AF', '%FF', '%ED%A0%80', '%00', '%2', '%%', '%C3%28'];
  const ids = [
    'sesn_00000000000000000000000000000000',
    'sesn_',
    'sesn_zz',
    'agent_0123456789ABCDEFabcdefgh',
    'agent_',
    'env_x',
    'vlt_' + 'a'.repeat(24),
    'vcrd_' + 'b'.repeat(24),
    'sevt_' + '0'.repeat(32),
    '..',
    '%2e%2e',
    'é',
    '\u{1F600}',
    'a'.repeat(300),
    '__proto__',
    'constructor',
    ...badPercents,
  ];
  const target = (): string => {
    const route = pick(routes);
    let text = route.path.replace(/:[a-z_]+/g, () => encodeURI(pick(ids)).replace(/%25/g, '%'));
    if (random() < 0.15) text += pick(['/', '//', '/x', pick(badPercents)]);
    if (random() < 0.4) text += `?${query()}`;
    return text;
  };
  const query = (): string =>
    Array.from({ length: 1 + int(4) }, () =>
      pick([
        `limit=${pick(['0', '-1', '1e9', 'NaN', '', '2.5', '100000', '%'])}`,
        `page=${pick(['', 'x', '%ZZ', Buffer.from('{"offset":-1}').toString('base64url'), Buffer.from('[]').toString('base64url'), 'e30'])}`,
        `order=${pick(['up', '', 'ASC'])}`,
        `statuses[]=${pick(['idle', 'nope', '', '%'])}`.repeat(1 + int(50)),
        `types[]=${pick(['agent.message', 'x', ''])}`,
        `created_at[${pick(['gte', 'lt', 'x', ''])}]=${pick(['yesterday', '', '2026-13-45', '1'])}`,
        `version=${pick(['0', '-3', 'x', '99999999999'])}`,
        `event_deltas[]=${pick(['agent.message', 'x'])}`,
        `${pick(badPercents)}=${pick(badPercents)}`,
        `include_archived=${pick(['maybe', 'true', ''])}`,
      ]),
    ).join('&');
  const auth = (): string[] =>
    pick([
      [`Authorization: Bearer ${token}`],
      [`x-api-key: ${token}`],
      [`Authorization: Bearer ${token}`],
      [`x-api-key: ${token}`],
      [],
      ['Authorization: Bearer wrong-token-0123456789'],
      [`Authorization: Basic ${token}`],
      [`Authorization: Bearer ${token.slice(1)}`],
      [`x-api-key: ${token}`, `x-api-key: ${token}`],
      [`Authorization: Bearer ${token}\u00ff`],
      [`Authorization: Bearer ${token}`, 'Origin: http://evil.example'],
    ]);
  const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  const weirdValue = (): unknown =>
    pick<() => unknown>([
      () => null,
      () => int(1e9) - 5e8,
      () => 1e308 * 10,
      () => 'x'.repeat(int(5000)),
      () => [],
      () => ({}),
      () => ({ ['__proto__']: { polluted: true } }),
      () => ({ type: pick(['user.message', 'agent', 'cloud', 'static_bearer', 'nope']), content: weirdValue() }),
      () => [{ type: 'text', text: weirdValue() }],
      () => true,
    ])();
  const body = (): string =>
    pick<() => string>([
      () => '{',
      () => 'null',
      () => '[]',
      () => '"text"',
      () => deep(1 + int(20_000)),
      () =>
        JSON.stringify({
          name: weirdValue(),
          model: weirdValue(),
          config: weirdValue(),
          agent: weirdValue(),
          environment_id: weirdValue(),
        }),
      () => JSON.stringify({ events: Array.from({ length: int(5) }, () => ({ type: weirdValue(), content: weirdValue() })) }),
      () => JSON.stringify({ [pick(['é', 'a'.repeat(500), '', '__proto__'])]: weirdValue() }),
      () => JSON.stringify({ events: [{ type: 'user.message', content: [{ type: 'text', text: 'x' }] }], extra: weirdValue() }),
      () => bytes(1 + int(400)).toString('latin1'),
      () => `{"a":"\ud800"}`,
    ])();
  const request = (method: string, path: string, headers: string[], payload = ''): string =>
    `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${headers.map((h) => `${h}\r\n`).join('')}Content-Length: ${Buffer.byteLength(payload, 'latin1')}\r\nConnection: close\r\n\r\n${payload}`;
  return (): Buffer | string => {
    switch (int(10)) {
      case 0:
      case 1:
      case 2:
        return request(pick(['POST', 'POST', 'GET', 'DELETE']), target(), [...auth(), 'Content-Type: application/json'], body());
      case 3:
        return request(pick(['GET', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD']), target(), auth());
      case 4:
        // Declared sizes the server must refuse without waiting for them.
        return `POST ${target()} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${pick(['17000000', '99999999999', '-1', 'abc'])}\r\n\r\n{`;
      case 5:
        return `POST ${target()} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\nTransfer-Encoding: chunked\r\n\r\n${pick(['zz', 'ffffffffffffffff', '5', '-1'])}\r\nhello\r\n0\r\n\r\n`;
      case 6:
        return bytes(1 + int(2048));
      case 7: {
        const whole = request('POST', target(), auth(), body());
        return whole.slice(0, int(whole.length));
      }
      case 8:
        return request('GET', `/${pick(badPercents)}${pick(['', '/v1', '//[', '/v1/%'])}`, auth());
      default:
        return request('GET', `/v1/sessions/${pick(ids)}/events/stream?${query()}`, auth());
    }
  };
}

describe('the Managed Agents API under fuzzing', () => {
  it(`answers or closes each of ${CASES} malformed requests, stays up, and keeps its memory`, { timeout: 240_000 }, async () => {
    const started = Date.now();
    const nextCase = generators(prng(SEED));
    await stillServes();
    const before = await child.rss();
    const statuses = new Map<number, number>();
    await runCases(
      CASES,
      PARALLEL,
      async (index) => {
        const bytes = nextCase();
        const outcome = await rawExchange(port, bytes, 10_000);
        if (!outcome.closed)
          throw new Error(
            `case ${index} (seed ${SEED}) was neither answered nor closed within 10 s: ${JSON.stringify(bytes.toString().slice(0, 300))}`,
          );
        if (outcome.status !== null) {
          statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
          if (outcome.status >= 500)
            throw new Error(`case ${index} (seed ${SEED}) got ${outcome.status}: ${outcome.bytes.toString().slice(0, 600)}`);
          // The first response's body (another may follow: pipelined garbage gets Node's own 400).
          const text = outcome.bytes.toString('utf8');
          const bodyStart = text.indexOf('\r\n\r\n');
          const length = Number(/\r\ncontent-length: (\d+)/i.exec(text.slice(0, bodyStart))?.[1] ?? '0');
          const json =
            bodyStart < 0
              ? ''
              : outcome.bytes
                  .subarray(Buffer.byteLength(text.slice(0, bodyStart + 4)), Buffer.byteLength(text.slice(0, bodyStart + 4)) + length)
                  .toString('utf8');
          if (outcome.status >= 400 && json.startsWith('{')) {
            const parsed = JSON.parse(json) as { type?: unknown; error?: { type?: unknown; message?: unknown } };
            expect(parsed.type).toBe('error');
            expect(typeof parsed.error?.message).toBe('string');
          }
        }
        alive();
      },
      stillServes,
    );
    await stillServes();
    const after = await child.rss();
    const seconds = (Date.now() - started) / 1000;
    const byStatus = [...statuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}×${n}`)
      .join(' ');
    console.log(
      `API fuzz (seed ${SEED}): ${CASES} requests in ${seconds.toFixed(1)} s; ${byStatus}; RSS ${(before / 2 ** 20).toFixed(1)} → ${(after / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(after - before).toBeLessThan(RSS_GROWTH_LIMIT);
    alive();
  });
});
