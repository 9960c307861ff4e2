/**
 * The SDK's reference worker on "another machine": a network namespace joined to this computer by a
 * veth pair, whose firewall drops every connection that it did not open itself — the worker reaches
 * Drover's API (served on this side's veth address), Drover cannot reach the worker. A session's
 * command runs in there and its result reaches the model; a worker SIGKILLed in there mid-command
 * gives the tool an interrupted result and a second worker in there reclaims the work; a wrong or
 * revoked environment key from there is refused and claims nothing.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BetaEnvironment } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApi } from '#api/start';
import type { RunningApi } from '#api/server';
import { DEFAULT_ENVIRONMENT_IMAGE } from '#services/managed/environment-hand';
import { API_TOKEN, apiRig, endTurn, type ApiRig } from '#test/support/api-rig';
import { tempDir } from '#test/support/system';
import {
  agentWithToolset,
  bash,
  commandsIn,
  endProcessesIn,
  processesIn,
  selfHostedEnvironment,
  startWorker,
  toolResultsIn,
  until,
  uuidOf,
  type StartedWorker,
} from '#test/support/workers';

// Short leases, so a killed worker's lease expires within the test (read when the queue is made).
process.env['DROVER_WORK_LEASE_SECONDS'] = '3';

const slot = randomBytes(2).readUInt16BE(0) % 16_384; // a /30 of 10.215.0.0/16
const hostAddress = `10.215.${slot >> 6}.${((slot & 63) << 2) + 1}`;
const workerAddress = `10.215.${slot >> 6}.${((slot & 63) << 2) + 2}`;
const name = `drover-w${randomBytes(3).toString('hex')}`;
const hostVeth = `dw${randomBytes(3).toString('hex')}`;

let rig: ApiRig;
let outer: RunningApi;
let workers: StartedWorker[] = [];
let workdir = '';

beforeEach(async () => {
  rig = await apiRig();
  execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
  for (const args of [
    ['-n', name, 'link', 'set', 'lo', 'up'],
    ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name],
    ['addr', 'add', `${hostAddress}/30`, 'dev', hostVeth],
    ['link', 'set', hostVeth, 'up'],
    ['-n', name, 'addr', 'add', `${workerAddress}/30`, 'dev', 'eth0'],
    ['-n', name, 'link', 'set', 'eth0', 'up'],
  ])
    execFileSync('ip', args, { stdio: 'pipe' });
  // The worker's side accepts nothing it did not start: Drover cannot open a connection to it.
  for (const args of [
    ['-A', 'INPUT', '-i', 'lo', '-j', 'ACCEPT'],
    ['-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'],
    ['-P', 'INPUT', 'DROP'],
  ])
    execFileSync('nsenter', [`--net=/var/run/netns/${name}`, 'iptables', ...args], { stdio: 'pipe' });
  // The same API (host, store, queue) served on this side of the link as well.
  outer = await startApi({
    context: {
      host: rig.host,
      store: rig.store,
      managed: rig.managed,
      vault: rig.vault,
      defaultImage: () => DEFAULT_ENVIRONMENT_IMAGE,
      log: () => undefined,
    },
    host: hostAddress,
    port: 0,
    token: () => API_TOKEN,
  });
  workdir = tempDir('drover-netns-worker-');
});

afterEach(async () => {
  for (const worker of workers) worker.kill();
  workers = [];
  // The SDK's bash session runs in a process group of its own, so a killed worker's command outlives
  // it: end whatever still runs in the namespace before deleting it.
  const left = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of left.split('\n').filter((line) => /^\d+$/.test(line.trim()))) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await outer.close();
  await rig.close();
  spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
  spawnSync('ip', ['link', 'delete', hostVeth], { stdio: 'ignore' });
  rmSync(workdir, { recursive: true, force: true });
});

/** The API's address as seen from inside the namespace. */
const baseURL = (): string => `http://${hostAddress}:${outer.port}`;

/** Starts the SDK's reference worker (test/support/worker-child.ts) inside the namespace, in a process group of its own. */
function startNetnsWorker(environmentId: string, key: string, workerId: string): StartedWorker {
  const worker = startWorker(baseURL(), environmentId, key, workdir, workerId, ['nsenter', `--net=/var/run/netns/${name}`]);
  workers.push(worker);
  return worker;
}

