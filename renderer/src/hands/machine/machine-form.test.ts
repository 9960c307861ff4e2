import { describe, expect, it } from 'vitest';
import type { SshTestResult } from '#shared/hands';
import type { SecretMeta } from '#shared/vault';
import {
  attachVerdict,
  configKey,
  draftFromConfigHost,
  emptyMachineDraft,
  machineConfigOf,
  nextFreeMachineName,
  placeMachineIssues,
  secretChoices,
  SECRET_KINDS_FOR,
  type MachineDraft,
} from './machine-form.ts';

const KEY = 'sec_0123456789abcdef';
const PASS = 'sec_fedcba9876543210';

function draft(changes: Partial<MachineDraft> = {}): MachineDraft {
  const base = emptyMachineDraft('machine');
  return { ...base, target: { ...base.target, host: 'build.lan', user: 'ada', keyId: KEY }, ...changes };
}

const trusted: SshTestResult = {
  ok: true,
  message: 'Connected.',
  hostKey: { host: 'build.lan', port: 22, algorithm: 'ssh-ed25519', fingerprint: 'SHA256:x' },
  trust: 'trusted',
  jumpHostKey: null,
  jumpTrust: null,
  latencyMs: 12,
  os: 'Linux 6.8 x86_64',
};

describe('nextFreeMachineName', () => {
  it('counts up from machine', () => {
    expect(nextFreeMachineName([])).toBe('machine');
    expect(nextFreeMachineName(['machine', 'box'])).toBe('machine-2');
    expect(nextFreeMachineName(['machine', 'machine-2'])).toBe('machine-3');
  });
});

describe('machineConfigOf', () => {
  it('turns a draft into the SSH hand configuration', () => {
    const { config } = machineConfigOf(draft({ workingDir: ' /srv/app ', snapshots: false }), []);
    expect(config).toEqual({
      kind: 'ssh',
      host: 'build.lan',
      port: 22,
      user: 'ada',
      auth: { method: 'key', key_secret_id: KEY, passphrase_secret_id: null },
      jump: null,
      working_dir: '/srv/app',
      snapshots: false,
    });
  });

  it('names each problem on its field, in words', () => {
    const base = emptyMachineDraft('Bad_Name');
    const { problems } = machineConfigOf({ ...base, target: { ...base.target, port: 'ssh' }, workingDir: 'relative' }, []);
    expect(Object.keys(problems ?? {}).sort()).toEqual(['host', 'keyId', 'name', 'port', 'user', 'workingDir']);
    expect(problems?.keyId).toMatch(/choose the key/);
    expect(problems?.port).toMatch(/1 to 65535/);
  });

  it('refuses a name the session already has', () => {
    expect(machineConfigOf(draft(), ['machine']).problems?.name).toMatch(/already has a hand called machine/);
  });

  it('checks the jump host on its own fields', () => {
    const base = draft();
    const { problems } = machineConfigOf({ ...base, useJump: true, jump: { ...base.jump, auth: 'password', host: '', user: 'ops' } }, []);
    expect(Object.keys(problems ?? {}).sort()).toEqual(['jumpHost', 'jumpPasswordId']);
  });

  it('uses agent and password authentication', () => {
    const base = draft();
    expect(machineConfigOf({ ...base, target: { ...base.target, auth: 'agent' } }, []).config?.auth).toEqual({ method: 'agent' });
    expect(machineConfigOf({ ...base, target: { ...base.target, auth: 'password', passwordId: PASS } }, []).config?.auth).toEqual({
      method: 'password',
      password_secret_id: PASS,
    });
  });
});

describe('draftFromConfigHost', () => {
  it('fills host, port, user and the jump host, keeping the chosen key for both', () => {
    const next = draftFromConfigHost(draft(), {
      alias: 'nas',
      hostName: 'nas.example.com',
      port: 2222,
      user: null,
      identityFiles: ['id_nas'],
      proxyJump: { host: 'gate.example.com', port: null, user: 'ops' },
    });
    expect(next.target).toMatchObject({ host: 'nas.example.com', port: '2222', user: 'ada', keyId: KEY });
    expect(next.useJump).toBe(true);
    expect(next.jump).toMatchObject({ host: 'gate.example.com', port: '22', user: 'ops', auth: 'key', keyId: KEY });
  });

  it('takes the alias as the host when there is no HostName', () => {
    expect(
      draftFromConfigHost(draft(), { alias: 'box', hostName: null, port: null, user: 'me', identityFiles: [], proxyJump: null }).target,
    ).toMatchObject({ host: 'box', port: '22', user: 'me' });
  });
});

describe('attachVerdict', () => {
  const { config } = machineConfigOf(draft(), []);
  if (config === null) throw new Error('the draft should be valid');
  const key = configKey(config);

  it('needs a test with trusted keys for the settings shown', () => {
    expect(attachVerdict(null, null, key).ready).toBe(false);
    expect(attachVerdict(trusted, key, key)).toEqual({ ready: true, reason: '' });
    expect(attachVerdict(trusted, key, `${key} changed`).reason).toMatch(/changed since the last test/);
    expect(attachVerdict({ ...trusted, ok: false, trust: 'unknown' }, key, key).reason).toMatch(/trust the host key/);
    expect(attachVerdict({ ...trusted, trust: 'changed' }, key, key).reason).toMatch(/host key changed/);
    expect(attachVerdict({ ...trusted, jumpTrust: 'unknown' }, key, key).ready).toBe(false);
    expect(attachVerdict({ ...trusted, ok: false }, key, key).reason).toMatch(/test failed/);
  });
});

describe('secretChoices and placeMachineIssues', () => {
  it('offers each select its kinds only', () => {
    const meta = (id: string, name: string, kind: SecretMeta['kind']): SecretMeta => ({
      id,
      name,
      kind,
      createdAt: '',
      updatedAt: '',
      lastUsedAt: null,
      lastUsedFor: null,
    });
    const secrets = [
      meta(KEY, 'laptop key', 'ssh-private-key'),
      meta(PASS, 'pw', 'password'),
      meta('sec_aaaaaaaaaaaaaaaa', 'gh', 'git-token'),
    ];
    expect(secretChoices(secrets, SECRET_KINDS_FOR.key).map((secret) => secret.name)).toEqual(['laptop key']);
    expect(secretChoices(secrets, SECRET_KINDS_FOR.passphrase).map((secret) => secret.name)).toEqual(['pw']);
    expect(secretChoices(null, SECRET_KINDS_FOR.password)).toEqual([]);
  });

  it('places a refusal on the fields it names', () => {
    expect(
      placeMachineIssues([
        { path: 'hand.name', message: 'taken' },
        { path: 'hand.config.jump.user', message: 'bad user' },
        { path: 'hand.config.auth.key_secret_id', message: 'gone' },
        { path: 'hand', message: 'general' },
      ]),
    ).toEqual({ fields: { name: 'taken', jumpUser: 'bad user', keyId: 'gone' }, general: ['general'] });
  });
});
