/**
 * Work items survive a restart of Drover: a worker holding a lease keeps heartbeating with its
 * sessions token against a new API over the same `managed.sqlite` (a fresh queue loads the items
 * and the tokens, kept by SHA-256 only), and its work is not handed to another worker.
 */
import type { BetaEnvironment } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApi } from '#api/start';
import type { RunningApi } from '#api/server';
import { ManagedDb } from '#services/managed/db';
import { apiRig, API_TOKEN, type ApiRig } from '#test/support/api-rig';

process.env['DROVER_WORK_LEASE_SECONDS'] = '30';

let rig: ApiRig;
let restarted: { api: RunningApi; managed: ManagedDb } | null = null;

beforeEach(async () => {
  rig = await apiRig();
});

afterEach(async () => {
  if (restarted !== null) {
    await restarted.api.close();
    restarted.managed.close();
    restarted = null;
  }
  await rig.close();
});

describe('self-hosted work across a restart', () => {
  it('lets the worker holding a lease carry on with its sessions token after Drover restarts, and hands its work to no one else', async () => {
    const env = (await rig.client.beta.environments.create({ name: 'laptop', config: { type: 'self_hosted' } })) as BetaEnvironment & {
      environment_key?: string;
    };
    const key = env.environment_key ?? '';
    const agent = await rig.client.beta.agents.create({
      name: 'remote',
      model: 'claude-sonnet-4-6',
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    const session = await rig.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
    const worker = rig.client.withOptions({ apiKey: null, authToken: key });
    const work = await worker.beta.environments.work.poll(env.id, { block_ms: 100 });
    if (work === null) throw new Error('no work');
    await worker.beta.environments.work.ack(work.id, { environment_id: env.id });
    const token = (JSON.parse(Buffer.from(work.secret ?? '', 'base64url').toString()) as { sessions_token: string }).sessions_token;
    const held = rig.client.withOptions({ apiKey: null, authToken: token });
    const beat = await held.beta.environments.work.heartbeat(work.id, { environment_id: env.id, expected_last_heartbeat: 'NO_HEARTBEAT' });
    expect(beat.state).toBe('active');

    // Drover restarts: a new API over the same data folder (a fresh connection, a fresh queue).
    const managed = ManagedDb.open(rig.dir);
    const api = await startApi({
      context: { host: rig.host, store: rig.store, managed, vault: rig.vault, defaultImage: () => 'unused', log: () => undefined },
      host: '127.0.0.1',
      port: 0,
      token: () => API_TOKEN,
    });
    restarted = { api, managed };
    const after = held.withOptions({ baseURL: api.baseURL });

    // The worker's next heartbeat, with the value it last got, renews its lease.
    const next = await after.beta.environments.work.heartbeat(work.id, {
      environment_id: env.id,
      expected_last_heartbeat: beat.last_heartbeat,
    });
    expect(next).toMatchObject({ type: 'work_heartbeat', lease_extended: true, state: 'active' });
    expect(next.last_heartbeat > beat.last_heartbeat).toBe(true);
    // Its token still reads its session; the item is the same, active, and no other worker gets it.
    const read = await fetch(`${api.baseURL}/v1/sessions/${session.id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);
    const keyed = worker.withOptions({ baseURL: api.baseURL });
    expect(await keyed.beta.environments.work.retrieve(work.id, { environment_id: env.id })).toMatchObject({
      id: work.id,
      state: 'active',
    });
    expect(await keyed.beta.environments.work.poll(env.id, { block_ms: 100 })).toBeNull();
    // The token is kept by its hash only.
    const rows = JSON.stringify(managed.list('work_token'));
    expect(rows).not.toContain(token);
    expect(managed.list('work_token').map((row) => row.id)).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
    // A token that never was is still refused.
    const wrong = await fetch(`${api.baseURL}/v1/sessions/${session.id}`, { headers: { authorization: 'Bearer drover-ses-not-a-token' } });
    expect(wrong.status).toBe(401);
  }, 30_000);
});
