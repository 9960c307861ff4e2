// A real SSH machine with the default policies, through the RPC a UI uses: a real OpenSSH server on
// 127.0.0.1 (test/support/sshd.ts), its key in the vault, the host (dispatcher, handlers, harness,
// hand registry) and the local Messages API server. The user's own machine asks before every
// command: the first one waits for approval (its file must not exist), and runs once when allowed.
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import type { GuardrailsView } from '#shared/guardrails';
import { SessionSummarySchema } from '#shared/sessions';
import type { Host } from '#rpc/host';
import type { SessionStore } from '#services/session/store';
import { vaultHostRig, type VaultHostRig } from '#test/support/host-rig';
import { startModelServer, type ModelServer, type Reply } from '#test/support/model-server';
import { makeKey, requireSshd, TestSshd, testUser } from '#test/support/sshd';
import { tempDir } from '#test/support/system';

const API_KEY = 'sk-ant-test-guardrails-ssh';
const ready = requireSshd();

let rig: VaultHostRig | undefined;
let store: SessionStore;
let host: Host;
let model: ModelServer;
let sshd: TestSshd;
let script: Reply[] = [];
const done: Reply = { kind: 'message', message: { content: [{ type: 'text', text: 'Done.' }], stop_reason: 'end_turn' } };

beforeAll(async () => {
  if (!ready) return;
  sshd = await TestSshd.start();
  const key = makeKey(tempDir('drover-guardrails-ssh-keys-'));
  sshd.authorize(key);
  model = await startModelServer({ apiKey: API_KEY, respond: () => script.shift() ?? done });
  rig = vaultHostRig('drover-guardrails-ssh-', { baseURL: model.url, apiKey: API_KEY });
  ({ store, host } = rig);
  await host.credentials.start();
  const secret = await host.credentials.create({ name: 'laptop key', kind: 'ssh-private-key', value: key.privateKey });
  keyId = secret.id;
  await host.dispatch('ssh-trust-host', {
    hostKey: { host: '127.0.0.1', port: sshd.port, algorithm: 'ssh-ed25519', fingerprint: sshd.hostFingerprint() },
  });
}, 60_000);

let keyId = '';

afterAll(async () => {
  if (!ready) return;
  await rig?.close();
  await model?.close();
  await sshd?.stop();
});

async function call<T = unknown>(name: string, arg?: unknown): Promise<T> {
  const outcome = await host.dispatch(name, arg);
  if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
  return outcome.result as T;
}

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

describe.runIf(ready)('an SSH machine with the default policies', () => {
  it('the first command waits for approval, without running; allowed, it runs once', async () => {
    const { user, home } = testUser();
    const made = path.join(home, `drover-guardrails-${process.pid}-${Date.now()}`);
    try {
      script = [
        {
          kind: 'message',
          message: { content: [{ type: 'tool_use', name: 'laptop__bash', input: { command: `mkdir ${made}` } }], stop_reason: 'tool_use' },
        },
      ];
      const hand = {
        name: 'laptop',
        config: { kind: 'ssh', host: '127.0.0.1', port: sshd.port, user, auth: { method: 'key', key_secret_id: keyId }, snapshots: false },
      };
      const id = SessionSummarySchema.parse(
        await call('sessions-launch', { title: 'laptop', hands: [hand], message: 'make the folder' }),
      ).id;
      const stop = await nextIdle(id);
      expect(stop.payload.stop_reason.type).toBe('requires_action');
      expect(existsSync(made)).toBe(false);
      const view = await call<GuardrailsView>('sessions-guardrails', { sessionId: id });
      expect(view.policies).toEqual(
        expect.arrayContaining([
          { hand: 'laptop', tool: null, policy: 'always_ask' },
          { hand: 'laptop', tool: 'bash', policy: 'always_ask' },
        ]),
      );
      expect(view.pending).toEqual([
        expect.objectContaining({ hand: 'laptop', name: 'laptop__bash', input: { command: `mkdir ${made}` } }),
      ]);

      const idle = nextIdle(id);
      await call('sessions-confirm-tool', {
        sessionId: id,
        confirmations: [{ tool_use_id: view.pending[0]!.tool_use_id, result: 'allow' }],
      });
      expect((await idle).payload.stop_reason.type).toBe('end_turn');
      expect(existsSync(made)).toBe(true);
      const results = store.getEvents(id, { types: ['agent.tool_result'] });
      expect(results).toHaveLength(1);
      expect(results[0]?.type === 'agent.tool_result' && results[0].payload.is_error).toBe(false);
    } finally {
      rmSync(made, { recursive: true, force: true });
    }
  }, 120_000);
});
