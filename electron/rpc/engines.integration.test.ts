// Settings → Engines through the real host's dispatcher (argument validation included), with a real
// vault in a temp folder and the real local Docker engine: the list always starts with this
// computer's engine; bad input is refused in words and stores nothing; configurations carry secret
// ids, never values; Test reports the local engine's facts, and an unreachable engine says why.
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineConfig, EngineTestResult } from '#shared/engines';
import type { Vault } from '#services/vault/vault';
import { dockerCli, requireDocker } from '#test/support/docker';
import { dispatch, vaultHostRig, type Outcome, type VaultHostRig } from '#test/support/host-rig';
import { makeKey, type KeyPair } from '#test/support/sshd';
import { makeTlsMaterial } from '#test/support/tls-certs';

const ready = await requireDocker();

describe.runIf(ready)('Settings → Engines over RPC', () => {
  let rig: VaultHostRig | undefined;
  let vault: Vault;
  let keyId: string;
  let key: KeyPair;

  beforeAll(async () => {
    rig = vaultHostRig('drover-engines-rpc-');
    vault = rig.vault;
    key = makeKey(rig.dir);
    keyId = (await vault.create({ name: 'engine key', kind: 'ssh-private-key', value: key.privateKey })).id;
  });

  afterAll(async () => {
    await rig?.close();
  });

  async function call<T>(name: string, arg: unknown): Promise<Outcome<T>> {
    if (rig === undefined) throw new Error('the set-up did not finish');
    return dispatch<T>(rig.host, name, arg);
  }

  it('lists this computer first; refuses bad engines in words, storing nothing; keeps secret ids, never values', async () => {
    expect(await call<EngineConfig[]>('engines-list', undefined)).toEqual({
      ok: true,
      result: [{ id: 'local', kind: 'local', name: 'This computer', labels: [] }],
    });
    const bad = await call('engines-put', {
      engine: { id: 'far', kind: 'ssh', name: 'Far', url: 'http://far', auth: { method: 'key', key_secret_id: keyId } },
    });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(JSON.stringify(bad)).toMatch(/ssh:\/\/user@host/);
    const stolen = await call('engines-put', {
      engine: {
        id: 'local',
        kind: 'tcp',
        name: 'X',
        url: 'tcp://x:2376',
        ca_secret_id: keyId,
        cert_secret_id: keyId,
        key_secret_id: keyId,
      },
    });
    expect(stolen).toMatchObject({ ok: false, error: { message: expect.stringMatching(/"local" is this computer's engine/) } });
    expect(await call<EngineConfig[]>('engines-list', undefined)).toMatchObject({ ok: true, result: [{ id: 'local' }] });

    const saved = await call<EngineConfig[]>('engines-put', {
      engine: {
        id: 'far',
        kind: 'ssh',
        name: 'Far',
        url: 'ssh://me@127.0.0.1:1',
        auth: { method: 'key', key_secret_id: keyId },
        labels: ['gpu'],
      },
    });
    expect(saved).toMatchObject({
      ok: true,
      result: [{ id: 'local' }, { id: 'far', socket_path: '/var/run/docker.sock', labels: ['gpu'] }],
    });
    expect(JSON.stringify(saved)).not.toContain(key.privateKey.split('\n')[1]);
    const labelled = await call<EngineConfig[]>('engines-put', {
      engine: { id: 'local', kind: 'local', name: 'Laptop', labels: ['near'] },
    });
    expect(labelled).toMatchObject({ ok: true, result: [{ id: 'local', name: 'Laptop', labels: ['near'] }, { id: 'far' }] });
  });

  it("Test: this computer's engine shows its facts; an engine nobody answers at says why", async () => {
    const local = await call<EngineTestResult>('engines-test', { engine: { id: 'local', kind: 'local', name: 'Laptop', labels: [] } });
    const version = dockerCli('version', '--format', '{{.Server.Version}}');
    expect(local).toMatchObject({ ok: true, result: { ok: true, version, trust: null } });
    if (local.ok) expect(local.result.cpus).toBeGreaterThan(0);

    const port = await closedPort();
    const far = await call<EngineTestResult>('engines-test', {
      engine: { id: 'far', kind: 'ssh', name: 'Far', url: `ssh://me@127.0.0.1:${port}`, auth: { method: 'key', key_secret_id: keyId } },
    });
    expect(far).toMatchObject({ ok: true, result: { ok: false, version: null } });
    if (far.ok)
      expect(far.result.message).toMatch(
        /Could not reach me@127\.0\.0\.1:\d+ at 127\.0\.0\.1:\d+: the connection was refused: no sshd listens there/,
      );
    const bad = await call<EngineTestResult>('engines-test', {
      engine: {
        id: 'tls',
        kind: 'tcp',
        name: 'TLS',
        url: `tcp://127.0.0.1:${port}`,
        ca_secret_id: keyId,
        cert_secret_id: keyId,
        key_secret_id: keyId,
      },
    });
    if (bad.ok)
      expect(bad.result.message).toMatch(
        /"TLS" \(tcp:.+\) cannot be reached: its TLS certificates from the vault cannot be used .*as PEM text/,
      );
    else throw new Error(bad.error.message);
    const material = makeTlsMaterial('127.0.0.1');
    const pem = async (name: string, value: string) => (await vault.create({ name, kind: 'tls-pem', value })).id;
    const [ca, cert, tlsKey] = [await pem('ca', material.ca), await pem('cert', material.clientCert), await pem('key', material.clientKey)];
    rmSync(material.dir, { recursive: true, force: true });
    const tls = await call<EngineTestResult>('engines-test', {
      engine: {
        id: 'tls',
        kind: 'tcp',
        name: 'TLS',
        url: `tcp://127.0.0.1:${port}`,
        ca_secret_id: ca,
        cert_secret_id: cert,
        key_secret_id: tlsKey,
      },
    });
    expect(tls).toMatchObject({ ok: true, result: { ok: false } });
    if (tls.ok)
      expect(tls.result.message).toMatch(/"TLS" \(tcp:\/\/127\.0\.0\.1:\d+\) cannot be reached: nothing listens at 127\.0\.0\.1:\d+/);
  });

  it('removes an added engine, never this computer’s', async () => {
    expect(await call('engines-remove', { id: 'local' })).toMatchObject({
      ok: false,
      error: { message: "This computer's engine cannot be removed." },
    });
    expect(await call<EngineConfig[]>('engines-remove', { id: 'far' })).toMatchObject({ ok: true, result: [{ id: 'local' }] });
    expect(await call('engines-remove', { id: 'far' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });
});

/** A port on 127.0.0.1 nothing listens on (taken, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 1;
      server.close(() => resolve(port));
    });
  });
}
