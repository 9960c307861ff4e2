/**
 * Docker hands on Docker engines of other machines (issue 22), on real parts: a second dockerd in a
 * network namespace of its own (test/support/second-engine.ts) reachable from this computer over a
 * veth pair, an OpenSSH server in the same namespace (test/support/sshd.ts), and the same dockerd
 * listening on TCP with `--tlsverify` and certificates made here by openssl. Secrets are in a real
 * vault; host keys are trusted in Drover's known-hosts list. Where a container runs is asked of
 * each engine with the docker CLI (`docker -H unix://<second engine> ps`, and the local one).
 */
import { spawn } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineConfigInput } from '#shared/engines';
import type { HandProgress } from '#shared/hands';
import type { SecretId } from '#shared/vault';
import { EnginePool } from '#services/engines/engine-pool';
import { EngineStore } from '#services/engines/engine-store';
import { HandRegistry } from '#services/hands/registry';
import { KnownHosts } from '#services/hands/ssh/known-hosts';
import { SessionStore } from '#services/session/store';
import { Vault } from '#services/vault/vault';
import { BUSYBOX_IMAGE, dockerCli, registryUnavailableReason, requireDocker } from '#test/support/docker';
import { FileKeySource } from '#test/support/file-key-source';
import { secondEngineUnavailableReason, startSecondEngine, type SecondEngine } from '#test/support/second-engine';
import { makeKey, sshdUnavailableReason, TestSshd, testUser } from '#test/support/sshd';
import { requirePart, tempDir } from '#test/support/system';
import { makeTlsMaterial, opensslUnavailableReason, type TlsMaterial } from '#test/support/tls-certs';
import { DockerEngine, instanceIdOf, LABELS } from './engine.ts';

const ready =
  (await requireDocker()) &&
  requirePart('a second Docker engine', secondEngineUnavailableReason()) &&
  requirePart('OpenSSH server', sshdUnavailableReason()) &&
  requirePart('openssl', opensslUnavailableReason()) &&
  requirePart('docker-registry', registryUnavailableReason());

const TLS_PORT = 2376;

