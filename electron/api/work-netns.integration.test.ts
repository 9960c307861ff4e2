/**
 * The SDK's reference worker on "another machine": a network namespace joined to this computer by a
 * veth pair, whose firewall drops every connection that it did not open itself — the worker reaches
 * Drover's API (served on this side's veth address), Drover cannot reach the worker. A session's
 * command runs in there and its result reaches the model.
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
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

const root = path.resolve(import.meta.dirname, '../..');
const slot = randomBytes(2).readUInt16BE(0) % 16_384; // a /30 of 10.215.0.0/16
const hostAddress = `10.215.${slot >> 6}.${((slot & 63) << 2) + 1}`;
const workerAddress = `10.215.${slot >> 6}.${((slot & 63) << 2) + 2}`;
const name = `drover-w${randomBytes(3).toString('hex')}`;
const hostVeth = `dw${randomBytes(3).toString('hex')}`;

let rig: ApiRig;
let outer: RunningApi;
let worker: ChildProcess | null = null;
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
  if (worker?.pid !== undefined && worker.exitCode === null) {
    try {
      process.kill(-worker.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  worker = null;
  await outer.close();
  await rig.close();
  spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
  spawnSync('ip', ['link', 'delete', hostVeth], { stdio: 'ignore' });
  rmSync(workdir, { recursive: true, force: true });
});

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
    const env = (await rig.client.beta.environments.create({ name: 'behind-nat', config: { type: 'self_hosted' } })) as BetaEnvironment & {
      environment_key?: string;
    };
    const agent = await rig.client.beta.agents.create({
      name: 'far',
      model: 'claude-sonnet-4-6',
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    rig.script.push(() => ({
      kind: 'message',
      message: {
        content: [{ type: 'tool_use', name: 'bash', input: { command: 'ip -4 -o addr show dev eth0; echo from-the-namespace' } }],
        stop_reason: 'tool_use',
      },
    }));
    rig.script.push(() => endTurn('It ran over there.'));
    const baseURL = `http://${hostAddress}:${outer.port}`;
    let stderr = '';
    worker = spawn(
      'nsenter',
      [
        `--net=/var/run/netns/${name}`,
        process.execPath,
        '--import',
        'tsx',
        'test/support/worker-child.ts',
        baseURL,
        env.id,
        env.environment_key ?? '',
        workdir,
        'worker-far',
      ],
      { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    worker.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const session = await rig.client.beta.sessions.create({
      agent: agent.id,
      environment_id: env.id,
      initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'Where are you?' }] }],
    });
    const hex = session.id.replace(/^sesn_/, '');
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const deadline = Date.now() + 60_000;
    while (
      !rig.store.getEvents(id, { types: ['session.status_idle'] }).some((event) => JSON.stringify(event.payload).includes('end_turn'))
    ) {
      if (Date.now() > deadline) throw new Error(`the turn did not end: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const results = JSON.stringify(rig.model.requests[1]?.body.messages ?? []);
    expect(results).toContain('from-the-namespace');
    expect(results).toContain(workerAddress);
    // Drover's side cannot open a connection to the worker's machine (its firewall drops it).
    expect(await reachable(workerAddress, 22, 1500)).toBe(false);
    // …while the worker reached the API on this side (its hand.ready names it).
    const ready = rig.store.getEvents(id, { types: ['hand.ready'] })[0];
    expect(ready?.payload).toMatchObject({ hand_id: 'worker', container: workerAddress });
    expect(JSON.stringify(ready?.payload)).toContain('worker-far');
    // From over there, the API token reaches nothing: another machine may only be a worker.
    // (Asynchronously: the API answering it runs in this process.)
    const { stdout: fromThere } = await promisify(execFile)(
      'nsenter',
      [
        `--net=/var/run/netns/${name}`,
        process.execPath,
        '-e',
        `fetch(${JSON.stringify(`${baseURL}/v1/sessions`)}, { headers: { authorization: 'Bearer ${API_TOKEN}' } }).then(async (r) => console.log(r.status, await r.text()))`,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(fromThere).toMatch(/^403 .*other machines may only run self-hosted workers/);
  }, 90_000);
});