/** A request made from inside the namespace (asynchronously: the API answering it runs in this process). */
async function fetchFromNetns(pathname: string, credential: string): Promise<{ status: number; body: string }> {
  const { stdout } = await promisify(execFile)(
    'nsenter',
    [
      `--net=/var/run/netns/${name}`,
      process.execPath,
      '-e',
      `fetch(${JSON.stringify(`${baseURL()}${pathname}`)}, { headers: { authorization: ${JSON.stringify(`Bearer ${credential}`)} } })` +
        '.then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })))',
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  return JSON.parse(stdout) as { status: number; body: string };
}

async function selfHosted(): Promise<{ env: BetaEnvironment; key: string }> {
  const made = await selfHostedEnvironment(rig.client, 'behind-nat');
  expect(made.key).toMatch(/^drover-env-/);
  return made;
}

/** Whether a TCP connection from here to `host:port` opens within `ms`. */
function reachable(host: string, port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, ms);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

describe('a self-hosted worker Drover cannot reach', () => {
  it('runs a session’s command inside a network namespace that only connects out', async () => {
    const { env, key } = await selfHosted();
    const agent = await agentWithToolset(rig.client, 'far');
    rig.script.push(() => bash('ip -4 -o addr show dev eth0; echo from-the-namespace'));
    rig.script.push(() => endTurn('It ran over there.'));
    const worker = startNetnsWorker(env.id, key, 'worker-far');
    const session = await rig.client.beta.sessions.create({
      agent,
      environment_id: env.id,
      initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'Where are you?' }] }],
    });
    const id = uuidOf(session.id);
    await until(
      'the turn to end',
      () => rig.store.getEvents(id, { types: ['session.status_idle'] }).some((event) => JSON.stringify(event.payload).includes('end_turn')),
      60_000,
      worker.stderr,
    );
    const results = toolResultsIn(rig.model.requests[1]);
    expect(results).toContain('from-the-namespace');
    expect(results).toContain(workerAddress);
    // Drover's side cannot open a connection to the worker's machine (its firewall drops it).
    expect(await reachable(workerAddress, 22, 1500)).toBe(false);
    // …while the worker reached the API on this side (its hand.ready names it).
    const ready = rig.store.getEvents(id, { types: ['hand.ready'] })[0];
    expect(ready?.payload).toMatchObject({ hand_id: 'worker', container: workerAddress });
    expect(JSON.stringify(ready?.payload)).toContain('worker-far');
    // From over there, the API token reaches nothing: another machine may only be a worker.
    const fromThere = await fetchFromNetns('/v1/sessions', API_TOKEN);
    expect(fromThere.status).toBe(403);
    expect(fromThere.body).toContain('other machines may only run self-hosted workers');
  }, 90_000);

  it('answers a command whose worker in the namespace was SIGKILLed as interrupted, runs it once, and a second worker there reclaims the work', async () => {
    const { env, key } = await selfHosted();
    const agent = await agentWithToolset(rig.client, 'far');
    rig.script.push(() => bash('echo run >> runs.log; touch started; sleep 60; echo never >> runs.log'));
    rig.script.push((request) => {
      const seen = toolResultsIn(request);
      return seen.includes('Interrupted')
        ? bash('ip -4 -o addr show dev eth0; echo second | tee second.txt; cat runs.log')
        : endTurn(`not interrupted: ${seen}`);
    });
    rig.script.push(() => endTurn('Carried on.'));
    const first = startNetnsWorker(env.id, key, 'worker-a');
    const session = await rig.client.beta.sessions.create({
      agent,
      environment_id: env.id,
      initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'Run the long job' }] }],
    });
    const id = uuidOf(session.id);
    await until('the command to start on the first worker', () => existsSync(path.join(workdir, 'started')), 60_000, first.stderr);
    first.kill();

    // The lease (3 s) expires: hand.lost and an interrupted result naming the lost worker; the work is queued again.
    const interrupted = await until(
      'the interrupted result',
      () =>
        rig.store
          .getEvents(id, { types: ['agent.tool_result'] })
          .find((event) => JSON.stringify(event.payload).includes('"status":"interrupted"')),
      60_000,
      first.stderr,
    );
    expect(interrupted.payload).toMatchObject({ is_error: true, status: 'interrupted' });
    expect(JSON.stringify(interrupted.payload)).toContain('worker-a');
    expect(JSON.stringify(rig.store.getEvents(id, { types: ['hand.lost'] })[0]?.payload)).toContain('worker-a');
    // What the model was told about the killed command.
    const told = toolResultsIn(await until('the model’s next request', () => rig.model.requests[1], 30_000));
    const text =
      'Interrupted: the self-hosted worker worker-a running this tool stopped answering (its 3 s lease expired), ' +
      "so the tool's outcome is unknown. It was not run again. Check its effects before running it again.";
    expect(interrupted.payload).toMatchObject({ content: [{ type: 'text', text }] });
    expect(told).toContain(JSON.stringify(text));

    const second = startNetnsWorker(env.id, key, 'worker-b');
    await until(
      'the turn to end',
      () =>
        rig.store
          .getEvents(id, { limit: 1000 })
          .some((event) => event.type === 'session.status_idle' && event.payload.stop_reason.type === 'end_turn'),
      60_000,
      second.stderr,
    );
    expect(rig.model.requests).toHaveLength(3);
    expect(readFileSync(path.join(workdir, 'second.txt'), 'utf8')).toBe('second\n');
    // The killed command ran once (its marker line is written once) and the second worker did not re-run it.
    expect(readFileSync(path.join(workdir, 'runs.log'), 'utf8')).toBe('run\n');
    const carried = toolResultsIn(rig.model.requests[2]);
    expect(carried).toContain('second');
    expect(carried).toContain(workerAddress); // the next command ran in the namespace too
    const ready = rig.store.getEvents(id, { types: ['hand.ready'] }).map((event) => JSON.stringify(event.payload));
    expect(ready.some((text) => text.includes('worker-a') && text.includes(workerAddress))).toBe(true);
    expect(ready.some((text) => text.includes('worker-b') && text.includes(workerAddress))).toBe(true);

    // The killed command's `sleep 60` outlived its worker (the SDK's bash tool runs it in a group of its
    // own): the test ends it and leaves nothing running in the workdir.
    second.kill();
    expect(commandsIn(workdir)).toContain('sleep 60');
    expect(await endProcessesIn(workdir)).toBeGreaterThan(0);
    expect(processesIn(workdir)).toEqual([]);
  }, 120_000);

  it('refuses a wrong or revoked environment key from the namespace and claims nothing', async () => {
    const { env, key } = await selfHosted();
    const agent = await agentWithToolset(rig.client, 'far');
    const session = await rig.client.beta.sessions.create({ agent, environment_id: env.id });
    const poll = `/v1/environments/${env.id}/work/poll`;
    const untouched = async (): Promise<void> =>
      expect(await rig.client.beta.environments.work.stats(env.id)).toMatchObject({ depth: 1, pending: 0 });
    await untouched();
    // From another machine a credential that is not a live environment key meets the off-machine gate
    // (server.ts): 403 permission_error saying only workers with an environment key get in.
    const refusedThere = (answer: { status: number; body: string }): void => {
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
      expect(answer.body).toContain('other machines may only run self-hosted workers, with an environment key');
    };

    // A wrong key.
    const wrong = await fetchFromNetns(poll, 'drover-env-not-the-key');
    refusedThere(wrong);
    await untouched();

    // A key revoked by minting a new one, then the new one revoked outright.
    const minted = (await rig.client.post(`/v1/environments/${env.id}/environment_key`)) as { key: string };
    expect(minted.key).not.toBe(key);
    const replaced = await fetchFromNetns(poll, key);
    refusedThere(replaced);
    await untouched();
    await rig.client.delete(`/v1/environments/${env.id}/environment_key`);
    const revoked = await fetchFromNetns(poll, minted.key);
    refusedThere(revoked);
    await untouched();

    // The SDK's worker itself, run in there with the revoked key, claims nothing either.
    // It stops for good (a refusal is not retried) with the API's message.
    const refused = startNetnsWorker(env.id, minted.key, 'worker-revoked');
    const code = await until('the refused worker to stop', () => refused.child.exitCode ?? false, 30_000, refused.stderr);
    expect(code).toBe(1);
    expect(refused.stderr()).toContain('worker stopped: PermissionDeniedError: 403');
    expect(refused.stderr()).toContain('only run self-hosted workers, with an environment key');
    await untouched();
    expect(rig.store.getEvents(uuidOf(session.id), { types: ['hand.ready'] })).toEqual([]);
  }, 90_000);
});
