// A Docker hand with a git repository, end to end on real parts: the Docker engine, an image with
// git built on this machine, a git server that requires a token (git http-backend), Drover's git
// proxy, and the registry with a real session store. The vault is represented by what the hand
// depends on, a SecretResolver, here holding the token in a Map.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import type { EventOf, EventType } from '#shared/events';
import type { SecretId } from '#shared/vault';
import { GitProxy } from '#services/git/proxy';
import type { Hand, ToolOutcome } from '#services/hands/hand';
import { HandRegistry, type HandRegistryOptions } from '#services/hands/registry';
import { SessionStore } from '#services/session/store';
import type { SecretResolver } from '#services/vault/resolver';
import {
  BASH_IMAGE,
  dockerCli,
  ensureGitImage,
  GIT_IMAGE,
  gitImageUnavailableReason,
  removeInstanceObjects,
  requireDocker,
} from '#test/support/docker';
import { gitServerUnavailableReason, startGitServer, type GitServer } from '#test/support/git-server';
import { requirePart, tempDir } from '#test/support/system';
import { DockerEngine, instanceIdOf, LABELS } from './engine.ts';

const ready =
  (await requireDocker()) && requirePart('git (client and http-backend)', gitServerUnavailableReason() ?? gitImageUnavailableReason());
if (ready) ensureGitImage();

const TOKEN = `glpat-${randomBytes(18).toString('hex')}`;
const TOKEN_FORMS = [TOKEN, Buffer.from(`x-access-token:${TOKEN}`).toString('base64')];
const SECRET: SecretId = 'sec_0123456789abcdef';
const REPO_PATH = '/workspace/app';

/** The vault as the hand sees it: values by id, each use recorded with its purpose. */
class MapSecrets implements SecretResolver {
  readonly uses: Array<{ id: SecretId; purpose: string }> = [];
  constructor(readonly values: Map<SecretId, string>) {}
  reveal(id: SecretId, purpose: string): Promise<string> {
    this.uses.push({ id, purpose });
    const value = this.values.get(id);
    return value === undefined
      ? Promise.reject(new AppError('not-found', `There is no secret ${id} in the vault.`))
      : Promise.resolve(value);
  }
}

let server: GitServer;
let proxy: GitProxy;
const proxyLogs: string[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  if (!ready) return;
  server = await startGitServer({ token: TOKEN });
  server.createBareRepo('app.git', { 'README.md': '# app\n', 'src/main.sh': 'echo hello\n' });
  proxy = new GitProxy({ log: (line) => proxyLogs.push(line) });
});

