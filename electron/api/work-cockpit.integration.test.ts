/**
 * The cockpit's side of self-hosted workers, over the host's RPC (the UI's path): the Hands panel's
 * `workers-list` with the SDK's own worker (waiting → ready with a live last heartbeat → lost when
 * killed; heartbeats are not logged), and Settings → Local API's environment keys (make, rotate,
 * revoke: a key shown once, never listed).
 */
import { rmSync } from 'node:fs';
import type { BetaEnvironment } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EnvironmentKeyInfo, NewEnvironmentKey, WorkerStatus } from '#shared/workers';
import { apiRig, API_TOKEN, endTurn, type ApiRig } from '#test/support/api-rig';
import { tempDir } from '#test/support/system';
import { selfHostedEnvironment, startWorker, uuidOf, type StartedWorker } from '#test/support/workers';

// Short leases, so a killed worker is lost within the test (read when the queue is made).
process.env['DROVER_WORK_LEASE_SECONDS'] = '3';

let rig: ApiRig;
let dirs: string[] = [];
let workers: StartedWorker[] = [];

beforeEach(async () => {
  rig = await apiRig({ localApi: true });
});

afterEach(async () => {
  for (const worker of workers) worker.kill();
  workers = [];
  await rig.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

async function rpc<T>(name: string, arg: unknown): Promise<T> {
  const outcome = await rig.host.dispatch(name, arg);
  if (!outcome.ok) throw new Error(`${name}: ${outcome.error.code}: ${outcome.error.message}`);
  return outcome.result as T;
}

async function rpcError(name: string, arg: unknown): Promise<{ code: string; message: string }> {
  const outcome = await rig.host.dispatch(name, arg);
  if (outcome.ok) throw new Error(`${name} succeeded`);
  return outcome.error;
}

async function workerOf(sessionId: string): Promise<WorkerStatus | undefined> {
  const list = await rpc<WorkerStatus[]>('workers-list', { sessionId });
  expect(list.length).toBeLessThanOrEqual(1);
  return list[0];
}

/** Asks `probe` until it answers (at most 60 s). */
async function eventually<T>(what: string, probe: () => Promise<T | false | undefined>, detail = (): string => ''): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe();
    if (value !== false && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}. ${detail()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const poll = (environmentId: string, key: string) =>
  fetch(`${rig.api.baseURL}/v1/environments/${environmentId}/work/poll`, { headers: { authorization: `Bearer ${key}` } });

const selfHosted = (name: string): Promise<{ env: BetaEnvironment; key: string }> => selfHostedEnvironment(rig.client, name);

describe('self-hosted workers in the cockpit', () => {
  it('lists a session’s worker with its machine, work item and a live last heartbeat, and shows it lost when it dies', async () => {
    const { env } = await selfHosted('laptop');
    // Settings → Local API makes the key the worker uses (the one from creation stops working).
    const made = await rpc<NewEnvironmentKey>('environment-key-make', { environmentId: env.id });
    const agent = await rig.client.beta.agents.create({
      name: 'remote',
      model: 'claude-sonnet-4-6',
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    rig.script.push(() => endTurn('Hello from the worker session.'));
    const session = await rig.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
    const sessionId = uuidOf(session.id);

    const [waiting] = await rpc<WorkerStatus[]>('workers-list', { sessionId });
    expect(waiting).toMatchObject({ environment_id: env.id, state: 'waiting', worker_id: null, host: null, last_heartbeat: null });
    expect(waiting?.detail).toContain('Settings → Local API');

    const workdir = tempDir('drover-worker-');
    dirs.push(workdir);
    const worker = startWorker(rig.api.baseURL, env.id, made.key, workdir, 'worker-cockpit');
    workers.push(worker);
    const first = await eventually(
      'the worker to be ready',
      async () => (await workerOf(sessionId))?.state === 'ready' && workerOf(sessionId),
      worker.stderr,
    );
    expect(first).toMatchObject({
      work_id: waiting?.work_id,
      worker_id: 'worker-cockpit',
      host: 'this computer',
      state: 'ready',
      ttl_seconds: 3,
    });
    expect(first?.last_heartbeat).not.toBeNull();
    expect(Date.parse(first?.lease_expires_at ?? '')).toBeGreaterThan(Date.now() - 1000);

    // Heartbeats arrive (every 1.5 s at a 3 s lease): the list shows each, the log records none of them.
    const later = await eventually(
      'a later heartbeat',
      async () => {
        const status = await workerOf(sessionId);
        return (status?.last_heartbeat ?? '') > (first?.last_heartbeat ?? '') && status;
      },
      worker.stderr,
    );
    expect(later?.state).toBe('ready');
    expect(rig.store.getEvents(sessionId, { types: ['hand.ready'] })).toHaveLength(1);

    // The worker dies: its lease runs out, the panel says it is lost and the work waits for another.
    worker.kill();
    const lost = await eventually('the worker to be lost', async () => {
      const status = await workerOf(sessionId);
      return status?.state === 'lost' && status;
    });
    expect(rig.store.getEvents(sessionId, { types: ['hand.lost'] })).toHaveLength(1);
    expect(lost).toMatchObject({ state: 'lost', last_heartbeat: null, lease_expires_at: null });
    expect(lost?.detail).toContain('worker-cockpit');
  }, 90_000);

  it('makes, rotates and revokes an environment key over the RPC: shown once, never listed, the old one refused at once', async () => {
    const { env, key: created } = await selfHosted('build-box');
    const cloud = await rig.client.beta.environments.create({ name: 'cloud' });

    // The list names the self_hosted environments only, with the key's last 4 characters, never a key.
    const listed = await rpc<EnvironmentKeyInfo[]>('environment-keys-list', undefined);
    expect(listed).toEqual([{ environment_id: env.id, name: 'build-box', hint: created.slice(-4), created_at: expect.any(String) }]);
    expect(JSON.stringify(listed)).not.toContain(created);

    // Make (rotate): a new key, in force at once; the old one is refused from the next request.
    const made = await rpc<NewEnvironmentKey>('environment-key-make', { environmentId: env.id });
    expect(made.key).toMatch(/^drover-env-/);
    expect(made.key).not.toBe(created);
    expect(made.info).toMatchObject({ environment_id: env.id, hint: made.key.slice(-4) });
    expect((await poll(env.id, created)).status).toBe(401);
    const worker = rig.client.withOptions({ apiKey: null, authToken: made.key });
    expect(await worker.beta.environments.work.stats(env.id)).toMatchObject({ type: 'work_queue_stats' });
    const again = await rpc<EnvironmentKeyInfo[]>('environment-keys-list', undefined);
    expect(again[0]?.hint).toBe(made.key.slice(-4));
    expect(JSON.stringify(again)).not.toContain(made.key);

    // Revoke: no key; workers are refused.
    const revoked = await rpc<EnvironmentKeyInfo>('environment-key-revoke', { environmentId: env.id });
    expect(revoked).toEqual({ environment_id: env.id, name: 'build-box', hint: null, created_at: null });
    const refused = await poll(env.id, made.key);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });

    // What cannot have a key is refused in words; a malformed id by the RPC's schema.
    const notSelfHosted = await rpcError('environment-key-make', { environmentId: cloud.id });
    expect(notSelfHosted).toMatchObject({ code: 'invalid-argument' });
    expect(notSelfHosted.message).toContain('only a self_hosted environment');
    expect(await rpcError('environment-key-make', { environmentId: 'env_nope' })).toMatchObject({ code: 'not-found' });
    expect(await rpcError('environment-key-revoke', { environmentId: '../x' })).toMatchObject({ code: 'invalid-argument' });
    expect(await rpcError('environment-key-make', { environmentId: env.id, key: 'mine' })).toMatchObject({ code: 'invalid-argument' });
    // The API token is untouched by all this.
    expect(API_TOKEN).toMatch(/^drover-api-/);
    expect((await rig.client.beta.environments.retrieve(env.id)).id).toBe(env.id);
  }, 30_000);
});
