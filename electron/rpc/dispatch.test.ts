// The dispatcher over the real handler table and a real store in a temp dir.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import { rpcMethods, type HandlerImpl } from '#shared/rpc';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import { HandRegistry } from '#services/hands/registry';
import { Harness } from '#services/harness/harness';
import { SessionStore } from '#services/session/store';
import { Credentials } from '#services/vault/credentials';
import { Redactor } from '#services/vault/redact';
import { tempDir } from '#test/support/system';
import { createDispatcher, type Dispatch } from './dispatch.ts';
import { createHandlers } from './handlers.ts';

let dir: string;
let store: SessionStore;
let harness: Harness;
let hands: HandRegistry;
let dispatch: Dispatch;
let logged: Array<[string, unknown]>;
let changed: string[];

beforeEach(() => {
  dir = tempDir('drover-rpc-');
  store = SessionStore.open({ dataDir: dir });
  harness = new Harness({ store, keyProvider: () => null });
  // No engine at this socket: hands are records here (their images are not checked; see hand-images.integration.test.ts).
  hands = new HandRegistry({
    store,
    docker: new DockerEngine({ instance: instanceIdOf(dir), socketPath: path.join(dir, 'no-docker.sock') }),
    log: () => undefined,
  });
  logged = [];
  changed = [];
  const handlers = createHandlers({
    store,
    harness,
    hands,
    credentials: noVault(),
    info: { version: '1.0.0', dataDir: dir, platform: 'linux' },
    onSessionsChanged: (id) => changed.push(id),
  });
  dispatch = createDispatcher(handlers, { error: (message, error) => logged.push([message, error]) });
});

