// Settings → Local API over a real host, store and vault: the API server as the settings say, the
// official SDK as the client, tokens and settings in 0600 files, a taken port refused in words with
// nothing saved, the image cloud environments run (applied to the next session's Docker hand), and
// the RPC methods the UI calls (no token crosses them but the new one, once).
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHost, type Host } from '#rpc/host';
import { createLocalApiHandlers } from '#rpc/local-api-handlers';
import { ManagedDb } from '#services/managed/db';
import { DEFAULT_ENVIRONMENT_IMAGE } from '#services/managed/environment-hand';
import { SessionStore } from '#services/session/store';
import { Vault } from '#services/vault/vault';
import { DEFAULT_LOCAL_API_PORT, type LocalApiStatus } from '#shared/local-api';
import { isAppError } from '#shared/errors';
import { internalId } from '#api/ids';
import { BASH_IMAGE, BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import { apiRig } from '#test/support/api-rig';
import { FileKeySource } from '#test/support/file-key-source';
import { freePort } from '#test/support/mcp';
import { tempDir } from '#test/support/system';
import { LOCAL_API_SETTINGS_FILE, LocalApi } from './local-api.ts';
import { API_TOKEN_FILE } from './start.ts';

interface Fixture {
  dir: string;
  store: SessionStore;
  vault: Vault;
  managed: ManagedDb;
  host: Host;
  localApi: LocalApi;
  logged: string[];
  /** Another LocalApi on the same data folder (a restart); closed with the fixture. */
  reopen(): LocalApi;
}

let fixture: Fixture;
const extra: LocalApi[] = [];
const blockers: Server[] = [];

function open(): Fixture {
  const dir = tempDir('drover-local-api-');
  const store = SessionStore.open({ dataDir: dir });
  const vault = Vault.open({ dataDir: dir, keySource: new FileKeySource(path.join(dir, 'vault.key')), log: () => undefined });
  const managed = ManagedDb.open(dir);
  const logged: string[] = [];
  const log = (line: string) => logged.push(line);
  let host: Host | null = null;
  const make = () =>
    new LocalApi({
      dataDir: dir,
      context: () => {
        if (host === null) throw new Error('no host yet');
        return { host, store, managed, vault, log };
      },
      log,
    });
  const localApi = make();
  host = createHost({
    store,
    vault,
    info: { version: 'test', dataDir: dir, platform: process.platform },
    keyProvider: () => 'sk-ant-unused',
    localApi,
    push: () => undefined,
    log: () => undefined,
  });
  return {
    dir,
    store,
    vault,
    managed,
    host,
    localApi,
    logged,
    reopen() {
      const again = make();
      extra.push(again);
      return again;
    },
  };
}

beforeEach(() => {
  fixture = open();
});

afterEach(async () => {
  for (const again of extra.splice(0)) await again.close();
  for (const blocker of blockers.splice(0)) await new Promise((resolve) => blocker.close(resolve));
  await fixture.localApi.close();
  for (const session of fixture.store.listSessions()) await fixture.host.hands.sessionDeleted(session.id);
  await fixture.host.close();
  fixture.managed.close();
  await fixture.vault.close();
  fixture.store.close();
  rmSync(fixture.dir, { recursive: true, force: true });
});

const mode = (file: string) => statSync(path.join(fixture.dir, file)).mode & 0o777;
const client = (status: LocalApiStatus, token: string) =>
  new Anthropic({ baseURL: status.baseURL ?? 'http://invalid', apiKey: token, maxRetries: 0 });

/** What an SDK call gets: the agents page's items when the API answers, else the SDK's error. */
async function listAgents(status: LocalApiStatus, token: string): Promise<unknown> {
  return client(status, token)
    .beta.agents.list()
    .then(
      (page) => page.data,
      (error: unknown) => error,
    );
}

/** Reached with the right token: a real page of agents, empty (no test here makes one). */
function expectReached(outcome: unknown): void {
  expect(outcome).toEqual([]);
}

async function occupy(port: number): Promise<void> {
  const blocker = createServer();
  await new Promise<void>((resolve, reject) => {
    blocker.once('error', reject);
    blocker.listen(port, '127.0.0.1', resolve);
  });
  blockers.push(blocker);
}

async function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('the Local API', () => {
  it('is off by default: nothing listens, no token, no files', () => {
    expect(fixture.localApi.status()).toEqual({
      enabled: false,
      port: DEFAULT_LOCAL_API_PORT,
      baseURL: null,
      running: false,
      error: null,
      tokenHint: null,
      environment_image: DEFAULT_ENVIRONMENT_IMAGE,
    });
    expect(existsSync(path.join(fixture.dir, LOCAL_API_SETTINGS_FILE))).toBe(false);
    expect(existsSync(path.join(fixture.dir, API_TOKEN_FILE))).toBe(false);
  });

  it('turned on, answers the SDK with its token (0600 files) and refuses a wrong one; turned off, refuses connections', async () => {
    const port = await freePort();
    const { token } = await fixture.localApi.rotateToken();
    const status = await fixture.localApi.configure({ enabled: true, port });
    expect(status).toEqual({
      enabled: true,
      port,
      baseURL: `http://127.0.0.1:${port}`,
      running: true,
      error: null,
      tokenHint: token.slice(-4),
      environment_image: DEFAULT_ENVIRONMENT_IMAGE,
    });
    expect(mode(LOCAL_API_SETTINGS_FILE)).toBe(0o600);
    expect(mode(API_TOKEN_FILE)).toBe(0o600);
    expect(JSON.parse(readFileSync(path.join(fixture.dir, LOCAL_API_SETTINGS_FILE), 'utf8'))).toEqual({
      version: 2,
      enabled: true,
      port,
      environment_image: DEFAULT_ENVIRONMENT_IMAGE,
    });
    expect(readFileSync(path.join(fixture.dir, API_TOKEN_FILE), 'utf8').trim()).toBe(token);

    expectReached(await listAgents(status, token));
    expect(await listAgents(status, 'not-the-token-0123456789abcdef')).toBeInstanceOf(Anthropic.AuthenticationError);

    const off = await fixture.localApi.configure({ enabled: false, port });
    expect(off).toMatchObject({ enabled: false, running: false, baseURL: null, error: null });
    expect(await refused(port)).toBe(true);
    expect(JSON.parse(readFileSync(path.join(fixture.dir, LOCAL_API_SETTINGS_FILE), 'utf8'))).toEqual({
      version: 2,
      enabled: false,
      port,
      environment_image: DEFAULT_ENVIRONMENT_IMAGE,
    });
  });

  it('makes a token of its own when turned on without one, and never logs it', async () => {
    const status = await fixture.localApi.configure({ enabled: true, port: await freePort() });
    const token = readFileSync(path.join(fixture.dir, API_TOKEN_FILE), 'utf8').trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(status.tokenHint).toBe(token.slice(-4));
    expectReached(await listAgents(status, token));
    expect(fixture.logged.join('\n')).not.toContain(token);
  });

  it('a new token works at once; the old one is refused at once, and a connection opened with it is closed', async () => {
    const port = await freePort();
    const first = (await fixture.localApi.rotateToken()).token;
    const status = await fixture.localApi.configure({ enabled: true, port });
    expectReached(await listAgents(status, first));

    // A connection held open (as a stream would be) across the rotation.
    const held = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => held.once('connect', resolve).once('error', reject));
    const closed = new Promise<void>((resolve) => held.once('close', () => resolve()));
    held.on('error', () => undefined);

    const rotated = await fixture.localApi.rotateToken();
    expect(rotated.token).not.toBe(first);
    expect(rotated.status).toMatchObject({ running: true, port, tokenHint: rotated.token.slice(-4) });
    await closed;
    expect(await listAgents(status, first)).toBeInstanceOf(Anthropic.AuthenticationError);
    expectReached(await listAgents(status, rotated.token));
    expect(readFileSync(path.join(fixture.dir, API_TOKEN_FILE), 'utf8').trim()).toBe(rotated.token);
    expect(mode(API_TOKEN_FILE)).toBe(0o600);
  });

  it('a port in use is refused in words; nothing is saved and what ran goes on running', async () => {
    const taken = await freePort();
    await occupy(taken);
    const error = await fixture.localApi.configure({ enabled: true, port: taken }).catch((caught: unknown) => caught);
    expect(isAppError(error)).toBe(true);
    expect((error as Error).message).toBe(`Port ${taken} is in use: pick another (another program, or another Drover, listens there).`);
    expect(fixture.localApi.status()).toMatchObject({ enabled: false, running: false });
    expect(existsSync(path.join(fixture.dir, LOCAL_API_SETTINGS_FILE))).toBe(false);

    const port = await freePort();
    const token = (await fixture.localApi.rotateToken()).token;
    const on = await fixture.localApi.configure({ enabled: true, port });
    await expect(fixture.localApi.configure({ enabled: true, port: taken })).rejects.toThrow(`Port ${taken} is in use: pick another`);
    expect(fixture.localApi.status()).toEqual(on);
    expectReached(await listAgents(on, token));
    expect(JSON.parse(readFileSync(path.join(fixture.dir, LOCAL_API_SETTINGS_FILE), 'utf8'))).toMatchObject({ enabled: true, port });
  });

  it('moves to another port: the old one stops answering, the token stays', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const token = (await fixture.localApi.rotateToken()).token;
    await fixture.localApi.configure({ enabled: true, port: a });
    const moved = await fixture.localApi.configure({ enabled: true, port: b });
    expect(moved).toMatchObject({ running: true, port: b, baseURL: `http://127.0.0.1:${b}` });
    expect(await refused(a)).toBe(true);
    expectReached(await listAgents(moved, token));
  });

  it('starts as saved at the next start; a port taken meanwhile is reported in the status, not thrown', async () => {
    const port = await freePort();
    const token = (await fixture.localApi.rotateToken()).token;
    await fixture.localApi.configure({ enabled: true, port });
    await fixture.localApi.close();

    const again = fixture.reopen();
    expect(again.status()).toMatchObject({ enabled: true, port, running: false, tokenHint: token.slice(-4) });
    const started = await again.start();
    expect(started).toMatchObject({ enabled: true, port, running: true, error: null });
    expectReached(await listAgents(started, token));
    await again.close();

    await occupy(port);
    const blocked = await fixture.reopen().start();
    expect(blocked).toMatchObject({ enabled: true, running: false, baseURL: null });
    expect(blocked.error).toBe(`Port ${port} is in use: pick another (another program, or another Drover, listens there).`);
  });

  it("serve's --api-port runs it on that port for the run without saving; --api-token is kept as the token", async () => {
    const explicit = 'explicit-api-token-0123456789';
    const status = await fixture.localApi.start({ port: 0, token: explicit });
    expect(status).toMatchObject({ enabled: true, running: true, tokenHint: '6789' });
    expect(status.port).toBeGreaterThan(0);
    expectReached(await listAgents(status, explicit));
    expect(existsSync(path.join(fixture.dir, LOCAL_API_SETTINGS_FILE))).toBe(false);
    expect(readFileSync(path.join(fixture.dir, API_TOKEN_FILE), 'utf8').trim()).toBe(explicit);
    await expect(fixture.reopen().start({ port: 0, token: 'short' })).rejects.toThrow(/16–256 characters/);
  });

  it('a damaged settings file is reported and counts as off', async () => {
    const dir = fixture.dir;
    writeFileSync(path.join(dir, LOCAL_API_SETTINGS_FILE), '{"version":1,"enabled":true,"port":"x"}');
    const again = fixture.reopen();
    expect(again.status()).toMatchObject({ enabled: false, port: DEFAULT_LOCAL_API_PORT });
    expect(fixture.logged.some((line) => line.includes(LOCAL_API_SETTINGS_FILE) && line.includes('not valid'))).toBe(true);
  });
});

