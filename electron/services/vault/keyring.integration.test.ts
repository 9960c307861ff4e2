// The vault with its key in a real OS keyring: gnome-keyring's Secret Service on a private D-Bus
// session bus (test/support/keyring.ts). Each Drover here is a child process (vault-child.ts),
// because libdbus fixes the session bus once per process: a new process is also a real restart.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SecretMeta, VaultStatus } from '#shared/vault';
import { startSecretService, startSessionBus, type SessionBus } from '#test/support/keyring';
import { tempDir } from '#test/support/system';
import { decodeKey, type KeySource } from './key-source.ts';
import { VAULT_FILE, Vault } from './vault.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const childScript = path.join(root, 'test/support/vault-child.ts');

// Started once for the file; null (the reason printed) where gnome-keyring or D-Bus is missing.
const keyring = await startSecretService();
afterAll(async () => {
  await keyring?.stop();
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function scratch(prefix: string): string {
  const dir = tempDir(prefix);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

type ChildResult<T> = { ok: true; result: T } | { ok: false; code?: string; message?: string };

/**
 * Runs one vault command in a fresh process whose only session bus is `bus` (none when null:
 * the variables a desktop session would set are removed).
 */
async function child<T>(bus: SessionBus | null, args: string[], stdin = ''): Promise<ChildResult<T>> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['DBUS_SESSION_BUS_ADDRESS'];
  delete env['XDG_RUNTIME_DIR'];
  delete env['DISPLAY'];
  delete env['WAYLAND_DISPLAY'];
  const proc = spawn(process.execPath, ['--import', 'tsx', childScript, ...args], { cwd: root, env: { ...env, ...bus?.env } });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  proc.stdin.end(stdin);
  const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
  const line = stdout.trim().split('\n').at(-1);
  if (code !== 0 || !line) throw new Error(`vault-child ${args.join(' ')} exited with ${code}: ${stderr}${stdout}`);
  return JSON.parse(line) as ChildResult<T>;
}

async function ok<T>(bus: SessionBus | null, args: string[], stdin?: string): Promise<T> {
  const outcome = await child<T>(bus, args, stdin);
  if (!outcome.ok) throw new Error(`vault-child ${args[0]} failed: ${outcome.code} ${outcome.message}`);
  return outcome.result;
}

/** A key source that has exactly `key`: opens the file in this process without any keyring. */
function fixedKey(key: Buffer): KeySource {
  return {
    name: 'key read from the test keyring',
    unavailableReason: async () => null,
    loadKey: async () => key,
    createKey: async () => key,
  };
}

/** Every byte under `dir`, file by file. */
function filesUnder(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files.set(path.join(entry.parentPath, entry.name), readFileSync(path.join(entry.parentPath, entry.name)));
  }
  return files;
}

const VALUE = 'keyring-canary-value-7c21e0';

describe.skipIf(keyring === null)('Vault with the key in a real Secret Service (gnome-keyring)', () => {
  it('makes the key in the keyring on first use, and a restart (and a keyring restart) reuses it', { timeout: 120_000 }, async () => {
    const home = scratch('drover-keyring-home-');
    const first = await startSecretService({ home });
    if (!first) throw new Error('the Secret Service was available a moment ago');
    cleanups.push(() => first.stop());
    const dataDir = scratch('drover-vault-keyring-');

    expect(await ok<VaultStatus>(first, ['status', dataDir])).toEqual({
      available: true,
      backend: 'OS keyring (Secret Service)',
      reason: null,
    });
    // Asking for the status makes no key and no file.
    expect((await ok<{ key: string | null }>(first, ['keyring-entry', dataDir])).key).toBeNull();
    expect(readdirSync(dataDir)).toEqual([]);

    const created = await ok<SecretMeta>(first, ['create', dataDir, 'GitHub token', 'git-token'], VALUE);
    const { key } = await ok<{ key: string | null }>(first, ['keyring-entry', dataDir]);
    if (key === null) throw new Error('no vault key in the keyring after the first secret');
    const keyBytes = decodeKey(key, 'the test keyring');
    // The key in the keyring is the one that locked the file.
    expect(await Vault.open({ dataDir, keySource: fixedKey(keyBytes) }).reveal(created.id, 'check')).toBe(VALUE);
    expect(readFileSync(path.join(dataDir, VAULT_FILE)).includes(Buffer.from(VALUE))).toBe(false);

    // Another process (a restart) finds the same key: the value round-trips, and new ones too.
    expect(await ok<string>(first, ['reveal', dataDir, created.id, 'git fetch'])).toBe(VALUE);
    const second = await ok<SecretMeta>(first, ['create', dataDir, 'Anthropic', 'anthropic-api-key'], 'sk-ant-second');
    expect(await ok<string>(first, ['reveal', dataDir, second.id, 'API requests'])).toBe('sk-ant-second');
    expect((await ok<{ key: string | null }>(first, ['keyring-entry', dataDir])).key).toBe(key);
    const listed = await ok<SecretMeta[]>(first, ['list', dataDir]);
    expect(listed.map((secret) => [secret.name, secret.lastUsedFor])).toEqual([
      ['GitHub token', 'git fetch'],
      ['Anthropic', 'API requests'],
    ]);

    // The keyring daemon restarts on the same home: the key was kept on disk, in its login keyring.
    await first.stop();
    const restarted = await startSecretService({ home });
    if (!restarted) throw new Error('the Secret Service was available a moment ago');
    cleanups.push(() => restarted.stop());
    expect(await ok<string>(restarted, ['reveal', dataDir, created.id, 'git fetch'])).toBe(VALUE);
  });

  it('without a session bus: unavailable with the reason, and nothing is written', async () => {
    const dataDir = scratch('drover-vault-keyring-');
    const status = await ok<VaultStatus>(null, ['status', dataDir]);
    expect(status.available).toBe(false);
    expect(status.reason).toContain('DBUS_SESSION_BUS_ADDRESS is not set');
    const created = await child(null, ['create', dataDir, 'GitHub token', 'git-token'], VALUE);
    expect(created).toEqual({ ok: false, code: 'vault-unavailable', message: status.reason });
    expect(await ok<SecretMeta[]>(null, ['list', dataDir])).toEqual([]);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('on a bus with no Secret Service: unavailable with the reason, and nothing is written', async () => {
    const bus = await startSessionBus();
    cleanups.push(() => bus.stop());
    const dataDir = scratch('drover-vault-keyring-');
    const status = await ok<VaultStatus>(bus, ['status', dataDir]);
    expect(status.available).toBe(false);
    expect(status.reason).toContain('no Secret Service is running on the D-Bus session bus');
    expect(status.reason).toContain('gnome-keyring-daemon');
    const created = await child(bus, ['create', dataDir, 'GitHub token', 'git-token'], VALUE);
    expect(created).toEqual({ ok: false, code: 'vault-unavailable', message: status.reason });
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('with a locked keyring: unavailable with the reason, and the file is not touched', async () => {
    const service = await startSecretService();
    if (!service) throw new Error('the Secret Service was available a moment ago');
    cleanups.push(() => service.stop());
    const dataDir = scratch('drover-vault-keyring-');
    const created = await ok<SecretMeta>(service, ['create', dataDir, 'GitHub token', 'git-token'], VALUE);
    const before = filesUnder(dataDir);
    await service.lock();
    const status = await ok<VaultStatus>(service, ['status', dataDir]);
    expect(status.available).toBe(false);
    expect(status.reason).toContain('the keyring is locked');
    expect(await child(service, ['reveal', dataDir, created.id, 'git fetch'])).toEqual({
      ok: false,
      code: 'vault-unavailable',
      message: status.reason,
    });
    expect(filesUnder(dataDir)).toEqual(before);
  });

  it('with another keyring (a fresh one) and an existing vault: the key is not there, and the file is unchanged', async () => {
    if (!keyring) throw new Error('unreachable: skipped without a keyring');
    const dataDir = scratch('drover-vault-keyring-');
    const created = await ok<SecretMeta>(keyring, ['create', dataDir, 'GitHub token', 'git-token'], VALUE);
    const file = path.join(dataDir, VAULT_FILE);
    const before = readFileSync(file);

    const other = await startSecretService();
    if (!other) throw new Error('the Secret Service was available a moment ago');
    cleanups.push(() => other.stop());
    const status = await ok<VaultStatus>(other, ['status', dataDir]);
    expect(status.available).toBe(false);
    expect(status.reason).toContain(`The vault in ${file} was locked with a key this OS keyring (Secret Service) does not have`);
    expect(status.reason).toContain('Nothing was changed');
    // The names are not secret: the list works; anything needing the key is refused.
    expect((await ok<SecretMeta[]>(other, ['list', dataDir])).map((secret) => secret.id)).toEqual([created.id]);
    for (const args of [
      ['create', dataDir, 'Another', 'token'],
      ['reveal', dataDir, created.id, 'git fetch'],
    ]) {
      expect(await child(other, args, 'another value')).toEqual({ ok: false, code: 'vault-unavailable', message: status.reason });
    }
    expect(readFileSync(file)).toEqual(before);
    expect(readdirSync(dataDir)).toEqual([VAULT_FILE]);
    // The other keyring was not given a key of its own either.
    expect((await ok<{ key: string | null }>(other, ['keyring-entry', dataDir])).key).toBeNull();
    expect(existsSync(file)).toBe(true);
  });
});
