// Guardrails end to end through the RPC a UI uses: the host (dispatcher, handlers, harness, hand
// registry) over a real store, a real Docker container whose host folder shows every side effect,
// and the local Messages API server. A command that asks must not have run (its file must not
// exist) until it is allowed, and then runs exactly once; "allow similar" (a command_prefix rule)
// lets the next such command run without asking; the approval card's data; policies with their
// effective defaults; bad input refused with nothing recorded; the default budget for new sessions.
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import type { GuardrailsView } from '#shared/guardrails';
import type { HandSpecInput } from '#shared/hands';
import { SessionSummarySchema } from '#shared/sessions';
import { createHost, type Host } from '#rpc/host';
import { SessionStore } from '#services/session/store';
import { BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import { startModelServer, type ModelServer, type RecordedRequest, type Reply } from '#test/support/model-server';
import { tempDir } from '#test/support/system';

const API_KEY = 'sk-ant-test-guardrails';
const ready = await requireDocker();

let dir: string;
let shared: string;
let store: SessionStore;
let host: Host;
let model: ModelServer;
let script: Array<(request: RecordedRequest) => Reply> = [];

const bash = (command: string): Reply => ({
  kind: 'message',
  message: { content: [{ type: 'tool_use', name: 'box__bash', input: { command } }], stop_reason: 'tool_use' },
});
const done: Reply = { kind: 'message', message: { content: [{ type: 'text', text: 'Done.' }], stop_reason: 'end_turn' } };

beforeAll(async () => {
  if (!ready) return;
  dir = tempDir('drover-guardrails-rpc-');
  shared = tempDir('drover-guardrails-shared-');
  model = await startModelServer({ apiKey: API_KEY, respond: (request) => (script.shift() ?? (() => done))(request) });
  store = SessionStore.open({ dataDir: dir });
  host = createHost({
    store,
    info: { version: 'test', dataDir: dir, platform: process.platform },
    baseURL: model.url,
    keyProvider: () => API_KEY,
    push: () => undefined,
    log: () => undefined,
  });
}, 60_000);

afterAll(async () => {
  if (!ready) return;
  for (const session of store.listSessions()) await host.hands.sessionDeleted(session.id);
  await host.close();
  store.close();
  await model.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(shared, { recursive: true, force: true });
});

async function call<T = unknown>(name: string, arg?: unknown): Promise<T> {
  const outcome = await host.dispatch(name, arg);
  if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
  return outcome.result as T;
}

/** The refusal's message, after checking the call recorded nothing in `sessionId`'s log. */
async function refused(sessionId: string | null, name: string, arg: unknown): Promise<string> {
  const before = sessionId === null ? store.listSessions().length : store.getEvents(sessionId).length;
  const outcome = await host.dispatch(name, arg);
  if (outcome.ok) throw new Error(`${name} was expected to be refused`);
  expect(sessionId === null ? store.listSessions().length : store.getEvents(sessionId).length).toBe(before);
  return outcome.error.message;
}

/** Resolves with the session's next idle (after those already in its log). */
async function nextIdle(sessionId: string): Promise<Extract<StoredEvent, { type: 'session.status_idle' }>> {
  const before = store.getEvents(sessionId, { types: ['session.status_idle'] }).length;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const idles = store.getEvents(sessionId, { types: ['session.status_idle'] });
    if (idles.length > before) return idles.at(-1) as Extract<StoredEvent, { type: 'session.status_idle' }>;
    if (Date.now() > deadline)
      throw new Error(`no idle: ${JSON.stringify(store.getEvents(sessionId, { direction: 'backward', limit: 6 }))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const box = (): HandSpecInput => ({
  name: 'box',
  config: {
    kind: 'docker',
    image: BUSYBOX_IMAGE,
    network: 'none',
    mounts: [{ host_path: shared, container_path: '/shared', read_only: false }],
  },
});

describe.runIf(ready)('guardrails through the RPC', () => {
  it('a command that asks does not run until allowed, then runs exactly once; allow similar lets the next one run', async () => {
    const marker = path.join(shared, 'marker');
    script = [() => bash('echo made >> /shared/marker')];
    const launched = SessionSummarySchema.parse(
      await call('sessions-launch', {
        title: 'ask',
        hands: [box()],
        policies: [{ hand: 'box', tool: 'bash', policy: 'always_ask' }],
        message: 'make the marker',
      }),
    );
    const id = launched.id;
    const stop = await nextIdle(id);
    expect(stop.payload.stop_reason.type).toBe('requires_action');
    expect(existsSync(marker)).toBe(false);

    const view = await call<GuardrailsView>('sessions-guardrails', { sessionId: id });
    expect(view.pending).toEqual([
      expect.objectContaining({ hand: 'box', name: 'box__bash', input: { command: 'echo made >> /shared/marker' } }),
    ]);
    expect(view.policies).toEqual(
      expect.arrayContaining([
        { hand: 'box', tool: null, policy: 'always_allow' },
        { hand: 'box', tool: 'bash', policy: 'always_ask' },
        { hand: 'box', tool: 'editor', policy: 'always_allow' },
      ]),
    );
    const pending = view.pending[0]!;

    // Answered twice at once, or before it is asked about: refused, nothing recorded.
    expect(
      await refused(id, 'sessions-confirm-tool', { sessionId: id, confirmations: [{ tool_use_id: 'toolu_nope', result: 'allow' }] }),
    ).toMatch(/no tool call "toolu_nope"/);
    const twice = {
      sessionId: id,
      confirmations: [
        { tool_use_id: pending.tool_use_id, result: 'allow' },
        { tool_use_id: pending.tool_use_id, result: 'deny' },
      ],
    };
    expect(await refused(id, 'sessions-confirm-tool', twice)).toMatch(/answered twice/);

    // "Allow similar for this session": a prefix rule, then allow. (A prefix rule never matches a
    // line that redirects, like this one: it allows the next plain `mkdir`.)
    const withRule = await call<GuardrailsView>('sessions-add-rule', {
      sessionId: id,
      hand: 'box',
      tool: 'bash',
      rule: { type: 'command_prefix', prefix: 'mkdir' },
    });
    expect(withRule.rules).toEqual([
      expect.objectContaining({ hand: 'box', tool: 'bash', rule: { type: 'command_prefix', prefix: 'mkdir' } }),
    ]);
    const idle = nextIdle(id);
    // By its event id, as Managed Agents clients name it.
    const after = await call<GuardrailsView>('sessions-confirm-tool', {
      sessionId: id,
      confirmations: [{ tool_use_id: pending.event_id, result: 'allow' }],
    });
    expect(after.pending).toEqual([]);
    expect((await idle).payload.stop_reason.type).toBe('end_turn');
    expect(readFileSync(marker, 'utf8')).toBe('made\n');
    expect(
      await refused(id, 'sessions-confirm-tool', { sessionId: id, confirmations: [{ tool_use_id: pending.tool_use_id, result: 'allow' }] }),
    ).toMatch(/already allowed/);

    // The next mkdir matches the rule: it runs at once; another command still asks.
    script = [() => bash('mkdir /shared/similar'), () => bash('rm /shared/marker')];
    await call('sessions-send', { sessionId: id, text: 'again' });
    const second = await nextIdle(id);
    expect(second.payload.stop_reason.type).toBe('requires_action');
    expect(existsSync(path.join(shared, 'similar'))).toBe(true);
    expect(readFileSync(marker, 'utf8')).toBe('made\n');
    const uses = store.getEvents(id, { types: ['agent.tool_use'] }) as Array<Extract<StoredEvent, { type: 'agent.tool_use' }>>;
    expect(uses.map((use) => use.payload.evaluated_permission)).toEqual(['ask', 'allow', 'ask']);

    // Deny: nothing runs, and the model reads the user's message.
    const rm = uses[2]!;
    const denied = nextIdle(id);
    const before = model.requests.length;
    await call('sessions-confirm-tool', {
      sessionId: id,
      confirmations: [{ tool_use_id: rm.payload.tool_use_id, result: 'deny', deny_message: 'Keep the marker.' }],
    });
    expect((await denied).payload.stop_reason.type).toBe('end_turn');
    expect(existsSync(marker)).toBe(true);
    expect(JSON.stringify(model.requests[before]?.body.messages.at(-1))).toContain('Keep the marker.');

    // Rules are removable; a removed rule is refused the second time.
    const ruleId = withRule.rules[0]!.rule_id;
    expect((await call<GuardrailsView>('sessions-remove-rule', { sessionId: id, ruleId })).rules).toEqual([]);
    expect(await refused(id, 'sessions-remove-rule', { sessionId: id, ruleId })).toMatch(/no rule/);
  }, 120_000);

  it('refuses policies for hands or tools the session does not have, bad rules and budgets below what is spent, recording nothing', async () => {
    const id = SessionSummarySchema.parse(await call('sessions-launch', { title: 'bad input', hands: [box()], message: 'hello' })).id;
    await nextIdle(id);
    expect(await refused(id, 'sessions-set-policy', { sessionId: id, hand: 'laptop', tool: null, policy: 'deny' })).toMatch(
      /no hand named "laptop"/,
    );
    expect(await refused(id, 'sessions-set-policy', { sessionId: id, hand: 'box', tool: 'browser', policy: 'deny' })).toMatch(
      /no tool named "browser"/,
    );
    expect(
      await refused(id, 'sessions-add-rule', { sessionId: id, hand: 'box', tool: 'editor', rule: { type: 'read_only_commands' } }),
    ).toMatch(/takes no command line/);
    expect(
      await refused(id, 'sessions-add-rule', {
        sessionId: id,
        hand: 'box',
        tool: 'bash',
        rule: { type: 'command_prefix', prefix: 'echo a; rm' },
      }),
    ).toMatch(/cannot be allowed/);
    expect(await refused(id, 'sessions-set-budget', { sessionId: id, budget: { type: 'limit', max_tokens: 1 } })).toMatch(
      /not above what this session has already spent/,
    );
    expect(await refused(id, 'sessions-set-policy', { sessionId: id, hand: 'box', tool: 'bash', policy: 'sometimes' })).toMatch(
      /Invalid request/,
    );
    expect(
      await refused(null, 'sessions-launch', { title: 'x', hands: [box()], policies: [{ hand: 'laptop', tool: null, policy: 'deny' }] }),
    ).toMatch(/no hand named "laptop"/);
    expect(
      await refused(null, 'sessions-launch', { title: 'x', hands: [box()], policies: [{ hand: 'box', tool: 'browser', policy: 'deny' }] }),
    ).toMatch(/no tool named "browser"/);

    const set = await call<GuardrailsView>('sessions-set-policy', { sessionId: id, hand: 'box', tool: null, policy: 'deny' });
    expect(set.policies).toEqual(
      expect.arrayContaining([
        { hand: 'box', tool: null, policy: 'deny' },
        { hand: 'box', tool: 'bash', policy: 'deny' },
      ]),
    );
  }, 120_000);

  it('new sessions get the default budget (kept 0600 in the data folder); a launch’s own budget wins', async () => {
    expect(await call('budget-default-get')).toBeNull();
    const budget = { type: 'limit', max_list_cost: { amount: '2500', currency: 'USD' } };
    expect(await call('budget-default-set', { budget })).toEqual(budget);
    expect(statSync(path.join(dir, 'default-budget.json')).mode & 0o777).toBe(0o600);
    expect(await call('budget-default-get')).toEqual(budget);
    const plain = SessionSummarySchema.parse(await call('sessions-launch', { title: 'default' }));
    expect((await call<GuardrailsView>('sessions-guardrails', { sessionId: plain.id })).budget).toEqual(budget);
    const own = { type: 'limit', max_tokens: 5000 };
    const custom = SessionSummarySchema.parse(await call('sessions-launch', { title: 'own', budget: own }));
    expect((await call<GuardrailsView>('sessions-guardrails', { sessionId: custom.id })).budget).toEqual(own);
    expect(await refused(null, 'budget-default-set', { budget: { type: 'limit' } })).toMatch(/at least one of cost, tokens or time/);
    await call('budget-default-set', { budget: null });
    const none = SessionSummarySchema.parse(await call('sessions-launch', { title: 'none' }));
    expect((await call<GuardrailsView>('sessions-guardrails', { sessionId: none.id })).budget).toBeNull();
  });
});