afterAll(async () => {
  await proxy?.close();
  await server?.close();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Rig {
  store: SessionStore;
  registry: HandRegistry;
  engine: DockerEngine;
  sessionId: string;
  secrets: MapSecrets;
  run(input: Record<string, unknown>, options?: { sessionId?: string; registry?: HandRegistry }): Promise<ToolOutcome & { text: string }>;
  events<K extends EventType>(type: K, sessionId?: string): Array<EventOf<K>>;
  containers(): string[];
  /** A second registry on the same store (a restart of Drover), closed with the rig. */
  restart(options: Partial<HandRegistryOptions>): HandRegistry;
}

function rig(options: { image?: string; network?: 'none' | 'bridge'; token?: string; keep?: Partial<HandRegistryOptions> } = {}): Rig {
  const dir = tempDir('drover-git-hands-');
  const store = SessionStore.open({ dataDir: dir });
  const instance = instanceIdOf(dir);
  const engine = new DockerEngine({ instance });
  const secrets = new MapSecrets(new Map([[SECRET, options.token ?? TOKEN]]));
  const registries: HandRegistry[] = [];
  const make = (extra: Partial<HandRegistryOptions>): HandRegistry => {
    const made = new HandRegistry({ store, docker: engine, secrets, gitProxy: proxy, log: () => undefined, ...extra });
    registries.push(made);
    return made;
  };
  const registry = make(options.keep ?? {});
  const { id: sessionId } = store.createSession({ title: 'git hands' });
  registry.attach(sessionId, {
    name: 'box',
    config: {
      kind: 'docker',
      image: options.image ?? GIT_IMAGE,
      network: options.network ?? 'bridge',
      repos: [{ url: server.url('app.git'), token_secret_id: SECRET, path: REPO_PATH }],
    },
  });
  const r: Rig = {
    store,
    registry,
    engine,
    sessionId,
    secrets,
    async run(input, { sessionId: session = sessionId, registry: which = registry } = {}) {
      const hand = (await which.handsFor(session)).find((candidate) => candidate.id === 'box') as Hand;
      const outcome = await hand.execute('box__bash', input, { signal: new AbortController().signal });
      return { ...outcome, text: outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n') };
    },
    events: <K extends EventType>(type: K, session = sessionId) => store.getEvents(session, { types: [type] }) as Array<EventOf<K>>,
    containers: () => dockerCli('ps', '-aq', '--filter', `label=${LABELS.instance}=${instance}`).split('\n').filter(Boolean),
    restart: make,
  };
  cleanups.push(async () => {
    for (const made of registries) await made.close();
    await new HandRegistry({ store, docker: new DockerEngine({ instance }), log: () => undefined }).cleanUp();
    removeInstanceObjects(instance); // the snapshots of sessions that still exist
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return r;
}

function holdsToken(text: string | Buffer): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  return TOKEN_FORMS.some((form) => bytes.includes(form));
}

/** Runs `script` in the container while another loop writes every process's command line and environment to /tmp/ps.txt. */
function whileWatchingProcesses(script: string): string {
  return [
    'rm -f /tmp/run.rc /tmp/ps.txt',
    `{ (${script}) > /tmp/run.log 2>&1; echo $? > /tmp/run.rc; } &`,
    'while [ ! -f /tmp/run.rc ]; do',
    '  for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do tr "\\000" " " < "$f" 2>/dev/null; echo; done >> /tmp/ps.txt',
    'done; wait',
    'cat /tmp/run.log; echo "rc=$(cat /tmp/run.rc)"',
  ].join('\n');
}

const COMMIT = '-c user.name=Model -c user.email=model@drover.invalid commit -q';

describe.runIf(ready)('a Docker hand with a git repository', () => {
  it('clones it into a fresh container; the container commits and pushes through the proxy; the token is nowhere in the hand', async () => {
    const r = rig();
    const first = await r.run({
      command: `cat ${REPO_PATH}/README.md; git -C ${REPO_PATH} log --format=%s; git -C ${REPO_PATH} remote get-url origin; env`,
    });
    expect(first.isError).toBe(false);
    expect(first.text).toMatch(/^# app\nInitial commit\nhttp:\/\/\d+\.\d+\.\d+\.\d+:\d+\/[0-9a-f]{32}\/\n/);
    expect(r.events('hand.provisioning').map((event) => event.payload)).toContainEqual({
      hand_id: 'box',
      phase: 'cloning',
      message: `Cloning ${server.url('app.git')}`,
    });
    expect(r.secrets.uses).toContainEqual({ id: SECRET, purpose: `git clone/fetch/push for ${server.url('app.git')}` });

    const pushed = await r.run({
      command: whileWatchingProcesses(
        `cd ${REPO_PATH} && echo change > change.txt && git add -A && git ${COMMIT} -m 'From the container' && git push origin HEAD:refs/heads/from-container`,
      ),
      timeout_seconds: 60,
    });
    expect(pushed.text).toContain('[new branch]');
    expect(pushed.text).toContain('rc=0');
    expect(server.git('app.git', 'log', '--format=%s', 'from-container')).toBe('From the container\nInitial commit');

    const container = r.events('hand.ready')[0]?.payload.container ?? '';
    // Processes during the push: the watcher saw git's http transport at work, never the token.
    const processes = dockerCli('exec', container, 'cat', '/tmp/ps.txt');
    expect(processes).toMatch(/git-remote-https? origin http:\/\/[\d.]+:\d+\/[0-9a-f]{32}\//);
    expect(holdsToken(processes)).toBe(false);
    // The container's configuration and environment, every file in it, the session log, the proxy's log.
    expect(holdsToken(dockerCli('inspect', container))).toBe(false);
    expect(holdsToken(first.text)).toBe(false);
    const filesystem = execFileSync('docker', ['export', container], { maxBuffer: 1024 * 1024 * 1024 });
    expect(filesystem.includes(`${REPO_PATH.slice(1)}/.git/config`)).toBe(true);
    expect(holdsToken(filesystem)).toBe(false);
    expect(holdsToken(JSON.stringify(r.store.getEvents(r.sessionId)))).toBe(false);
    expect(proxyLogs.some((line) => line.includes('app.git POST git-receive-pack → 200'))).toBe(true);
    expect(holdsToken(proxyLogs.join('\n'))).toBe(false);
  });

  it('a fork restored from a snapshot has the files and can still push (origin re-pointed)', async () => {
    const r = rig();
    await r.run({ command: `cd ${REPO_PATH} && echo forked > forked.txt && git add -A && git ${COMMIT} -m 'Before the fork'` });
    const parentOrigin = (await r.run({ command: `git -C ${REPO_PATH} remote get-url origin` })).text.split('\n')[0];
    const idle = r.store.emitEvent(r.sessionId, { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } });
    await r.registry.settled();
    expect(r.events('hand.snapshot')).toHaveLength(1);

    const fork = r.store.fork(r.sessionId, idle.seq);
    const pushed = await r.run(
      {
        command: `cd ${REPO_PATH} && git log --format=%s -1 && git remote get-url origin && git push -q origin HEAD:refs/heads/from-fork && echo pushed`,
        timeout_seconds: 60,
      },
      { sessionId: fork.id },
    );
    expect(pushed.isError).toBe(false);
    const [message, forkOrigin] = pushed.text.split('\n');
    expect(message).toBe('Before the fork');
    expect(forkOrigin).toMatch(/^http:\/\/[\d.]+:\d+\/[0-9a-f]{32}\/$/);
    expect(forkOrigin).not.toBe(parentOrigin);
    expect(pushed.text).toContain('pushed\n');
    expect(server.git('app.git', 'log', '--format=%s', 'from-fork')).toBe('Before the fork\nInitial commit');
    // Restored, not cloned again.
    const forkEvents = r.store.getEvents(fork.id).filter((event) => event.seq > idle.seq);
    expect(forkEvents.find((event) => event.type === 'hand.ready')).toMatchObject({
      payload: { restored_from: { session_id: r.sessionId, at_seq: idle.seq } },
    });
    expect(forkEvents.filter((event) => event.type === 'hand.provisioning' && event.payload.phase === 'cloning')).toEqual([]);
  });

  it('a fork restored from a checkpoint has the files and can still push (origin re-pointed, not cloned again)', async () => {
    const r = rig();
    // A tool call as the harness records it: its result is what the checkpoint is taken at.
    const command = `cd ${REPO_PATH} && echo forked > forked.txt && git add -A && git ${COMMIT} -m 'Before the fork'`;
    r.store.emitEvent(r.sessionId, {
      type: 'agent.tool_use',
      payload: { tool_use_id: 'toolu_git1', name: 'box__bash', input: { command }, hand_id: 'box' },
    });
    const ran = await r.run({ command });
    const result = r.store.emitEvent(r.sessionId, {
      type: 'agent.tool_result',
      payload: { tool_use_id: 'toolu_git1', content: ran.content, is_error: ran.isError },
    });
    await r.registry.settled();
    expect(r.events('hand.checkpoint').map((event) => event.payload.at_seq)).toEqual([result.seq]);

    const fork = r.store.fork(r.sessionId, result.seq);
    const pushed = await r.run(
      {
        command: `cd ${REPO_PATH} && git log --format=%s -1 && git status --porcelain && git push -q origin HEAD:refs/heads/from-checkpoint && echo pushed`,
        timeout_seconds: 60,
      },
      { sessionId: fork.id },
    );
    expect(pushed.isError).toBe(false);
    expect(pushed.text).toMatch(/^Before the fork\npushed\n/);
    expect(server.git('app.git', 'log', '--format=%s', 'from-checkpoint')).toBe('Before the fork\nInitial commit');
    const forkEvents = r.store.getEvents(fork.id).filter((event) => event.seq > result.seq);
    expect(forkEvents.find((event) => event.type === 'hand.ready')).toMatchObject({
      payload: { restored_from: { session_id: r.sessionId, at_seq: result.seq } },
    });
    expect(forkEvents.filter((event) => event.type === 'hand.provisioning' && event.payload.phase === 'cloning')).toEqual([]);
  });

  it('a kept container reused after a restart fetches through the new proxy', async () => {
    const dir = tempDir('drover-git-keep-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const keep = { keepAliveMs: 60_000, keepFile: path.join(dir, 'kept.json') };
    const r = rig({ keep });
    await r.run({ command: `echo kept > ${REPO_PATH}/kept.txt` });
    const before = (await r.run({ command: `git -C ${REPO_PATH} remote get-url origin` })).text.split('\n')[0] ?? '';
    await r.registry.close(); // keeps the container running

    // Drover restarts: a new proxy (a new port, new capabilities); the old URL is dead.
    const restarted = new GitProxy();
    cleanups.push(() => restarted.close());
    const again = r.restart({ ...keep, gitProxy: restarted });
    const result = await r.run(
      {
        command: `cat ${REPO_PATH}/kept.txt && git -C ${REPO_PATH} remote get-url origin && git -C ${REPO_PATH} fetch -q origin && echo fetched`,
      },
      { registry: again },
    );
    expect(result.isError).toBe(false);
    const [kept, after] = result.text.split('\n');
    expect(kept).toBe('kept');
    expect(after).not.toBe(before);
    expect(new URL(after ?? '').port).not.toBe(new URL(before).port); // both proxies are listening: ports differ
    expect(result.text).toContain('fetched\n');
    expect(r.events('hand.ready').at(-1)?.payload.detail).toContain('kept from before Drover restarted');
  });

  it('refuses a repository on a hand without network, clearly, before starting anything', async () => {
    const r = rig({ network: 'none' });
    const result = await r.run({ command: 'true' });
    expect(result.isError).toBe(true);
    expect(result.text).toContain('This hand brings a git repository but has network "none": a repository needs network "bridge"');
    expect(r.events('hand.failed')[0]?.payload.message).toContain('needs network "bridge"');
    expect(r.containers()).toEqual([]);
  });

  it('says clearly when the token is refused, and leaves no container behind', async () => {
    const r = rig({ token: 'not-the-token' });
    const result = await r.run({ command: 'true' });
    expect(result.isError).toBe(true);
    expect(result.text).toContain(
      `The git server refused the token in the vault secret ${SECRET}: check it has read access to ${server.url('app.git')}`,
    );
    expect(r.events('hand.failed')[0]?.payload.message).toContain('refused the token');
    expect(r.containers()).toEqual([]);
  });

  it('in an image without git: the files are there, and the hand says fetch and push need git', async () => {
    const r = rig({ image: BASH_IMAGE });
    const result = await r.run({ command: `cat ${REPO_PATH}/README.md; ls -a ${REPO_PATH}` });
    expect(result.isError).toBe(false);
    expect(result.text).toContain(
      'Note: git is not installed in the container (image drover-test/bash:1): the files of /workspace/app are there, but fetch and push need git in the image.',
    );
    expect(result.text).toContain('# app\n');
    expect(result.text).toContain('.git\n');
    expect(r.registry.statuses(r.sessionId)[0]?.detail).toContain('fetch and push need git in the image');
  });
});
