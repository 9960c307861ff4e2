// The vault on real files in temp dirs, with a real (test-only) key file as its key source:
// round trips, uniqueness, last use, what reaches the disk, wrong keys, damaged files, swapped
// ciphertexts and failed writes (a full and a read-only tmpfs).
import type * as NodeFs from 'node:fs';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '#shared/errors';
import type { SecretKind } from '#shared/vault';
import { FileKeySource } from '#test/support/file-key-source';
import { mountTmpfs, requirePart, tempDir, tmpfsUnavailableReason } from '#test/support/system';
import type { KeySource } from './key-source.ts';
import { USE_RECORD_INTERVAL_MS, VAULT_FILE, Vault } from './vault.ts';

/** Every file renamed into place (the vault's temp files), with the bytes it held then. */
const renamed = vi.hoisted(() => [] as Array<{ from: string; to: string; bytes: Buffer }>);
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof NodeFs>();
  return {
    ...fs,
    renameSync(from: NodeFs.PathLike, to: NodeFs.PathLike) {
      renamed.push({ from: String(from), to: String(to), bytes: fs.readFileSync(from) });
      fs.renameSync(from, to);
    },
  };
});

const hasTmpfs = requirePart('size-limited tmpfs mounts (vault write-failure tests)', tmpfsUnavailableReason());

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
  renamed.length = 0;
});