afterEach(async () => {
  await harness.close();
  await hands.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Credentials without a vault: these tests are about dispatch (the vault has its own tests). */
function noVault(): Credentials {
  return new Credentials({
    vault: null,
    unavailable: 'no vault in this test',
    redactor: new Redactor(),
    environmentKey: () => null,
    testKey: async () => ({ ok: false, message: 'not tested' }),
  });
}

async function ok(name: string, arg?: unknown): Promise<unknown> {
  const outcome = await dispatch(name, arg);
  if (!outcome.ok) throw new Error(`${name} failed: ${outcome.error.message}`);
  return outcome.result;
}

describe('dispatch', () => {
  it('runs methods and their results match the contract', async () => {
    const created = rpcMethods['sessions-create'].result.parse(await ok('sessions-create', { title: '  Trip  ' }));
    expect(created.title).toBe('Trip');
    expect(changed).toEqual([created.id]);
    store.emitEvent(created.id, { type: 'user.message', payload: { content: [{ type: 'text', text: 'hi' }] } });
    const events = rpcMethods['sessions-events'].result.parse(await ok('sessions-events', { sessionId: created.id, query: { limit: 5 } }));
    expect(events.map((e) => e.type)).toEqual(['user.message']);
    const fork = rpcMethods['sessions-fork'].result.parse(await ok('sessions-fork', { sessionId: created.id, atSeq: 1 }));
    expect(rpcMethods['sessions-tree'].result.parse(await ok('sessions-tree', { sessionId: fork.id }))).toHaveLength(2);
    const exported = rpcMethods['sessions-export'].result.parse(await ok('sessions-export', { sessionId: fork.id }));
    expect(exported.fileName).toBe('Trip-fork-at-1.drover.jsonl');
    const imported = rpcMethods['sessions-import'].result.parse(await ok('sessions-import', { jsonl: exported.jsonl }));
    expect(imported.lastSeq).toBe(2);
    expect(rpcMethods['sessions-list'].result.parse(await ok('sessions-list'))).toHaveLength(3);
    expect(await ok('app-info')).toEqual({ version: '1.0.0', dataDir: dir, platform: 'linux' });
  });

  it('summarizes status and cost from the log, rewinds onto a current branch and switches back', async () => {
    const session = rpcMethods['sessions-create'].result.parse(await ok('sessions-create', { title: 'Costs' }));
    expect(session).toMatchObject({ status: 'new', costUsd: 0, stopReason: null, kind: 'root' });
    const usage = { input_tokens: 1_000_000, output_tokens: 100_000, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
    store.emitEvents(session.id, [
      { type: 'user.message', payload: { content: [{ type: 'text', text: 'hi' }] } },
      { type: 'session.status_running', payload: {} },
      {
        type: 'span.model_request_end',
        payload: { model: 'claude-sonnet-4-5', usage, stop_reason: 'max_tokens', is_error: false, duration_ms: 5 },
      },
    ]);
    const running = rpcMethods['sessions-get'].result.parse(await ok('sessions-get', { sessionId: session.id }));
    expect(running.status).toBe('running');
    expect(running.costUsd).toBeCloseTo(3 + 1.5, 6);
    store.emitEvents(session.id, [
      {
        type: 'span.model_request_end',
        payload: { model: 'claude-sonnet-4-5', usage, stop_reason: 'end_turn', is_error: false, duration_ms: 5 },
      },
      { type: 'session.status_idle', payload: { stop_reason: { type: 'max_tokens' } } },
    ]);
    const [listed] = rpcMethods['sessions-list'].result.parse(await ok('sessions-list'));
    expect(listed).toMatchObject({ status: 'idle', stopReason: 'max_tokens' });
    expect(listed?.costUsd).toBeCloseTo(9, 6);

    const timeline = rpcMethods['sessions-timeline'].result.parse(await ok('sessions-timeline', { sessionId: session.id }));
    expect(timeline.codes).toHaveLength(timeline.lastSeq);
    expect(timeline.types[timeline.codes[0] ?? -1]).toBe('user.message');
    const branch = rpcMethods['sessions-rewind'].result.parse(await ok('sessions-rewind', { sessionId: session.id, atSeq: 1 }));
    expect(branch).toMatchObject({ kind: 'rewind', conversationId: session.id, status: 'new', costUsd: 0 });
    expect(changed).toContain(session.id);
    expect((await ok('sessions-get', { sessionId: session.id })) as { currentBranchId: string }).toMatchObject({
      currentBranchId: branch.id,
    });
    await ok('sessions-switch-branch', { sessionId: session.id });
    expect((await ok('sessions-get', { sessionId: session.id })) as { currentBranchId: string }).toMatchObject({
      currentBranchId: session.id,
    });
    const refused = await dispatch('sessions-rewind', { sessionId: session.id, atSeq: 99 });
    expect(refused.ok ? null : refused.error.message).toMatch(/events 1 to \d+/);
  });

  it('answers an unknown method clearly', async () => {
    expect(await dispatch('sessions-explode', {})).toEqual({
      ok: false,
      error: { code: 'unknown-method', message: expect.stringContaining('"sessions-explode"') },
    });
  });

  it('validates every argument before any handler runs', async () => {
    const outcome = await dispatch('sessions-fork', { sessionId: 'not-a-uuid', atSeq: -1, extra: true });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('invalid-argument');
    expect(outcome.error.issues?.map((i) => i.path).sort()).toEqual(['(root)', 'atSeq', 'sessionId']);
    expect(outcome.error.message).toMatch(/^Invalid request to sessions-fork: /);
    expect((await dispatch('sessions-create', { title: '   ' })).ok).toBe(false);
    expect((await dispatch('sessions-list', { unexpected: 1 })).ok).toBe(false);
    expect(store.listSessions()).toEqual([]);
  });

  it('passes user-facing errors through with their code', async () => {
    const outcome = await dispatch('sessions-get', { sessionId: '00000000-0000-4000-8000-000000000000' });
    expect(outcome).toEqual({ ok: false, error: { code: 'not-found', message: expect.stringContaining('There is no session') } });
  });

  it('coerces unexpected errors to internal, keeping details in the log only', async () => {
    const broken = {
      ...createHandlers({ store, harness, hands, credentials: noVault(), info: { version: '1', dataDir: dir, platform: 'linux' } }),
      'sessions-list': () => {
        throw new TypeError('secret detail: /home/ada/.ssh/id_ed25519');
      },
    } satisfies HandlerImpl;
    const outcome = await createDispatcher(broken, { error: (m, e) => logged.push([m, e]) })('sessions-list', undefined);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('internal');
    expect(outcome.error.message).not.toContain('secret detail');
    const reference = /reference ([0-9a-f]{8})/.exec(outcome.error.message)?.[1];
    expect(logged).toHaveLength(1);
    expect(logged[0]?.[0]).toContain(`reference ${reference}`);
    expect(logged[0]?.[1]).toBeInstanceOf(TypeError);
    expect(new AppError('conflict', 'x').toRpcError()).toEqual({ code: 'conflict', message: 'x' });
  });
});

describe('hands over RPC', () => {
  const box = { name: 'box', config: { kind: 'docker', image: 'debian:bookworm' } };

  it('launches a session with hands, lists them idle with their tool names, and forks inherit them', async () => {
    const launched = rpcMethods['sessions-launch'].result.parse(await ok('sessions-launch', { title: 'With a box', hands: [box] }));
    const listed = rpcMethods['hands-list'].result.parse(await ok('hands-list', { sessionId: launched.id }));
    expect(listed).toEqual([
      {
        name: 'box',
        kind: 'docker',
        state: 'idle',
        detail: 'Starts on the first tool call.',
        container: null,
        tools: ['box__bash', 'box__editor'],
        attachedSeq: 2,
        config: {
          kind: 'docker',
          image: 'debian:bookworm',
          cpus: 2,
          memory_mb: 4096,
          pids_limit: 1024,
          network: 'bridge',
          mounts: [],
          working_dir: '/workspace',
          env: {},
          repos: [],
        },
      },
    ]);
    const fork = rpcMethods['sessions-fork'].result.parse(await ok('sessions-fork', { sessionId: launched.id, atSeq: launched.lastSeq }));
    expect(rpcMethods['hands-list'].result.parse(await ok('hands-list', { sessionId: fork.id }))[0]?.name).toBe('box');
    const attached = rpcMethods['hands-attach'].result.parse(
      await ok('hands-attach', {
        sessionId: fork.id,
        hand: { name: 'web', config: { kind: 'docker', image: 'node:22', network: 'none' } },
      }),
    );
    expect(attached.map((hand) => hand.tools)).toEqual([
      ['box__bash', 'box__editor'],
      ['web__bash', 'web__editor'],
    ]);
    expect(rpcMethods['hands-list'].result.parse(await ok('hands-list', { sessionId: launched.id }))).toHaveLength(1);
    const detached = rpcMethods['hands-detach'].result.parse(await ok('hands-detach', { sessionId: fork.id, name: 'box' }));
    expect(detached.map((hand) => hand.name)).toEqual(['web']);
  });

  it('refuses bad hands with the field named, and creates nothing', async () => {
    const bad = async (arg: unknown) => {
      const outcome = await dispatch('sessions-launch', arg);
      if (outcome.ok) throw new Error('accepted');
      return outcome.error;
    };
    expect((await bad({ title: 't', hands: [{ name: 'Box_1', config: box.config }] })).message).toContain(
      'lowercase letters, digits or dashes',
    );
    expect((await bad({ title: 't', hands: [box, box] })).message).toContain('two hands have the same name');
    expect(
      (await bad({ title: 't', hands: [{ name: 'box', config: { kind: 'docker', image: 'debian', network: 'host' } }] })).message,
    ).toContain('network');
    expect(
      (
        await bad({
          title: 't',
          hands: [{ name: 'box', config: { kind: 'docker', image: 'x', mounts: [{ host_path: '/h', container_path: 'relative' }] } }],
        })
      ).message,
    ).toContain('absolute path');
    expect(store.listSessions()).toEqual([]);

    const { id } = store.createSession({ title: 't' });
    await ok('hands-attach', { sessionId: id, hand: box });
    const twice = await dispatch('hands-attach', { sessionId: id, hand: box });
    expect(twice).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: expect.stringContaining('already has a hand named "box"') },
    });
    expect(await dispatch('hands-detach', { sessionId: id, name: 'nope' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });
});

describe('outcomes over RPC', () => {
  const box = { name: 'box', config: { kind: 'docker', image: 'debian:bookworm' } };
  const outcome = { description: 'The tests pass.', rubric: '- npm test exits 0', verification: { hand_id: 'box', command: 'npm test' } };

  it('launches with an outcome recorded before the first message, and defines a new one later', async () => {
    const launched = rpcMethods['sessions-launch'].result.parse(await ok('sessions-launch', { title: 'Checked', hands: [box], outcome }));
    expect(launched.outcome).toEqual({ description: 'The tests pass.', maxIterations: 3, iterations: 0, state: null });
    expect(store.getEvents(launched.id).map((e) => e.type)).toEqual(['session.configured', 'hand.attached', 'user.define_outcome']);
    expect(store.getEvents(launched.id, { types: ['user.define_outcome'] })[0]?.payload).toEqual({
      ...outcome,
      max_iterations: 3,
      grader_model: null,
    });

    const redefined = rpcMethods['sessions-define-outcome'].result.parse(
      await ok('sessions-define-outcome', { sessionId: launched.id, outcome: { description: 'Docs too.', max_iterations: 5 } }),
    );
    expect(redefined.outcome).toEqual({ description: 'Docs too.', maxIterations: 5, iterations: 0, state: null });
    expect(changed).toContain(launched.id);
    // An idle session waits for its next message: defining an outcome runs nothing.
    expect(harness.isRunning(launched.id)).toBe(false);
    expect(store.getEvents(launched.id).at(-1)?.type).toBe('user.define_outcome');
  });

  it('refuses a verification hand the session does not have, naming its hands, and records nothing', async () => {
    const bad = async (name: string, arg: unknown) => {
      const result = await dispatch(name, arg);
      if (result.ok) throw new Error('accepted');
      return result.error;
    };
    const launchError = await bad('sessions-launch', { title: 't', hands: [{ ...box, name: 'web' }], outcome });
    expect(launchError).toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('no hand by that name. Its hands are: web.'),
    });
    expect(store.listSessions()).toEqual([]);

    const { id } = store.createSession({ title: 't' });
    const defineError = await bad('sessions-define-outcome', { sessionId: id, outcome });
    expect(defineError).toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('the hand "box", but this session has no hand by that name. It has no hands yet.'),
    });
    expect(store.getEvents(id)).toEqual([]);

    // The contract's own limits are checked by the dispatcher, with the field named.
    expect(await bad('sessions-define-outcome', { sessionId: id, outcome: { description: '  ' } })).toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('describe the outcome'),
    });
    expect(await bad('sessions-define-outcome', { sessionId: id, outcome: { description: 'x', max_iterations: 21 } })).toMatchObject({
      message: expect.stringContaining('at most 20 iterations'),
    });
    expect(
      await bad('sessions-define-outcome', { sessionId: '00000000-0000-4000-8000-000000000000', outcome: { description: 'x' } }),
    ).toMatchObject({ code: 'not-found' });
  });
});