/** The image of the Docker hand an API session got, as its `hand.attached` event records it. */
function imageOf(store: SessionStore, session: { id: string }): string | null {
  const uuid = internalId('session', session.id);
  if (uuid === null) throw new Error(`not a session id: ${session.id}`);
  for (const event of store.getEvents(uuid, { types: ['hand.attached'] })) {
    if (event.type === 'hand.attached' && event.payload.config.kind === 'docker') return event.payload.config.image;
  }
  return null;
}

const settingsText = () => readFileSync(path.join(fixture.dir, LOCAL_API_SETTINGS_FILE), 'utf8');
const CLOUD = { type: 'cloud', networking: { type: 'unrestricted' } } as const;

describe('the image cloud environments run', () => {
  let docker = false;
  beforeAll(async () => {
    docker = await requireDocker();
  }, 120_000);

  it('is saved (0600) and applies to the next session: an environment without metadata runs it, a session made before keeps its own', async () => {
    if (!docker) return;
    const port = await freePort();
    const { token } = await fixture.localApi.rotateToken();
    const status = await fixture.localApi.configure({ enabled: true, port, environment_image: BUSYBOX_IMAGE });
    expect(status).toMatchObject({ running: true, port, environment_image: BUSYBOX_IMAGE });
    expect(mode(LOCAL_API_SETTINGS_FILE)).toBe(0o600);
    expect(JSON.parse(settingsText())).toEqual({ version: 2, enabled: true, port, environment_image: BUSYBOX_IMAGE });

    // The README's example: an environment with no metadata, an agent with the toolset, a session.
    const sdk = client(status, token);
    const environment = await sdk.beta.environments.create({ name: 'box', config: CLOUD });
    expect(environment.metadata).toEqual({});
    const agent = await sdk.beta.agents.create({
      name: 'builder',
      model: 'claude-sonnet-4-6',
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    const first = await sdk.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    expect(imageOf(fixture.store, first)).toBe(BUSYBOX_IMAGE);

    // Changed while it runs (same port, no restart): the next session runs the new image.
    const changed = await fixture.localApi.configure({ enabled: true, port, environment_image: BASH_IMAGE });
    expect(changed).toMatchObject({ running: true, port, environment_image: BASH_IMAGE });
    const second = await sdk.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    expect(imageOf(fixture.store, second)).toBe(BASH_IMAGE);
    expect(imageOf(fixture.store, first)).toBe(BUSYBOX_IMAGE);

    // A change that names no image keeps it; a restart reads it back.
    expect(await fixture.localApi.configure({ enabled: true, port })).toMatchObject({ environment_image: BASH_IMAGE });
    expect(JSON.parse(settingsText())).toMatchObject({ version: 2, environment_image: BASH_IMAGE });
    await fixture.localApi.close();
    expect(fixture.reopen().status()).toMatchObject({ enabled: true, port, environment_image: BASH_IMAGE });
  });

  it('a bad image is refused in words with nothing saved; the one in force stays', async () => {
    const port = await freePort();
    await fixture.localApi.configure({ enabled: true, port, environment_image: BUSYBOX_IMAGE });
    const saved = settingsText();
    const refusal = (image: string, enabled = true) =>
      fixture.localApi.configure({ enabled, port, environment_image: image }).then(
        () => null,
        (error: unknown) => error,
      );
    const bad = await refusal('Bad Image!');
    expect(isAppError(bad) && bad.code).toBe('invalid-argument');
    expect((bad as Error).message).toBe(
      '"Bad Image!" is not an image for cloud environments: an image reference is like "debian:bookworm" or "host:5000/team/image:tag".',
    );
    expect((await refusal('   ')) as Error).toMatchObject({ message: '"   " is not an image for cloud environments: choose an image.' });
    for (const image of ['-v /:/host', 'debian;rm -rf', `a${'b'.repeat(600)}`]) {
      expect(((await refusal(image)) as Error | null)?.message).toContain('is not an image for cloud environments');
    }
    // Turning it off with a bad image is refused too: it goes on running.
    expect(isAppError(await refusal('Bad Image!', false))).toBe(true);
    expect(settingsText()).toBe(saved);
    expect(fixture.localApi.status()).toMatchObject({ running: true, environment_image: BUSYBOX_IMAGE });
    await expect(fixture.reopen().start({ port: 0, image: 'Bad Image!' })).rejects.toThrow('is not an image for cloud environments');
    expect(settingsText()).toBe(saved);
  });

  it("serve's --api-image runs that image for the run without saving it", async () => {
    const status = await fixture.localApi.start({ port: 0, image: BUSYBOX_IMAGE });
    expect(status).toMatchObject({ running: true, environment_image: BUSYBOX_IMAGE });
    expect(fixture.localApi.defaultImage()).toBe(BUSYBOX_IMAGE);
    expect(existsSync(path.join(fixture.dir, LOCAL_API_SETTINGS_FILE))).toBe(false);
    expect(fixture.reopen().status().environment_image).toBe(DEFAULT_ENVIRONMENT_IMAGE);
  });

  it('an old settings file (version 1, no image) loads with the default image', () => {
    writeFileSync(path.join(fixture.dir, LOCAL_API_SETTINGS_FILE), '{"version":1,"enabled":false,"port":9123}\n');
    expect(fixture.reopen().status()).toMatchObject({ enabled: false, port: 9123, environment_image: DEFAULT_ENVIRONMENT_IMAGE });
    writeFileSync(path.join(fixture.dir, LOCAL_API_SETTINGS_FILE), '{"version":2,"enabled":false,"port":9123,"environment_image":"x y"}\n');
    expect(fixture.reopen().status()).toMatchObject({ port: DEFAULT_LOCAL_API_PORT, environment_image: DEFAULT_ENVIRONMENT_IMAGE });
    expect(fixture.logged.some((line) => line.includes('not valid'))).toBe(true);
  });
});

describe('the test rig’s default image', () => {
  it('is the image an API session’s environment without metadata runs', async () => {
    if (!(await requireDocker())) return;
    const rig = await apiRig({ defaultImage: BUSYBOX_IMAGE });
    try {
      const environment = await rig.client.beta.environments.create({ name: 'box', config: CLOUD });
      const agent = await rig.client.beta.agents.create({
        name: 'a',
        model: 'claude-sonnet-4-6',
        tools: [{ type: 'agent_toolset_20260401' }],
      });
      const session = await rig.client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
      expect(imageOf(rig.store, session)).toBe(BUSYBOX_IMAGE);
    } finally {
      await rig.close();
    }
  }, 120_000);
});

describe('the Local API over RPC', () => {
  it('status never carries the token; rotate returns the new one once; configure checks the port', async () => {
    const { dispatch } = fixture.host;
    const rotated = await dispatch('local-api-rotate-token', undefined);
    if (!rotated.ok) throw new Error(rotated.error.message);
    const { token } = rotated.result as { token: string };
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const port = await freePort();
    const configured = await dispatch('local-api-configure', { enabled: true, port });
    expect(configured).toMatchObject({ ok: true, result: { enabled: true, running: true, port, tokenHint: token.slice(-4) } });
    const status = await dispatch('local-api-status', undefined);
    expect(status).toMatchObject({ ok: true, result: { running: true, baseURL: `http://127.0.0.1:${port}` } });
    expect(JSON.stringify([configured, status])).not.toContain(token);

    const bad = await dispatch('local-api-configure', { enabled: true, port: 70_000 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(JSON.stringify(bad)).toContain('from 1 to 65535');
    const extraKey = await dispatch('local-api-configure', { enabled: true, port, token: 'x' });
    expect(extraKey).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    const badImage = await dispatch('local-api-configure', { enabled: true, port, environment_image: 'Bad Image!' });
    expect(badImage).toMatchObject({
      ok: false,
      error: { code: 'invalid-argument', message: expect.stringContaining('an image reference is like') },
    });
    const image = await dispatch('local-api-configure', {
      enabled: true,
      port,
      environment_image: 'registry.example.com:5000/team/tools:1.2',
    });
    expect(image).toMatchObject({
      ok: true,
      result: { running: true, port, environment_image: 'registry.example.com:5000/team/tools:1.2' },
    });

    const taken = await freePort();
    await occupy(taken);
    const inUse = await dispatch('local-api-configure', { enabled: true, port: taken });
    expect(inUse).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: expect.stringContaining(`Port ${taken} is in use: pick another`) },
    });
    expect(await dispatch('local-api-status', undefined)).toMatchObject({ ok: true, result: { running: true, port } });
  });

  it('a host without a Local API says so', async () => {
    const handlers = createLocalApiHandlers(undefined);
    await expect(Promise.resolve().then(() => handlers['local-api-status'](undefined))).rejects.toThrow(
      'This Drover was started without the Local API',
    );
  });
});
