/**
 * The API's new endpoints (threads, multiagent on agents) against hostile input, on the real API server
 * in this process (an error escaping a handler would end the test run): bodies nested 100,000 deep,
 * rosters of 100,000 members, cyclic-looking references, prototype keys, ids and query strings far too
 * long or oddly bracketed. Every answer is the service's error shape with a message, nothing is stored,
 * and the server answers a valid request afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, apiRig, type ApiRig } from '#test/support/api-rig';

let rig: ApiRig;

beforeAll(async () => {
  rig = await apiRig();
}, 60_000);

afterAll(async () => {
  await rig?.close();
});

/** A raw request (bodies as text: too deep for JSON.stringify); its status and JSON body. */
async function raw(
  pathname: string,
  body?: string,
  method = body === undefined ? 'GET' : 'POST',
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${rig.api.baseURL}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${API_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body }),
  });
  return { status: response.status, text: await response.text() };
}

/** Refused in the service's shape with a message; the server still lists agents. */
async function refusedWith(answer: { status: number; text: string }, what: string): Promise<void> {
  expect(answer.status, `${what}: ${answer.text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(answer.status, `${what}: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
  if (answer.status === 431) {
    // Node's HTTP parser refuses a request line over its header limit before the API sees it.
    expect((await rig.client.beta.agents.list()).data).toBeDefined();
    return;
  }
  const body = JSON.parse(answer.text) as { type: string; error: { type: string; message: string } };
  expect(body.type).toBe('error');
  expect(body.error.message.length, what).toBeGreaterThan(10);
  expect((await rig.client.beta.agents.list()).data).toBeDefined();
}

const deep = (depth: number, inner = ''): string => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
const deepObject = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('hostile input to the threads and multiagent endpoints', () => {
  it('answers deep, huge and cyclic-looking bodies with a 4xx in words, storing nothing', async () => {
    const member = await rig.client.beta.agents.create({ name: 'member', model: 'claude-sonnet-4-6' });
    const agents = rig.managed.list('agent').length;
    const create = (multiagent: string) =>
      raw('/v1/agents', `{"name":"coordinator","model":"claude-sonnet-4-6","multiagent":${multiagent}}`);

    await refusedWith(await create(deep(100_000)), 'an array 100,000 deep');
    await refusedWith(await create(deepObject(100_000)), 'an object 100,000 deep');
    await refusedWith(await create(`{"type":"coordinator","agents":${deep(50_000, `"${member.id}"`)}}`), 'a member 50,000 arrays down');
    await refusedWith(
      await create(`{"type":"coordinator","agents":[${Array.from({ length: 100_000 }, () => `"${member.id}"`).join(',')}]}`),
      '100,000 members',
    );
    await refusedWith(await create(`{"type":"coordinator","agents":[{"$ref":"#"},{"$ref":"#/multiagent"}]}`), 'cyclic-looking references');
    await refusedWith(await create(`{"type":"coordinator","agents":[{"type":"self"},{"type":"self"}]}`), 'self twice');
    await refusedWith(
      await create(`{"type":"coordinator","agents":[{"type":"agent","id":"${member.id}","__proto__":{"polluted":true}}]}`),
      'a prototype key',
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    await refusedWith(await create(`{"type":"coordinator","agents":[{"type":"agent","id":"${'a'.repeat(1_000_000)}"}]}`), 'a 1 MB id');
    await refusedWith(
      await create(`{"type":"coordinator","agents":[{"type":"agent","id":"${member.id}","version":1e308}]}`),
      'a version of 1e308',
    );
    await refusedWith(
      await raw(`/v1/agents/${member.id}`, `{"version":${member.version},"multiagent":${deepObject(100_000)}}`),
      'an update 100,000 deep',
    );
    expect(rig.managed.list('agent')).toHaveLength(agents);
  }, 120_000);

  it('answers odd thread ids and query strings with a 4xx in words', async () => {
    const agent = await rig.client.beta.agents.create({ name: 'plain', model: 'claude-sonnet-4-6' });
    const environment = await rig.client.beta.environments.create({ name: 'env' });
    const session = await rig.client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    const base = `/v1/sessions/${session.id}/threads`;
    for (const pathname of [
      `${base}/${'sthr_'.padEnd(100_000, 'f')}`,
      `${base}/sthr_%00%ff%fe`,
      `${base}/..%2f..%2fagents`,
      `${base}/%F0%9F%98%80/events`,
      `${base}?${Array.from({ length: 2_000 }, (_, i) => `statuses[${i}]=running`).join('&')}`,
      `${base}?statuses[][][][]=running`,
      `${base}?statuses[__proto__]=running`,
      `${base}?limit=1e309`,
      `${base}?limit=-0`,
      `${base}?page=${'A'.repeat(50_000)}`,
      `${base}/${'x'.repeat(10)}/stream?event_deltas=${'%5B'.repeat(1_000)}`,
    ]) {
      const answer = await raw(pathname);
      await refusedWith(answer, pathname.slice(0, 120));
    }
    const archive = await raw(`${base}/sthr_${'0'.repeat(32)}/archive`, deep(100_000));
    await refusedWith(archive, 'an archive with a deep body');
    // The threads of the session still list.
    const listed = await raw(base);
    expect(listed.status).toBe(200);
  }, 120_000);
});