describe.runIf(ready)('Docker hands on remote engines (ssh:// and tcp:// with TLS)', () => {
  let second: SecondEngine;
  let sshd: TestSshd;
  let tlsMaterial: TlsMaterial;
  let vault: Vault;
  let knownHosts: KnownHosts;
  let engines: EngineStore;
  let pool: EnginePool;
  let store: SessionStore;
  let registry: HandRegistry;
  let local: DockerEngine;
  let address: string;
  let secrets: { key: SecretId; ca: SecretId; cert: SecretId; clientKey: SecretId; otherCa: SecretId };
  const dir = tempDir('drover-remote-engine-');
  const sessions: string[] = [];
  const live: Array<{ sessionId: string; progress: HandProgress }> = [];

  beforeAll(async () => {
    second = await startSecondEngine({
      link: true,
      dockerdArgs: (at) => {
        tlsMaterial = makeTlsMaterial(at ?? '127.0.0.1');
        const { ca, serverCert, serverKey } = tlsMaterial.files;
        return ['--tlsverify', '--tlscacert', ca, '--tlscert', serverCert, '--tlskey', serverKey, '--host', `tcp://${at}:${TLS_PORT}`];
      },
    });
    address = second.address ?? '';
    second.loadImages(BUSYBOX_IMAGE);
    // The test user (sshd's logins) may use the second engine's socket.
    chmodSync(path.dirname(second.socket), 0o755);
    chmodSync(second.socket, 0o666);
    sshd = await TestSshd.start({ netns: second.netns, address });
    const key = makeKey(dir);
    sshd.authorize(key);
    vault = Vault.open({ dataDir: dir, keySource: new FileKeySource(path.join(tempDir('drover-remote-engine-key-'), 'vault.key')) });
    secrets = {
      key: (await vault.create({ name: 'engine key', kind: 'ssh-private-key', value: key.privateKey })).id,
      ca: (await vault.create({ name: 'engine CA', kind: 'tls-pem', value: tlsMaterial.ca })).id,
      cert: (await vault.create({ name: 'client cert', kind: 'tls-pem', value: tlsMaterial.clientCert })).id,
      clientKey: (await vault.create({ name: 'client key', kind: 'tls-pem', value: tlsMaterial.clientKey })).id,
      otherCa: (await vault.create({ name: 'wrong CA', kind: 'tls-pem', value: tlsMaterial.otherCa })).id,
    };
    knownHosts = new KnownHosts(path.join(dir, 'known-hosts.json'));
    store = SessionStore.open({ dataDir: dir });
    local = new DockerEngine({ instance: instanceIdOf(dir) });
    engines = new EngineStore(path.join(dir, 'engines.json'));
    pool = new EnginePool({ store: engines, local, knownHosts, secrets: vault });
    registry = new HandRegistry({
      store,
      docker: local,
      engines: pool,
      secrets: vault,
      knownHosts,
      onProgress: (sessionId, progress) => live.push({ sessionId, progress }),
      log: () => undefined,
    });
    engines.put({ id: 'local', kind: 'local', name: 'This computer', labels: ['near'] });
    engines.put(sshEngine());
    engines.put(tlsEngine());
  }, 180_000);

  afterAll(async () => {
    await registry?.close();
    pool?.close();
    // Whatever a test left on either engine (by this data folder's label).
    for (const cli of [(...args: string[]) => second?.docker(...args), dockerCli]) {
      try {
        const ids = cli('ps', '-aq', '--filter', `label=${LABELS.instance}=${instanceIdOf(dir)}`);
        if (ids) cli('rm', '-f', ...ids.split('\n'));
      } catch {
        // the engine is gone already
      }
    }
    await sshd?.stop();
    await second?.close();
    await vault?.close();
    store?.close();
    if (tlsMaterial) rmSync(tlsMaterial.dir, { recursive: true, force: true });
  }, 120_000);

  function sshEngine(overrides: Partial<EngineConfigInput> = {}): EngineConfigInput {
    return {
      id: 'far',
      kind: 'ssh',
      name: 'Far box',
      url: `ssh://${testUser().user}@${address}:${sshd.port}`,
      auth: { method: 'key', key_secret_id: secrets.key },
      socket_path: second.socket,
      labels: ['far', 'ssh'],
      ...overrides,
    } as EngineConfigInput;
  }

  function tlsEngine(ca: SecretId = secrets.ca): EngineConfigInput {
    return {
      id: 'tls',
      kind: 'tcp',
      name: 'TLS box',
      url: `tcp://${address}:${TLS_PORT}`,
      ca_secret_id: ca,
      cert_secret_id: secrets.cert,
      key_secret_id: secrets.clientKey,
      labels: ['far', 'tls'],
    };
  }

  function trustSshd(): void {
    knownHosts.trust({ host: address, port: sshd.port, algorithm: 'ssh-ed25519', fingerprint: sshd.hostFingerprint() });
  }

  /** A session with Docker hands (busybox, no network) configured by `hands`. */
  function session(hands: Record<string, Record<string, unknown>>): {
    id: string;
    run(hand: string, command: string): Promise<{ text: string; isError: boolean }>;
  } {
    const { id } = store.createSession({ title: 'remote engines' });
    sessions.push(id);
    for (const [name, config] of Object.entries(hands)) {
      registry.attach(id, { name, config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none', ...config } });
    }
    return {
      id,
      async run(hand, command) {
        const found = (await registry.handsFor(id)).find((candidate) => candidate.id === hand);
        if (!found) throw new Error(`no hand ${hand}`);
        const outcome = await found.execute(`${hand}__bash`, { command }, { signal: AbortSignal.timeout(90_000) });
        return { text: outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n'), isError: outcome.isError };
      },
    };
  }

  /** The session's containers on the second engine and on the local one (docker CLI). */
  function where(sessionId: string): { remote: string[]; local: string[] } {
    const ids = (text: string): string[] => text.split('\n').filter((line) => line !== '');
    const filter = `label=${LABELS.session}=${sessionId}`;
    return { remote: ids(second.docker('ps', '-q', '--filter', filter)), local: ids(dockerCli('ps', '-q', '--filter', filter)) };
  }

  function connectingNotes(sessionId: string): string[] {
    return store
      .getEvents(sessionId, { types: ['hand.provisioning'], limit: 100 })
      .flatMap((event) =>
        event.type === 'hand.provisioning' && event.payload.phase === 'connecting' ? [event.payload.message ?? ''] : [],
      );
  }

  it('Test of an ssh:// engine reports an unknown host key with its fingerprint, then the engine once trusted', async () => {
    knownHosts.forget(address, sshd.port);
    const unknown = await pool.test(engines.get('far')!);
    expect(unknown).toMatchObject({
      ok: false,
      trust: 'unknown',
      host_key: { host: address, port: sshd.port, fingerprint: sshd.hostFingerprint() },
    });
    expect(unknown.message).toContain(sshd.hostFingerprint());
    expect(knownHosts.check(unknown.host_key!)).toBe('unknown'); // testing never trusts

    trustSshd();
    const tested = await pool.test(engines.get('far')!);
    const info = JSON.parse(second.docker('info', '--format', '{{json .}}')) as {
      ServerVersion: string;
      NCPU: number;
      MemTotal: number;
      Images: number;
    };
    expect(tested).toMatchObject({
      ok: true,
      trust: 'trusted',
      version: info.ServerVersion,
      cpus: info.NCPU,
      memory_bytes: info.MemTotal,
      images: info.Images,
    });
    expect(tested.arch).toMatch(/^(amd64|arm64)$/);
    expect(tested.message).toMatch(/^Docker .+ CPUs, .+ GiB of memory, \d+ images/);
  }, 60_000);

  it('a hand on ssh:// runs its container on the second engine, not on this computer', async () => {
    trustSshd();
    const s = session({ far: { engine: 'far' } });
    const first = await s.run('far', 'echo hello from $(hostname)');
    expect(first.isError).toBe(false);
    expect(first.text).toContain('hello from');
    const found = where(s.id);
    expect(found.remote).toHaveLength(1);
    expect(found.local).toHaveLength(0);
    expect(connectingNotes(s.id)[0]).toMatch(/Runs on the Docker engine "Far box" \(ssh:\/\/.+\), named by the hand/);
    const ready = store.getEvents(s.id, { types: ['hand.ready'], limit: 10 })[0];
    expect(ready?.type === 'hand.ready' && ready.payload.detail).toMatch(/On the Docker engine "Far box" \(ssh:\/\/.+\)\.$/);
    // The hand's editor (file archive API) works there too.
    const hand = (await registry.handsFor(s.id)).find((candidate) => candidate.id === 'far')!;
    const created = await hand.execute(
      'far__editor',
      { command: 'create', path: '/workspace/note.txt', file_text: 'written over ssh\n' },
      { signal: AbortSignal.timeout(60_000) },
    );
    expect(created.isError).toBe(false);
    expect(second.docker('exec', found.remote[0]!, 'cat', '/workspace/note.txt')).toBe('written over ssh');
    // Deleting the session removes its container there (by label).
    await registry.sessionDeleted(s.id);
    expect(where(s.id).remote).toHaveLength(0);
  }, 120_000);

  it('checkpoints are captured from the container on the remote engine, and a fresh container there is restored from them', async () => {
    trustSshd();
    const s = session({ far: { engine: 'far' } });
    const hand = (await registry.handsFor(s.id)).find((candidate) => candidate.id === 'far')!;
    // A tool call as the harness records it: the result event makes the registry checkpoint the hand's files.
    const input = { command: 'mkdir -p /workspace/src && echo remote-checkpoint > /workspace/src/kept.txt' };
    store.emitEvent(s.id, { type: 'agent.tool_use', payload: { tool_use_id: 'toolu_remote1', name: 'far__bash', input, hand_id: 'far' } });
    const outcome = await hand.execute('far__bash', input, { signal: AbortSignal.timeout(60_000) });
    expect(outcome.isError).toBe(false);
    store.emitEvent(s.id, {
      type: 'agent.tool_result',
      payload: { tool_use_id: 'toolu_remote1', content: outcome.content, is_error: false },
    });
    await registry.settled();
    const checkpoints = store.getEvents(s.id, { types: ['hand.checkpoint'], limit: 10 });
    expect(checkpoints).toHaveLength(1);
    // The container is removed on the remote engine behind Drover's back: the next call starts a fresh one there, with the files.
    const [first] = where(s.id).remote;
    second.docker('rm', '-f', first!);
    const lost = await s.run('far', 'true');
    if (lost.isError) expect(lost.text).toMatch(/lost/); // the call that finds it gone says so; the next starts afresh
    const back = await s.run('far', 'cat /workspace/src/kept.txt');
    expect(back.text).toContain('remote-checkpoint');
    const now = where(s.id);
    expect(now.remote).toHaveLength(1);
    expect(now.remote[0]).not.toBe(first);
    expect(now.local).toHaveLength(0);
    const ready = store.getEvents(s.id, { types: ['hand.ready'], limit: 10 }).at(-1);
    expect(ready?.type === 'hand.ready' && ready.payload.restored_from).toMatchObject({ session_id: s.id });
    await registry.sessionDeleted(s.id);
  }, 120_000);

  it('an image missing on the remote engine is pulled there, with progress, and the log says so', async () => {
    trustSshd();
    // A registry inside the engine's namespace (its 127.0.0.1): the engine pushes the image there and forgets it.
    const registryDir = tempDir('drover-remote-registry-');
    writeFileSync(
      path.join(registryDir, 'config.yml'),
      `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${registryDir}/data\nhttp:\n  addr: 127.0.0.1:5000\n`,
    );
    const registryProcess = spawn('nsenter', [`--net=${second.netns}`, 'docker-registry', 'serve', path.join(registryDir, 'config.yml')], {
      stdio: 'ignore',
    });
    try {
      const reference = '127.0.0.1:5000/drover-remote/pulled:1';
      // An image with a layer of its own (the base layer is on the engine already).
      const maker = `drover-remote-layer-${Date.now()}`;
      second.docker('run', '--name', maker, BUSYBOX_IMAGE, 'sh', '-c', 'echo layer > /layer.txt');
      second.docker('commit', maker, reference);
      second.docker('rm', maker);
      for (let attempt = 0; ; attempt++) {
        try {
          second.docker('push', reference);
          break;
        } catch (error) {
          if (attempt > 40) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
      second.docker('rmi', reference);
      const s = session({ far: { engine: 'far', image: reference } });
      const out = await s.run('far', 'echo pulled');
      expect(out).toMatchObject({ isError: false });
      // Live progress per layer, as the engine reported it over SSH.
      const pulled = live.filter((entry) => entry.sessionId === s.id && entry.progress.phase === 'pulling').map((entry) => entry.progress);
      expect(pulled.at(-1)).toMatchObject({
        message: expect.stringMatching(/^Pulling .+: 2\/2 layers$/),
        layers: expect.arrayContaining([expect.objectContaining({ status: 'Pull complete' })]),
      });
      const pulling = store
        .getEvents(s.id, { types: ['hand.provisioning'], limit: 100 })
        .filter((event) => event.type === 'hand.provisioning' && event.payload.phase === 'pulling');
      expect(pulling).toHaveLength(1);
      expect(pulling[0]?.type === 'hand.provisioning' && pulling[0].payload.message).toBe(`Pulling ${reference}`);
      expect(second.docker('images', '-q', reference)).not.toBe('');
      expect(() => dockerCli('image', 'inspect', reference)).toThrow(); // pulled there, not here
      await registry.sessionDeleted(s.id);
      second.docker('rmi', '-f', reference);
    } finally {
      registryProcess.kill();
      rmSync(registryDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a dropped link mid-command gives hand.lost; once the machine is back, the hand works again', async () => {
    trustSshd();
    const s = session({ far: { engine: 'far' } });
    expect((await s.run('far', 'echo up')).text).toContain('up');
    const running = s.run('far', 'sleep 5; echo finished');
    await new Promise((resolve) => setTimeout(resolve, 800));
    sshd.kill(); // sshd and every connection's process: the link drops
    const cut = await running;
    expect(cut.isError).toBe(true);
    const lost = store.getEvents(s.id, { types: ['hand.lost'], limit: 10 });
    expect(lost).toHaveLength(1);
    expect(lost[0]?.type === 'hand.lost' && lost[0].payload.reason).toMatch(/Far box.*cannot be reached/);
    await sshd.restart();
    const back = await s.run('far', 'echo back');
    expect(back.isError).toBe(false);
    expect(back.text).toContain('back');
    expect(where(s.id).remote.length).toBeGreaterThanOrEqual(1);
    expect(where(s.id).local).toHaveLength(0);
  }, 120_000);

  it('requirements route two hands to two engines, and the log says which and why', async () => {
    trustSshd();
    const localArch = JSON.parse(dockerCli('info', '--format', '{{json .Architecture}}')) as string;
    const arch = localArch === 'aarch64' ? 'arm64' : 'amd64';
    const s = session({
      near: { requirements: { arch, labels: ['near'] } },
      away: { requirements: { labels: ['far', 'ssh'], min_cpus: 1 } },
    });
    expect((await s.run('near', 'echo near')).text).toContain('near');
    expect((await s.run('away', 'echo away')).text).toContain('away');
    const found = where(s.id);
    expect(found.local).toHaveLength(1);
    expect(found.remote).toHaveLength(1);
    const hands = (id: string) => JSON.parse(second.docker('inspect', '--format', '{{json .Config.Labels}}', id)) as Record<string, string>;
    expect(hands(found.remote[0]!)[LABELS.hand]).toBe('away');
    const notes = connectingNotes(s.id);
    expect(notes).toHaveLength(2);
    expect(notes.find((note) => note.startsWith('Runs on the Docker engine "This computer"'))).toMatch(
      /picked by the hand's requirements: it has architecture/,
    );
    expect(notes.find((note) => note.startsWith('Runs on the Docker engine "Far box"'))).toMatch(
      /Not picked: "This computer": it has no label "far"/,
    );
    // Requirements no engine meets: refused, naming each engine and what it lacks.
    const none = session({ gpu: { requirements: { gpu: true } } });
    const refused = await none.run('gpu', 'true');
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/No Docker engine has what this hand asks for.*"This computer": it has no GPU runtime/s);
    await registry.sessionDeleted(s.id);
  }, 120_000);

  it('a hand with a git repository is refused on a remote engine with the reason', async () => {
    trustSshd();
    const s = session({
      far: { engine: 'far', network: 'bridge', repos: [{ url: 'https://git.example.com/team/app.git', path: '/workspace/app' }] },
    });
    const refused = await s.run('far', 'true');
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/on another machine.*git proxy/s);
    expect(where(s.id).remote).toHaveLength(0);
  }, 60_000);

  it('tcp:// with TLS: Test, and a hand whose container runs on that engine; a wrong CA is refused in words', async () => {
    const tested = await pool.test(engines.get('tls')!);
    expect(tested).toMatchObject({ ok: true, host_key: null });
    const s = session({ box: { engine: 'tls' } });
    const out = await s.run('box', 'echo over tls');
    expect(out).toMatchObject({ isError: false });
    expect(out.text).toContain('over tls');
    expect(where(s.id)).toMatchObject({ remote: [expect.any(String)], local: [] });
    await registry.sessionDeleted(s.id);

    const wrong = await pool.test({ ...tlsEngine(secrets.otherCa), id: 'tls-wrong', name: 'wrong CA' } as never);
    expect(wrong.ok).toBe(false);
    expect(wrong.message).toMatch(/"wrong CA" \(tcp:\/\/.+\) cannot be reached: the TLS handshake failed/);
  }, 120_000);

  it('a changed host key is refused (Test and hands), in words', async () => {
    trustSshd();
    await sshd.changeHostKey();
    const tested = await pool.test(engines.get('far')!);
    expect(tested).toMatchObject({ ok: false, trust: 'changed' });
    expect(tested.message).toMatch(/host key .* has changed/);
    pool.close(); // the hand's engine connects afresh
    const s = session({ far: { engine: 'far' } });
    const refused = await s.run('far', 'true');
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/has changed — possibly a man-in-the-middle attack.*refused to connect/s);
    expect(where(s.id).remote).toHaveLength(0);
  }, 60_000);
});
