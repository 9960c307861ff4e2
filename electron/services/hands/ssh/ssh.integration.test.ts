/**
 * SSH hands against a real OpenSSH server on 127.0.0.1 (test/support/sshd.ts), with secrets in a
 * real vault in a temp folder: every way to log in, ProxyJump, host key trust, the persistent
 * shell, the editor over SFTP, and a machine that drops mid-command.
 */
import { rmSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { NewEvent } from '#shared/events';
import { SshHandConfigSchema, type SshHandConfig } from '#shared/hands';
import type { SecretId } from '#shared/vault';
import type { ToolOutcome } from '#services/hands/hand';
import { DockerEngine } from '#services/hands/docker/engine';
import { HandRegistry } from '#services/hands/registry';
import { SessionStore } from '#services/session/store';
import { Vault } from '#services/vault/vault';
import { FileKeySource } from '#test/support/file-key-source';
import { keygenFingerprint, makeKey, requireSshd, startAgent, TestSshd, testUser, type KeyPair } from '#test/support/sshd';
import { tempDir } from '#test/support/system';
import { SshConnectError, SshConnection, testConnection, type SshDeps } from './connection.ts';
import { fingerprintOf, KnownHosts } from './known-hosts.ts';
import { SshHand } from './ssh-hand.ts';

const ready = requireSshd();

function outputOf(outcome: ToolOutcome): string {
  return outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
}

describe.runIf(ready)('SSH hands on a real sshd', () => {
  let sshd: TestSshd;
  let jumpSshd: TestSshd;
  let vault: Vault;
  let knownHosts: KnownHosts;
  let deps: SshDeps;
  let plainKey: KeyPair;
  let lockedKey: KeyPair;
  let ids: { plain: SecretId; locked: SecretId; passphrase: SecretId; wrongPassphrase: SecretId; password: SecretId };
  let user: string;
  const keys = tempDir('drover-ssh-keys-');

  beforeAll(async () => {
    user = testUser().user;
    [sshd, jumpSshd] = await Promise.all([TestSshd.start(), TestSshd.start()]);
    plainKey = makeKey(keys);
    lockedKey = makeKey(keys, 'correct horse');
    for (const server of [sshd, jumpSshd]) {
      server.authorize(plainKey);
      server.authorize(lockedKey);
    }
    const dataDir = tempDir('drover-ssh-vault-');
    vault = Vault.open({ dataDir, keySource: new FileKeySource(path.join(tempDir('drover-ssh-vault-key-'), 'vault.key')) });
    ids = {
      plain: (await vault.create({ name: 'plain key', kind: 'ssh-private-key', value: plainKey.privateKey })).id,
      locked: (await vault.create({ name: 'locked key', kind: 'ssh-private-key', value: lockedKey.privateKey })).id,
      passphrase: (await vault.create({ name: 'passphrase', kind: 'ssh-passphrase', value: 'correct horse' })).id,
      wrongPassphrase: (await vault.create({ name: 'wrong passphrase', kind: 'ssh-passphrase', value: 'battery staple' })).id,
      password: (await vault.create({ name: 'password', kind: 'password', value: testUser().password })).id,
    };
    knownHosts = new KnownHosts(path.join(dataDir, 'known-hosts.json'));
    deps = { secrets: vault, knownHosts };
  }, 60_000);

  afterAll(async () => {
    await Promise.all([sshd?.stop(), jumpSshd?.stop()]);
    await vault?.close();
  });

  function config(overrides: Partial<SshHandConfig> = {}, server = sshd): SshHandConfig {
    return SshHandConfigSchema.parse({
      kind: 'ssh',
      host: '127.0.0.1',
      port: server.port,
      user,
      auth: { method: 'key', key_secret_id: ids.plain },
      ...overrides,
    });
  }

  function trustServer(server: TestSshd): void {
    knownHosts.trust({ host: '127.0.0.1', port: server.port, algorithm: 'ssh-ed25519', fingerprint: server.hostFingerprint() });
  }

  describe('host keys', () => {
    it('refuses an unknown host key until the user trusts it; testConnection shows the fingerprint ssh-keygen prints', async () => {
      knownHosts.forget('127.0.0.1', sshd.port);
      const expected = sshd.hostFingerprint();
      expect(expected).toBe(keygenFingerprint(`${sshd.hostKeyFile}.pub`));

      const refused = await SshConnection.open(config(), deps).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(SshConnectError);
      expect((refused as SshConnectError).reason).toBe('host-unknown');
      expect((refused as SshConnectError).message).toContain(expected);
      expect((refused as SshConnectError).message).toMatch(/confirm this fingerprint/);

      const tested = await testConnection(config(), deps);
      expect(tested).toMatchObject({
        ok: false,
        trust: 'unknown',
        hostKey: { host: '127.0.0.1', port: sshd.port, algorithm: 'ssh-ed25519', fingerprint: expected },
      });
      expect(knownHosts.check(tested.hostKey!)).toBe('unknown'); // testing never trusts

      knownHosts.trust(tested.hostKey!);
      const ok = await testConnection(config(), deps);
      expect(ok).toMatchObject({ ok: true, trust: 'trusted', jumpHostKey: null, jumpTrust: null });
      expect(ok.os).toMatch(/^Linux /);
      expect(ok.latencyMs).toBeGreaterThanOrEqual(0);
      expect(knownHosts.list()).toContainEqual(tested.hostKey);
    });

    it('computes fingerprints exactly as OpenSSH (SHA256, unpadded base64)', () => {
      const blob = Buffer.from(plainKey.publicKey.split(' ')[1] ?? '', 'base64');
      expect(fingerprintOf(blob)).toBe(keygenFingerprint(`${plainKey.file}.pub`));
    });

    it('refuses a changed host key with a man-in-the-middle warning naming both fingerprints', async () => {
      const server = await TestSshd.start();
      try {
        server.authorize(plainKey);
        trustServer(server);
        const old = server.hostFingerprint();
        expect((await testConnection(config({}, server), deps)).ok).toBe(true);
        await server.changeHostKey();
        const fresh = server.hostFingerprint();
        const tested = await testConnection(config({}, server), deps);
        expect(tested).toMatchObject({ ok: false, trust: 'changed', hostKey: { fingerprint: fresh } });
        expect(tested.message).toMatch(/man-in-the-middle/);
        expect(tested.message).toContain(old);
        expect(tested.message).toContain(fresh);
        const error = await SshConnection.open(config({}, server), deps).catch((caught: unknown) => caught);
        expect(error).toMatchObject({ reason: 'host-changed' });
        expect(knownHosts.check(tested.hostKey!)).toBe('changed'); // still the old one
      } finally {
        await server.stop();
      }
    });

    it('a host key changed behind a dropped connection: the hand says the command did not run, why, and what to do', async () => {
      const server = await TestSshd.start();
      const recorded: NewEvent[] = [];
      const hand = new SshHand(
        { sessionId: 'ses_hostkey', name: 'moved', config: config({}, server) },
        { record: (event) => recorded.push(event), progress: () => undefined, log: () => undefined },
        deps,
        [100, 200],
      );
      const signal = new AbortController().signal;
      try {
        server.authorize(plainKey);
        trustServer(server);
        const old = server.hostFingerprint();
        expect(outputOf(await hand.execute('bash', { command: 'echo first' }, { signal }))).toContain('first');
        await server.changeHostKey();
        // Let the drop reach the client first, so the next call meets a closed connection and reconnects.
        await new Promise((resolve) => setTimeout(resolve, 300));
        const outcome = await hand.execute('bash', { command: 'echo should-not-run' }, { signal });
        const said = outputOf(outcome);
        expect(outcome.isError).toBe(true);
        expect(said).not.toMatch(/ran on a new connection/);
        expect(said).not.toContain('should-not-run');
        expect(said).toMatch(/The command did not run: the host key of .* changed since you trusted it/);
        expect(said).toContain(old);
        expect(said).toContain(server.hostFingerprint());
        expect(said).toMatch(/forget the old key in the hand's settings and confirm the new fingerprint/);
        expect(said).not.toMatch(/next call tries again/);
        expect(recorded.map((event) => event.type)).toEqual([
          'hand.provisioning',
          'hand.ready',
          'hand.lost',
          'hand.provisioning',
          'hand.failed',
        ]);
      } finally {
        await hand.dispose({ keep: false });
        await server.stop();
      }
    });

    it('keeps the trusted keys in a 0600 file', () => {
      trustServer(sshd);
      expect(statSync(knownHosts.file).mode & 0o777).toBe(0o600);
    });
  });

  describe('logging in', () => {
    beforeAll(() => {
      trustServer(sshd);
      trustServer(jumpSshd);
    });

    it('with a private key', async () => {
      expect(await testConnection(config(), deps)).toMatchObject({ ok: true });
    });

    it('with a key and its passphrase', async () => {
      const result = await testConnection(
        config({ auth: { method: 'key', key_secret_id: ids.locked, passphrase_secret_id: ids.passphrase } }),
        deps,
      );
      expect(result).toMatchObject({ ok: true });
    });

    it('says when the passphrase is wrong or missing', async () => {
      const wrong = await testConnection(
        config({ auth: { method: 'key', key_secret_id: ids.locked, passphrase_secret_id: ids.wrongPassphrase } }),
        deps,
      );
      expect(wrong.ok).toBe(false);
      expect(wrong.message).toMatch(/passphrase .* is wrong/);
      const missing = await testConnection(
        config({ auth: { method: 'key', key_secret_id: ids.locked, passphrase_secret_id: null } }),
        deps,
      );
      expect(missing.message).toMatch(/protected by a passphrase/);
    });

    it('with a password, and says which method was refused', async () => {
      expect(await testConnection(config({ auth: { method: 'password', password_secret_id: ids.password } }), deps)).toMatchObject({
        ok: true,
      });
      const refused = await testConnection(config({ auth: { method: 'password', password_secret_id: ids.wrongPassphrase } }), deps);
      expect(refused.ok).toBe(false);
      expect(refused.message).toMatch(/refused the login as drover-ssh-test with the password/);
    });

    it('with ssh-agent, and says when there is no agent', async () => {
      const agent = await startAgent([plainKey]);
      try {
        expect(await testConnection(config({ auth: { method: 'agent' } }), { ...deps, agentSocket: agent.socket })).toMatchObject({
          ok: true,
        });
      } finally {
        agent.stop();
      }
      const saved = process.env['SSH_AUTH_SOCK'];
      delete process.env['SSH_AUTH_SOCK'];
      try {
        const missing = await testConnection(config({ auth: { method: 'agent' } }), deps);
        expect(missing.message).toMatch(/SSH_AUTH_SOCK is not set/);
      } finally {
        if (saved !== undefined) process.env['SSH_AUTH_SOCK'] = saved;
      }
    });

    it('says when nothing listens at the host and port', async () => {
      const result = await testConnection(config({ port: 1 }), deps);
      expect(result.ok).toBe(false);
      expect(result.message).toMatch(/Could not reach .*127\.0\.0\.1:1.*refused/);
    });

    it('through a jump host (ProxyJump), checking both host keys', async () => {
      const jump = {
        host: '127.0.0.1',
        port: jumpSshd.port,
        user,
        auth: { method: 'password' as const, password_secret_id: ids.password },
      };
      const result = await testConnection(config({ jump }), deps);
      expect(result).toMatchObject({
        ok: true,
        trust: 'trusted',
        jumpTrust: 'trusted',
        jumpHostKey: { fingerprint: jumpSshd.hostFingerprint() },
      });

      knownHosts.forget('127.0.0.1', jumpSshd.port);
      const unknownJump = await testConnection(config({ jump }), deps);
      expect(unknownJump).toMatchObject({ ok: false, jumpTrust: 'unknown', hostKey: null });
      expect(unknownJump.message).toContain(jumpSshd.hostFingerprint());
      trustServer(jumpSshd);
    });

    it("turns Nagle's algorithm off on each hop's TCP socket, so a command's small packets never wait for the peer's delayed ACK", async () => {
      // Not timed (machines are noisy; `npm run bench` has the figure): the final TCP_NODELAY
      // setting of the real sockets ssh2 opened, directly and to a jump host.
      const setNoDelay = vi.spyOn(Socket.prototype, 'setNoDelay');
      const jump = {
        host: '127.0.0.1',
        port: jumpSshd.port,
        user,
        auth: { method: 'key' as const, key_secret_id: ids.plain, passphrase_secret_id: null },
      };
      const opened: SshConnection[] = [];
      try {
        opened.push(await SshConnection.open(config(), deps), await SshConnection.open(config({ jump }), deps));
        for (const connection of opened) expect((await connection.exec('echo ok')).output.toString().trim()).toBe('ok');
        const noDelayOf = (port: number): boolean[] => {
          const last = new Map<Socket, boolean>();
          setNoDelay.mock.calls.forEach(([enable], i) => {
            const socket: unknown = setNoDelay.mock.contexts[i];
            if (socket instanceof Socket && socket.remotePort === port) last.set(socket, enable ?? true);
          });
          return [...last.values()];
        };
        expect(noDelayOf(sshd.port)).toEqual([true]); // the direct connection's socket
        expect(noDelayOf(jumpSshd.port)).toEqual([true]); // the jump host's, which carries the target's channel
      } finally {
        setNoDelay.mockRestore();
        for (const connection of opened) connection.close();
      }
    });
  });

  describe('the hand', () => {
    const events: NewEvent[] = [];
    let hand: SshHand;
    const signal = new AbortController().signal;
    let workDir: string;

    beforeAll(() => {
      trustServer(sshd);
      workDir = `${testUser().home}/work-${Date.now()}/project`;
      hand = new SshHand(
        { sessionId: 'ses_test', name: 'box', config: config({ working_dir: workDir }) },
        { record: (event) => events.push(event), progress: () => undefined, log: () => undefined },
        deps,
        [100, 200],
      );
    });

    afterAll(async () => {
      await hand?.dispose({ keep: false });
      rmSync(path.dirname(workDir), { recursive: true, force: true });
    });

    it('connects lazily, in its working folder (created), and keeps the shell between calls', async () => {
      expect(hand.status().state).toBe('idle');
      const first = await hand.execute(
        'bash',
        { command: 'pwd; whoami; cd sub 2>/dev/null || mkdir sub && cd sub; export GREETING=hello' },
        { signal },
      );
      expect(first.isError).toBe(false);
      expect(outputOf(first)).toContain(workDir);
      expect(outputOf(first)).toContain(user);
      expect(events.map((event) => event.type)).toEqual(['hand.provisioning', 'hand.ready']);
      expect(events[0]).toMatchObject({ payload: { phase: 'connecting' } });
      expect(events[1]).toMatchObject({ payload: { hand_id: 'box', container: `${user}@127.0.0.1:${sshd.port}` } });
      expect(hand.status()).toMatchObject({ state: 'ready', container: `${user}@127.0.0.1:${sshd.port}` });

      const second = await hand.execute('bash', { command: 'pwd; echo "$GREETING"; echo $BASH_VERSION | cut -c1' }, { signal });
      expect(outputOf(second)).toContain(`${workDir}/sub\nhello\n`);
      expect(outputOf(second)).toMatch(/\[exit code 0 · /);
    });

    it('kills a command at its timeout, and the next command runs in a new shell in the same folder', async () => {
      const slow = await hand.execute('bash', { command: 'echo begun; sleep 30; echo never', timeout_seconds: 1 }, { signal });
      expect(slow.isError).toBe(true);
      expect(outputOf(slow)).toContain('begun');
      expect(outputOf(slow)).not.toContain('never');
      expect(outputOf(slow)).toMatch(/timed out after 1 s/);
      const after = await hand.execute('bash', { command: 'pwd; pgrep -u drover-ssh-test -f "sleep 30" || echo none left' }, { signal });
      expect(outputOf(after)).toContain(`${workDir}/sub`);
      expect(outputOf(after)).toContain('none left');
    }, 20_000);

    it('stops a command when the user interrupts, and carries on in a new shell', async () => {
      const controller = new AbortController();
      let seen = '';
      const running = hand.execute(
        'bash',
        { command: 'echo begun; sleep 30' },
        { signal: controller.signal, onProgress: (text) => (seen = text) },
      );
      for (let i = 0; i < 100 && !seen.includes('begun'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      controller.abort();
      const stopped = await running;
      expect(stopped.isError).toBe(true);
      expect(outputOf(stopped)).toMatch(/stopped by the user/);
      expect(outputOf(await hand.execute('bash', { command: 'echo fine' }, { signal }))).toContain('fine');
    }, 20_000);

    it('caps huge output, keeping head and tail', async () => {
      const huge = await hand.execute('bash', { command: 'seq 1 200000' }, { signal });
      const text = outputOf(huge);
      expect(text.length).toBeLessThan(40_000);
      expect(text).toMatch(/^1\n2\n3\n/);
      expect(text).toContain('200000');
      expect(text).toMatch(/characters cut from the middle/);
    });

    it('edits files over SFTP: create, view, str_replace', async () => {
      const created = await hand.execute(
        'editor',
        { command: 'create', path: 'notes/todo.txt', file_text: 'one\ntwo\nthree\n' },
        { signal },
      );
      expect(created.isError).toBe(false);
      const viewed = await hand.execute('editor', { command: 'view', path: `${workDir}/sub/notes/todo.txt` }, { signal });
      expect(outputOf(viewed)).toMatch(/two/);
      const replaced = await hand.execute(
        'editor',
        { command: 'str_replace', path: 'notes/todo.txt', old_str: 'two', new_str: 'TWO' },
        { signal },
      );
      expect(replaced.isError).toBe(false);
      const cat = await hand.execute('bash', { command: 'cat notes/todo.txt; stat -c %U notes/todo.txt' }, { signal });
      expect(outputOf(cat)).toContain('one\nTWO\nthree\ndrover-ssh-test');
      const listed = await hand.execute('editor', { command: 'view', path: '.' }, { signal });
      expect(outputOf(listed)).toContain('notes/');
    });

    it('when the machine drops mid-command: an interrupted error with the output so far, hand.lost, and a fresh connection next', async () => {
      events.length = 0;
      let seen = '';
      const running = hand.execute(
        'bash',
        { command: 'echo started-work; sleep 20; echo finished-work' },
        {
          signal,
          onProgress: (text) => {
            seen = text;
          },
        },
      );
      for (let i = 0; i < 100 && !seen.includes('started-work'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      sshd.kill();
      const outcome = await running;
      expect(outcome.isError).toBe(true);
      expect(outputOf(outcome)).toMatch(/interrupted by the dropped connection/);
      expect(outputOf(outcome)).toContain('started-work');
      expect(outputOf(outcome)).not.toContain('finished-work');
      expect(events.map((event) => event.type)).toContain('hand.lost');
      expect(hand.status().state).toBe('lost');

      await sshd.restart();
      const again = await hand.execute('bash', { command: 'echo back; pwd' }, { signal });
      expect(again.isError).toBe(false);
      expect(outputOf(again)).toContain(`back\n${workDir}`);
      expect(events.map((event) => event.type)).toEqual(['hand.lost', 'hand.provisioning', 'hand.ready']);
      expect(hand.status().state).toBe('ready');
    }, 30_000);

    it('a machine that stays down is a tool error saying it was unreachable', async () => {
      sshd.kill();
      // Let the drop reach the client first (a command sent into the dying connection is "interrupted" instead).
      await new Promise((resolve) => setTimeout(resolve, 300));
      try {
        const outcome = await hand.execute('bash', { command: 'true' }, { signal });
        expect(outputOf(outcome)).toMatch(/previous SSH connection dropped/);
        expect(outcome.isError).toBe(true);
        expect(outputOf(outcome)).toMatch(/Could not reach .*refused/);
        expect(hand.status().state).toBe('failed');
      } finally {
        await sshd.restart();
      }
      const outcome = await hand.execute('bash', { command: 'echo ok' }, { signal });
      expect(outputOf(outcome)).toContain('ok');
    }, 30_000);
  });

  it('files follow forks: without per-call checkpoints each turn end is kept in a shadow store, and a fork starts from its fork point', async () => {
    trustServer(sshd);
    const dataDir = tempDir('drover-ssh-forks-');
    const store = SessionStore.open({ dataDir });
    // Turn-end shadow-git snapshots, as before per-call checkpoints (and as older logs have them).
    const registry = new HandRegistry({
      store,
      docker: new DockerEngine({ instance: 'ssh-forks' }),
      secrets: vault,
      knownHosts,
      checkpoints: false,
      log: () => undefined,
    });
    const signal = new AbortController().signal;
    const folder = `${testUser().home}/forks-${Date.now()}`;
    const idle = (sessionId: string) =>
      store.emitEvent(sessionId, { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } }).seq;
    try {
      const { id: sessionId } = store.createSession({ title: 'machine' });
      registry.attach(sessionId, { name: 'laptop', config: config({ working_dir: folder }) });
      const [machine] = await registry.handsFor(sessionId);
      const run = async (hand: typeof machine, command: string) => outputOf(await hand!.execute('laptop__bash', { command }, { signal }));
      await run(machine, 'git init -q . && echo mine > own.txt && echo one > a.txt');
      const turn1 = idle(sessionId);
      await registry.settled();
      await run(machine, 'echo two > a.txt && echo new > b.txt');
      const turn2 = idle(sessionId);
      await registry.settled();
      const snapshots = store.getEvents(sessionId, { types: ['hand.snapshot'] });
      expect(snapshots.map((event) => (event.type === 'hand.snapshot' ? event.payload.at_seq : 0))).toEqual([turn1, turn2]);

      // A turn that changed nothing takes no snapshot.
      await run(machine, 'cat a.txt');
      idle(sessionId);
      await registry.settled();
      expect(store.getEvents(sessionId, { types: ['hand.snapshot'] })).toHaveLength(2);

      const fork = store.fork(sessionId, turn1);
      const [forked] = await registry.handsFor(fork.id);
      expect(await run(forked, 'cat a.txt; ls')).toMatch(/^one\n[\s\S]*a\.txt/);
      expect(await run(forked, 'test -e b.txt && echo present || echo absent')).toContain('absent');
      const ready = store.getEvents(fork.id, { types: ['hand.ready'] }).at(-1);
      expect(ready?.type === 'hand.ready' ? ready.payload.restored_from : null).toEqual({ session_id: sessionId, at_seq: turn1 });
      // The user's own repository in the folder never saw Drover's commits.
      expect(await run(forked, 'git log --oneline 2>&1 | head -1; test -d .git && echo has-own-git')).toContain('has-own-git');
      expect(await run(forked, 'git rev-list --all --count 2>/dev/null || echo 0')).toMatch(/^0/);

      // A log with snapshots only, forked where checkpoints are on: the snapshot is put back, then a
      // baseline checkpoint is taken, and turn ends take no more snapshots.
      const withCheckpoints = new HandRegistry({
        store,
        docker: new DockerEngine({ instance: 'ssh-forks' }),
        secrets: vault,
        knownHosts,
        log: () => undefined,
      });
      try {
        const later = store.fork(sessionId, turn2);
        const [hand] = await withCheckpoints.handsFor(later.id);
        expect(await run(hand, 'cat a.txt b.txt')).toMatch(/^two\nnew\n/);
        const laterReady = store.getEvents(later.id, { types: ['hand.ready'] }).at(-1);
        expect(laterReady?.type === 'hand.ready' ? laterReady.payload.restored_from : null).toEqual({
          session_id: sessionId,
          at_seq: turn2,
        });
        const baseline = store.getEvents(later.id, { types: ['hand.checkpoint'] });
        expect(baseline).toHaveLength(1);
        await run(hand, 'echo three > c.txt');
        idle(later.id);
        await withCheckpoints.settled();
        // (A fork's view holds its parent's events up to the fork point: only its own count.)
        expect(store.getEvents(later.id, { types: ['hand.snapshot'], afterSeq: turn2 })).toEqual([]);
      } finally {
        await withCheckpoints.close();
      }
    } finally {
      await registry.close();
      store.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('the registry runs an attached SSH hand, recording its events in the session log', async () => {
    trustServer(sshd);
    const dataDir = tempDir('drover-ssh-registry-');
    const store = SessionStore.open({ dataDir });
    const registry = new HandRegistry({
      store,
      docker: new DockerEngine({ instance: 'ssh-test' }),
      secrets: vault,
      knownHosts,
      log: () => undefined,
    });
    try {
      const { id: sessionId } = store.createSession({ title: 'ssh' });
      const [status] = registry.attach(sessionId, { name: 'laptop', config: config() });
      expect(status).toMatchObject({ kind: 'ssh', state: 'idle', tools: ['laptop__bash', 'laptop__editor'] });
      const [machine] = await registry.handsFor(sessionId);
      const outcome = await machine!.execute('laptop__bash', { command: 'echo "$HOME"' }, { signal: new AbortController().signal });
      expect(outputOf(outcome)).toContain(testUser().home);
      expect(registry.statuses(sessionId)[0]).toMatchObject({ state: 'ready', container: `${user}@127.0.0.1:${sshd.port}` });
      const types = store.getEvents(sessionId, { limit: 100 }).map((event) => event.type);
      expect(types).toEqual(expect.arrayContaining(['hand.attached', 'hand.provisioning', 'hand.ready']));
    } finally {
      await registry.close();
      store.close();
    }
  });
});