function scratch(prefix = 'drover-vault-'): string {
  const dir = tempDir(prefix);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Setup {
  dataDir: string;
  keyFile: string;
  file: string;
  logged: string[];
  open(keySource?: KeySource, now?: () => Date): Vault;
}

/** A data folder, and a key file kept apart from it (so the data folder holds only the vault). */
function setup(dataDir = scratch()): Setup {
  const keyFile = path.join(scratch('drover-vault-key-'), 'vault.key');
  const logged: string[] = [];
  return {
    dataDir,
    keyFile,
    file: path.join(dataDir, VAULT_FILE),
    logged,
    open(keySource = new FileKeySource(keyFile), now) {
      return Vault.open({
        dataDir,
        keySource,
        now,
        log: (message, error) => logged.push(`${message} ${error instanceof Error ? error.message : ''}`),
      });
    },
  };
}

async function rejection(work: Promise<unknown>): Promise<AppError> {
  try {
    await work;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected an AppError, but the call succeeded');
}

interface StoredFile {
  version: number;
  key_check: { iv: string; tag: string; data: string };
  secrets: Array<{
    id: string;
    name: string;
    kind: string;
    last_used_at: string | null;
    last_used_for: string | null;
    iv: string;
    tag: string;
    data: string;
  }>;
}

function storedFile(file: string): StoredFile {
  return JSON.parse(readFileSync(file, 'utf8')) as StoredFile;
}

const token: { name: string; kind: SecretKind; value: string } = {
  name: 'GitHub token',
  kind: 'git-token',
  value: 'ghp_example0000000000000000000000000000',
};

describe('Vault', () => {
  it('creates, lists, reveals, replaces and removes secrets', async () => {
    const { open } = setup();
    const vault = open();
    const created = await vault.create(token);
    expect(created).toMatchObject({ name: 'GitHub token', kind: 'git-token', lastUsedAt: null, lastUsedFor: null });
    expect(created.id).toMatch(/^sec_[a-z0-9]{16}$/);
    const key = await vault.create({ name: 'Anthropic', kind: 'anthropic-api-key', value: 'sk-ant-example' });
    expect((await vault.list()).map((secret) => secret.name)).toEqual(['GitHub token', 'Anthropic']);
    expect(await vault.findByKind('anthropic-api-key')).toEqual([key]);

    expect(await vault.reveal(created.id, 'git push to github.com/acme/app')).toBe(token.value);
    const replaced = await vault.replace(created.id, 'ghp_rotated');
    expect(replaced).toMatchObject({ id: created.id, name: 'GitHub token', kind: 'git-token', createdAt: created.createdAt });
    expect(await vault.reveal(created.id, 'git fetch')).toBe('ghp_rotated');

    await vault.remove(created.id);
    expect((await vault.list()).map((secret) => secret.id)).toEqual([key.id]);
    expect((await rejection(vault.reveal(created.id, 'git fetch'))).code).toBe('not-found');
    expect((await rejection(vault.remove(created.id))).code).toBe('not-found');
    expect((await rejection(vault.replace(created.id, 'x'))).code).toBe('not-found');
  });

  it('keeps secrets in a 0600 file that a new instance (a restart) reads with the same key', async () => {
    const { open, file } = setup();
    const created = await open().create(token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = open();
    expect(await again.status()).toEqual({ available: true, backend: expect.stringContaining('test key file'), reason: null });
    expect(await again.reveal(created.id, 'git fetch')).toBe(token.value);
  });

  it('records the last use at once in memory and in the file at most once a minute per secret', async () => {
    const { open, file } = setup();
    let now = new Date('2026-01-01T10:00:00Z');
    const vault = open(undefined, () => now);
    const { id } = await vault.create(token);
    const fileUse = () => storedFile(file).secrets.find((secret) => secret.id === id);

    await vault.reveal(id, 'git fetch');
    expect(fileUse()).toMatchObject({ last_used_at: '2026-01-01T10:00:00.000Z', last_used_for: 'git fetch' });

    now = new Date(now.getTime() + USE_RECORD_INTERVAL_MS / 2);
    const writesBefore = renamed.length;
    await vault.reveal(id, 'git push');
    expect(renamed.length).toBe(writesBefore);
    expect((await vault.list())[0]).toMatchObject({ lastUsedAt: now.toISOString(), lastUsedFor: 'git push' });
    expect(fileUse()?.last_used_for).toBe('git fetch');

    now = new Date(now.getTime() + USE_RECORD_INTERVAL_MS / 2);
    await vault.reveal(id, 'API requests');
    expect(fileUse()).toMatchObject({ last_used_at: now.toISOString(), last_used_for: 'API requests' });

    // A use within the minute reaches the file on close().
    now = new Date(now.getTime() + 1_000);
    await vault.reveal(id, 'git pull');
    expect(fileUse()?.last_used_for).toBe('API requests');
    await vault.close();
    expect(fileUse()?.last_used_for).toBe('git pull');
    expect((await open().list())[0]).toMatchObject({ lastUsedFor: 'git pull' });
  });

  it('refuses a second secret with the same name in any letter case, and changes nothing', async () => {
    const { open, file } = setup();
    const vault = open();
    await vault.create(token);
    const before = readFileSync(file);
    const error = await rejection(vault.create({ ...token, name: '  github TOKEN ', value: 'other' }));
    expect(error.code).toBe('conflict');
    expect(error.message).toContain('already exists');
    expect(readFileSync(file)).toEqual(before);
    // Two at once: exactly one wins.
    const results = await Promise.allSettled([vault.create({ ...token, name: 'Twin' }), vault.create({ ...token, name: 'twin' })]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('rejects bad input with what to fix and without the value, leaving the file as it was', async () => {
    const { open, file } = setup();
    const vault = open();
    const { id } = await vault.create(token);
    const before = readFileSync(file);
    const tooLong = `secret-${'x'.repeat(70_000)}`;
    const cases: Array<Promise<unknown>> = [
      vault.create({ ...token, name: 'Empty', value: '' }),
      vault.create({ ...token, name: 'Blank', value: '   \n' }),
      vault.create({ ...token, name: '   ', value: 'v' }),
      vault.create({ ...token, name: 'Long', value: tooLong }),
      vault.create({ name: 'Kind', kind: 'bogus' as SecretKind, value: 'v' }),
      vault.replace(id, ''),
      vault.replace('sec_NOT-AN-ID' as typeof id, 'v'),
      vault.reveal(id, ''),
    ];
    for (const work of cases) {
      const error = await rejection(work);
      expect(error.code).toBe('invalid-argument');
      expect(error.issues?.length).toBeGreaterThan(0);
      expect(error.message).not.toContain('xxxxxxxxxx');
    }
    expect(readFileSync(file)).toEqual(before);
    expect(await vault.reveal(id, 'git fetch')).toBe(token.value);
  });

  it('never writes a value in the clear: not in the file, not in any temp file, not in the log', async () => {
    const { open, dataDir, logged } = setup();
    const values = [
      'plaintext-canary-3f9a1c',
      'second canary value ✓ with unicode',
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n',
    ];
    const vault = open();
    const first = await vault.create({ name: 'one', kind: 'token', value: values[0] ?? '' });
    const second = await vault.create({ name: 'two', kind: 'password', value: values[1] ?? '' });
    await vault.reveal(first.id, 'API requests');
    await vault.replace(second.id, values[2] ?? '');
    expect((await vault.values()).map((entry) => entry.value).sort()).toEqual([values[0], values[2]].sort());
    await vault.remove(first.id);
    await rejection(vault.create({ name: 'TWO', kind: 'password', value: values[0] ?? '' }));
    await vault.close();

    const vaultWrites = renamed.filter((write) => write.to.startsWith(dataDir));
    expect(vaultWrites.length).toBeGreaterThanOrEqual(4);
    const everyFile = [
      ...vaultWrites.map((write) => write.bytes),
      ...readdirSync(dataDir).map((name) => readFileSync(path.join(dataDir, name))),
    ];
    for (const bytes of everyFile) {
      for (const value of values) {
        expect(bytes.includes(Buffer.from(value, 'utf8'))).toBe(false);
        expect(bytes.includes(Buffer.from(Buffer.from(value, 'utf8').toString('base64')))).toBe(false);
      }
    }
    // Temp files are created 0600 in the data folder and none is left behind.
    expect(vaultWrites.every((write) => path.dirname(write.from) === dataDir && path.basename(write.from).startsWith('.vault.json.'))).toBe(
      true,
    );
    expect(readdirSync(dataDir)).toEqual([VAULT_FILE]);
    for (const line of logged) for (const value of values) expect(line).not.toContain(value);
  });

  it('says clearly when the key does not open the file, and changes nothing', async () => {
    const first = setup();
    const { id } = await first.open().create(token);
    const before = readFileSync(first.file);

    // Another key: a second key file with a key of its own.
    const otherKeyFile = path.join(scratch('drover-vault-key-'), 'vault.key');
    await new FileKeySource(otherKeyFile).createKey();
    // No key at all: the source has none, and must not be asked to make one.
    const missingKeyFile = path.join(scratch('drover-vault-key-'), 'vault.key');
    for (const keySource of [new FileKeySource(otherKeyFile), new FileKeySource(missingKeyFile)]) {
      const vault = first.open(keySource);
      const status = await vault.status();
      expect(status.available).toBe(false);
      expect(status.reason).toContain(`The vault in ${first.file} was locked with a key this ${keySource.name} does not have`);
      expect(status.reason).toContain('Nothing was changed');
      // The names are not secret: the list still works.
      expect((await vault.list()).map((secret) => secret.id)).toEqual([id]);
      for (const work of [
        vault.create({ ...token, name: 'new' }),
        vault.replace(id, 'v'),
        vault.remove(id),
        vault.reveal(id, 'git fetch'),
      ]) {
        const error = await rejection(work);
        expect(error.code).toBe('vault-unavailable');
        expect(error.message).toBe(status.reason);
      }
      expect(await vault.values()).toEqual([]);
      await vault.close();
      expect(readFileSync(first.file)).toEqual(before);
    }
    expect(existsSync(missingKeyFile)).toBe(false);
  });

  it('names a damaged or foreign file, and never writes over it', async () => {
    const { open, file, dataDir } = setup();
    const { id } = await open().create(token);
    const valid = storedFile(file);
    const damaged: Array<[string, string]> = [
      ['not JSON', '{"version":1,"key_check":'],
      ['a missing field', JSON.stringify({ ...valid, key_check: { iv: valid.key_check.iv, data: valid.key_check.data } })],
      ['a bad id', JSON.stringify({ ...valid, secrets: valid.secrets.map((secret) => ({ ...secret, id: 'sec_../../etc' })) })],
      ['a name twice', JSON.stringify({ ...valid, secrets: [...valid.secrets, { ...valid.secrets[0], id: 'sec_aaaaaaaaaaaaaaaa' }] })],
      ['an array', '[]'],
    ];
    for (const [what, text] of damaged) {
      writeFileSync(file, text);
      const vault = open();
      const error = await rejection(vault.list());
      expect(error.code, what).toBe('storage-corrupt');
      expect(error.message, what).toContain(`The vault file ${file} is damaged or is not a Drover vault`);
      expect((await vault.status()).reason, what).toBe(error.message);
      expect((await rejection(vault.create({ ...token, name: 'new' }))).code, what).toBe('storage-corrupt');
      expect((await rejection(vault.reveal(id, 'git fetch'))).code, what).toBe('storage-corrupt');
      expect(readFileSync(file, 'utf8'), what).toBe(text);
    }
    writeFileSync(file, JSON.stringify({ ...valid, version: 2 }));
    const tooNew = await rejection(open().list());
    expect(tooNew.code).toBe('storage-too-new');
    expect(tooNew.message).toContain('newer Drover');
    expect(readdirSync(dataDir)).toEqual([VAULT_FILE]);
  });

  it('detects a ciphertext moved to another entry or kind (the id and kind are authenticated)', async () => {
    const { open, file, logged } = setup();
    const vault = open();
    const a = await vault.create({ name: 'a', kind: 'token', value: 'value-a' });
    const b = await vault.create({ name: 'b', kind: 'token', value: 'value-b' });
    const c = await vault.create({ name: 'c', kind: 'token', value: 'value-c' });
    const stored = storedFile(file);
    const [sa, sb, sc] = stored.secrets;
    if (!sa || !sb || !sc) throw new Error('three secrets expected');
    const sealedOf = ({ iv, tag, data }: typeof sa) => ({ iv, tag, data });
    const swapped = {
      ...stored,
      secrets: [
        { ...sa, ...sealedOf(sb) },
        { ...sb, ...sealedOf(sa) },
        { ...sc, kind: 'password' },
      ],
    };
    writeFileSync(file, JSON.stringify(swapped));

    const reopened = open();
    for (const secret of [a, b, c]) {
      const error = await rejection(reopened.reveal(secret.id, 'git fetch'));
      expect(error.code).toBe('storage-corrupt');
      expect(error.message).toContain(`(${secret.id}) in ${file} cannot be decrypted`);
    }
    expect(await reopened.values()).toEqual([]);
    expect(logged.some((line) => line.includes(a.id))).toBe(true);
    // Giving a secret its value again repairs it.
    await reopened.replace(a.id, 'value-a2');
    expect(await reopened.reveal(a.id, 'git fetch')).toBe('value-a2');
  });

  it('keeps values() for the redactor current through create, replace and remove', async () => {
    const { open } = setup();
    const vault = open();
    expect(await vault.values()).toEqual([]);
    const a = await vault.create({ name: 'a', kind: 'token', value: 'value-a' });
    expect(await vault.values()).toEqual([{ id: a.id, name: 'a', value: 'value-a' }]);
    const b = await vault.create({ name: 'b', kind: 'password', value: 'value-b' });
    await vault.replace(a.id, 'value-a2');
    expect(await vault.values()).toEqual([
      { id: a.id, name: 'a', value: 'value-a2' },
      { id: b.id, name: 'b', value: 'value-b' },
    ]);
    await vault.remove(a.id);
    expect(await vault.values()).toEqual([{ id: b.id, name: 'b', value: 'value-b' }]);
    // A new instance decrypts what is in the file.
    expect(await open().values()).toEqual([{ id: b.id, name: 'b', value: 'value-b' }]);
  });

  it('reports an unavailable key source, still lists, and writes nothing', async () => {
    const { dataDir, open } = setup();
    let keyAsked = false;
    const away: KeySource = {
      name: 'test keyring that is away',
      unavailableReason: async () => 'The keyring is away. Bring it back, then try again.',
      loadKey: async () => {
        keyAsked = true;
        return null;
      },
      createKey: async () => {
        keyAsked = true;
        throw new Error('must not be called');
      },
    };
    const vault = open(away);
    expect(await vault.status()).toEqual({
      available: false,
      backend: 'test keyring that is away',
      reason: 'The keyring is away. Bring it back, then try again.',
    });
    expect(await vault.list()).toEqual([]);
    const error = await rejection(vault.create(token));
    expect(error.code).toBe('vault-unavailable');
    expect(error.message).toBe('The keyring is away. Bring it back, then try again.');
    expect(keyAsked).toBe(false);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('makes one key for concurrent first writes', async () => {
    const { open, keyFile } = setup();
    let made = 0;
    const files = new FileKeySource(keyFile);
    const counting: KeySource = {
      name: files.name,
      unavailableReason: () => files.unavailableReason(),
      loadKey: () => files.loadKey(),
      createKey: () => {
        made += 1;
        return files.createKey();
      },
    };
    const vault = open(counting);
    const created = await Promise.all(['a', 'b', 'c'].map((name) => vault.create({ name, kind: 'token', value: `value-${name}` })));
    expect(made).toBe(1);
    expect(await open().reveal(created[2]?.id ?? 'sec_missing', 'check')).toBe('value-c');
  });

  describe.skipIf(!hasTmpfs)('when a write fails', () => {
    function onTmpfs(size: string): Setup & { remount(options: string): void } {
      const mount = mountTmpfs(size);
      cleanups.push(() => mount.unmount());
      return { ...setup(mount.dir), remount: (options) => mount.remount(options) };
    }

    it('keeps the previous file whole when the disk is full', async () => {
      const { open, file, dataDir } = onTmpfs('64k');
      const vault = open();
      const { id } = await vault.create(token);
      const before = readFileSync(file);
      const error = await rejection(vault.create({ name: 'big', kind: 'ssh-private-key', value: 'k'.repeat(65_000) }));
      expect(error.code).toBe('storage-full');
      expect(error.message).toContain(file);
      expect(readFileSync(file)).toEqual(before);
      expect(readdirSync(dataDir)).toEqual([VAULT_FILE]);
      expect((await vault.list()).map((secret) => secret.id)).toEqual([id]);
      expect(await open().reveal(id, 'git fetch')).toBe(token.value);
    });

    it('keeps the previous file whole when the folder turns read-only', async () => {
      const { open, file, dataDir, remount } = onTmpfs('1m');
      const vault = open();
      const { id } = await vault.create(token);
      const before = readFileSync(file);
      remount('ro');
      const error = await rejection(vault.replace(id, 'new value'));
      expect(error.code).toBe('storage-unwritable');
      expect(error.message).toContain('Nothing saved before was lost');
      // A use that cannot be recorded does not stop the value from being delivered.
      expect(await vault.reveal(id, 'git fetch')).toBe(token.value);
      remount('rw');
      expect(readFileSync(file)).toEqual(before);
      expect(readdirSync(dataDir)).toEqual([VAULT_FILE]);
      expect(await open().reveal(id, 'git fetch')).toBe(token.value);
    });
  });
});
