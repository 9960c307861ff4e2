// The SSH methods through the dispatcher over the real handler table: ssh-import-key reads only
// the IdentityFile a ~/.ssh/config alias names (real files in a temporary home folder), refuses
// what is not a key in the user's words, and never returns the key.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostKey, SshHandConfig } from '#shared/hands';
import type { SecretKind, SecretMeta } from '#shared/vault';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import { HandRegistry } from '#services/hands/registry';
import { sshConfigReader } from '#services/hands/ssh/ssh-config';
import { Harness } from '#services/harness/harness';
import { SessionStore } from '#services/session/store';
import { Credentials, type VaultLike } from '#services/vault/credentials';
import { Redactor } from '#services/vault/redact';
import { tempDir } from '#test/support/system';
import { createDispatcher, type Dispatch } from './dispatch.ts';
import { createHandlers, type SshServices } from './handlers.ts';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAcanary-key-body\n-----END OPENSSH PRIVATE KEY-----\n';

/** A vault in memory: what the handlers store, to check the key went in (and only there). */
function memoryVault(): VaultLike & { stored: Array<{ name: string; kind: SecretKind; value: string }> } {
  const stored: Array<{ name: string; kind: SecretKind; value: string }> = [];
  const metaOf = (index: number): SecretMeta => {
    const secret = stored[index];
    if (secret === undefined) throw new Error('no such secret');
    return {
      id: `sec_${String(index).padStart(16, '0')}`,
      name: secret.name,
      kind: secret.kind,
      createdAt: 'now',
      updatedAt: 'now',
      lastUsedAt: null,
      lastUsedFor: null,
    };
  };
  return {
    stored,
    status: async () => ({ available: true, backend: 'memory', reason: null }),
    list: async () => stored.map((_secret, index) => metaOf(index)),
    create: async (secret) => metaOf(stored.push(secret) - 1),
    replace: async () => {
      throw new Error('not used');
    },
    remove: async () => undefined,
    values: async () => stored.map((secret, index) => ({ id: metaOf(index).id, name: secret.name, value: secret.value })),
    reveal: async () => {
      throw new Error('not used');
    },
  };
}

let dir: string;
let home: string;
let store: SessionStore;
let harness: Harness;
let hands: HandRegistry;
let vault: ReturnType<typeof memoryVault>;
let dispatch: Dispatch;
const calls: string[] = [];

beforeEach(() => {
  dir = tempDir('drover-rpc-ssh-');
  home = tempDir('drover-ssh-home-');
  mkdirSync(path.join(home, '.ssh'));
  store = SessionStore.open({ dataDir: dir });
  harness = new Harness({ store, keyProvider: () => null });
  hands = new HandRegistry({ store, docker: new DockerEngine({ instance: instanceIdOf(dir) }), log: () => undefined });
  vault = memoryVault();
  calls.length = 0;
  const ssh: SshServices = {
    test: async (config: SshHandConfig) => {
      calls.push(`test ${config.host}`);
      return { ok: true, message: 'Connected.', hostKey: null, trust: null, jumpHostKey: null, jumpTrust: null, latencyMs: 3, os: 'Linux' };
    },
    trust: (key: HostKey) => calls.push(`trust ${key.host}:${key.port} ${key.fingerprint}`),
    forget: (host: string, port: number) => calls.push(`forget ${host}:${port}`),
    ...sshConfigReader(home),
  };
  const credentials = new Credentials({
    vault,
    redactor: new Redactor(),
    environmentKey: () => null,
    testKey: async () => ({ ok: false, message: 'not tested' }),
  });
  dispatch = createDispatcher(
    createHandlers({ store, harness, hands, credentials, ssh, info: { version: '1', dataDir: dir, platform: 'linux' } }),
    { error: () => undefined },
  );
});

