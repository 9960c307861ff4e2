// Settings → Hands library through the real host's dispatcher (argument validation included), with a
// real vault in a temp folder: saved hands carry secret ids and come back with the secrets' names,
// never their values; the file is 0600; bad input is refused in words and stores nothing; a damaged
// file is reported, left byte for byte as it was, and every change is refused until it is fixed.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandLibraryListing } from '#shared/hand-library';
import { HAND_LIBRARY_FILE } from '#services/hands/hand-library';
import { dispatch, vaultHostRig, type Outcome, type VaultHostRig } from '#test/support/host-rig';

describe('Settings → Hands library over RPC', () => {
  let rig: VaultHostRig | undefined;
  let file: string;
  const KEY_VALUE = 'PRIVATE-KEY-VALUE-never-leaves-the-vault-0123456789';
  const TOKEN_VALUE = 'mcp-bearer-token-value-9876543210';
  let keyId: string;
  let tokenId: string;

  beforeAll(async () => {
    rig = vaultHostRig('drover-hand-library-');
    file = path.join(rig.dir, HAND_LIBRARY_FILE);
    keyId = (await rig.vault.create({ name: 'build box key', kind: 'ssh-private-key', value: KEY_VALUE })).id;
    tokenId = (await rig.vault.create({ name: 'docs token', kind: 'token', value: TOKEN_VALUE })).id;
  });

  afterAll(async () => {
    await rig?.close();
  });

  async function call<T>(name: string, arg: unknown): Promise<Outcome<T>> {
    if (rig === undefined) throw new Error('the set-up did not finish');
    return dispatch<T>(rig.host, name, arg);
  }
  async function listing(name: string, arg: unknown): Promise<HandLibraryListing> {
    const outcome = await call<HandLibraryListing>(name, arg);
    if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
    return outcome.result;
  }

  const machine = () => ({
    name: 'box',
    config: { kind: 'ssh', host: 'build.example.com', port: 2222, user: 'me', auth: { method: 'key', key_secret_id: keyId } },
  });
  const mcp = () => ({
    name: 'docs',
    config: { kind: 'mcp', transport: { type: 'http', url: 'https://docs.example.com/mcp', bearer_secret_id: tokenId } },
  });

  it('saves Docker presets, machines and MCP servers; lists them with their secrets by name; renames; deletes', async () => {
    expect(await listing('hand-library-list', undefined)).toEqual({ entries: [], error: null });

    await listing('hand-library-save', {
      label: 'Debian box',
      hand: { name: 'box', config: { kind: 'docker', image: 'debian:bookworm' } },
    });
    await listing('hand-library-save', { label: 'Build machine', hand: machine() });
    const saved = await listing('hand-library-save', { label: 'Docs server', hand: mcp() });
    expect(saved.error).toBeNull();
    expect(saved.entries.map((entry) => [entry.label, entry.hand.config.kind, entry.secrets])).toEqual([
      ['Debian box', 'docker', []],
      ['Build machine', 'ssh', [{ id: keyId, name: 'build box key' }]],
      ['Docs server', 'mcp', [{ id: tokenId, name: 'docs token' }]],
    ]);
    // Defaults are filled in, as the launch would record them.
    expect(saved.entries[0]?.hand.config).toMatchObject({ kind: 'docker', network: 'bridge', working_dir: '/workspace' });

    const text = readFileSync(file, 'utf8');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    for (const secret of [KEY_VALUE, TOKEN_VALUE]) {
      expect(text).not.toContain(secret);
      expect(JSON.stringify(saved)).not.toContain(secret);
    }

    const id = saved.entries[1]?.id ?? '';
    const renamed = await listing('hand-library-rename', { id, label: '  Build box  ' });
    expect(renamed.entries.map((entry) => entry.label)).toEqual(['Debian box', 'Build box', 'Docs server']);

    // A label is unique (case-insensitively): refused in words, nothing changed.
    const twice = await call('hand-library-save', { label: 'build BOX', hand: machine() });
    expect(twice).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringMatching(/already called "Build box"/) } });

    const after = await listing('hand-library-delete', { id: saved.entries[0]?.id });
    expect(after.entries.map((entry) => entry.label)).toEqual(['Build box', 'Docs server']);
    // A secret deleted from the vault is named as missing, not dropped.
    await call('secrets-delete', { id: tokenId });
    const missing = await listing('hand-library-list', undefined);
    expect(missing.entries[1]?.secrets).toEqual([{ id: tokenId, name: null }]);
  });

  it('refuses bad input with what is wrong, storing nothing', async () => {
    const before = readFileSync(file, 'utf8');
    const unknownKey = await call('hand-library-save', { label: 'X', hand: machine(), extra: 1 });
    expect(unknownKey).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    const badHand = await call('hand-library-save', { label: 'Y', hand: { name: 'Bad_Name', config: { kind: 'docker', image: 'x' } } });
    expect(badHand).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(JSON.stringify(badHand)).toMatch(/a hand name is 1–32 lowercase letters/);
    const noLabel = await call('hand-library-save', { label: '   ', hand: machine() });
    expect(JSON.stringify(noLabel)).toMatch(/give the saved hand a name/);
    const nobody = await call('hand-library-delete', { id: 'hlib_0000000000000000' });
    expect(nobody).toMatchObject({ ok: false, error: { code: 'not-found', message: expect.stringMatching(/no saved hand/) } });
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('a damaged file is reported and kept as it is; changes are refused until it is fixed', async () => {
    const good = readFileSync(file, 'utf8');
    const damaged = good.replace('"kind": "ssh"', '"kind": "telnet"');
    writeFileSync(file, damaged);
    const shown = await listing('hand-library-list', undefined);
    expect(shown.entries).toEqual([]);
    expect(shown.error).toMatch(/hand-library\.json is damaged \(.+\)\. It was left as it is: fix it, or move it aside/);
    const refused = await call('hand-library-save', { label: 'New', hand: mcp() });
    expect(refused).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringMatching(/is damaged/) } });
    expect(readFileSync(file, 'utf8')).toBe(damaged);

    writeFileSync(file, '{ not json');
    expect((await listing('hand-library-list', undefined)).error).toMatch(/damaged \(it is not JSON\)/);

    writeFileSync(file, good);
    expect((await listing('hand-library-list', undefined)).entries.map((entry) => entry.label)).toEqual(['Build box', 'Docs server']);
  });
});