afterEach(async () => {
  await harness.close();
  await hands.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

function config(text: string): void {
  writeFileSync(path.join(home, '.ssh', 'config'), text);
}

async function refused(name: string, arg: unknown): Promise<{ code: string; message: string }> {
  const outcome = await dispatch(name, arg);
  if (outcome.ok) throw new Error(`${name} was expected to be refused`);
  return outcome.error;
}

describe('ssh-import-key', () => {
  it('stores the IdentityFile of the alias as an ssh-private-key and returns only its metadata', async () => {
    config('Host box\n  IdentityFile ~/.ssh/id_box\n');
    writeFileSync(path.join(home, '.ssh', 'id_box'), KEY, { mode: 0o600 });
    const outcome = await dispatch('ssh-import-key', { alias: 'box', name: 'box key' });
    expect(outcome.ok).toBe(true);
    expect(JSON.stringify(outcome)).not.toContain('canary-key-body');
    expect(vault.stored).toEqual([{ name: 'box key', kind: 'ssh-private-key', value: KEY }]);
  });

  it('refuses an alias that is not in ~/.ssh/config', async () => {
    config('Host box\n  IdentityFile ~/.ssh/id_box\n');
    expect(await refused('ssh-import-key', { alias: 'nowhere', name: 'k' })).toMatchObject({
      code: 'not-found',
      message: expect.stringMatching(/no "Host nowhere"/),
    });
    expect(vault.stored).toEqual([]);
  });

  it('refuses a path in place of an alias', async () => {
    expect((await refused('ssh-import-key', { alias: '/etc/shadow x', name: 'k' })).code).toBe('invalid-argument');
  });

  it('refuses a missing file', async () => {
    config('Host box\n  IdentityFile ~/.ssh/gone\n');
    expect((await refused('ssh-import-key', { alias: 'box', name: 'k' })).message).toMatch(/~\/\.ssh\/gone .*does not exist/);
  });

  it('refuses a file over 64 KiB', async () => {
    config('Host box\n  IdentityFile ~/.ssh/big\n');
    writeFileSync(path.join(home, '.ssh', 'big'), `${KEY}${'A'.repeat(66_000)}`);
    expect((await refused('ssh-import-key', { alias: 'box', name: 'k' })).message).toMatch(/a private key is a few KiB at most/);
  });

  it('refuses a file that is not a private key', async () => {
    config('Host box\n  IdentityFile ~/.ssh/known_hosts\n');
    writeFileSync(path.join(home, '.ssh', 'known_hosts'), 'box ssh-ed25519 AAAA\n');
    expect((await refused('ssh-import-key', { alias: 'box', name: 'k' })).message).toMatch(/does not look like a private key/);
    expect(vault.stored).toEqual([]);
  });
});

describe('the other SSH methods', () => {
  it('lists ~/.ssh/config hosts, tests, trusts and forgets through the ssh service', async () => {
    config('Host box\n  HostName box.lan\n  User ada\n');
    const listing = await dispatch('ssh-config-hosts', undefined);
    expect(listing).toEqual({
      ok: true,
      result: { hosts: [{ alias: 'box', hostName: 'box.lan', port: null, user: 'ada', identityFiles: [], proxyJump: null }], notes: [] },
    });
    const tested = await dispatch('ssh-test-connection', {
      config: { kind: 'ssh', host: 'box.lan', user: 'ada', auth: { method: 'agent' } },
    });
    expect(tested.ok).toBe(true);
    const hostKey = { host: 'box.lan', port: 22, algorithm: 'ssh-ed25519', fingerprint: 'SHA256:abc' };
    expect(await dispatch('ssh-trust-host', { hostKey })).toEqual({ ok: true, result: null });
    expect(await dispatch('ssh-forget-host', { host: 'box.lan', port: 22 })).toEqual({ ok: true, result: null });
    expect(calls).toEqual(['test box.lan', 'trust box.lan:22 SHA256:abc', 'forget box.lan:22']);
  });

  it('says so when SSH is not wired in', async () => {
    const credentials = new Credentials({
      vault: null,
      unavailable: 'none',
      redactor: new Redactor(),
      environmentKey: () => null,
      testKey: async () => ({ ok: false, message: '' }),
    });
    const bare = createDispatcher(
      createHandlers({ store, harness, hands, credentials, info: { version: '1', dataDir: dir, platform: 'linux' } }),
      { error: () => undefined },
    );
    const outcome = await bare('ssh-config-hosts', undefined);
    expect(outcome).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: expect.stringMatching(/SSH machines are not available/) },
    });
  });
});
