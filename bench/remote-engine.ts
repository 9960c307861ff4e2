/**
 * A Docker hand on a remote engine (issue 22): a bash round trip (`echo ok` through the hand's
 * persistent shell) on a container of an `ssh://` engine — a second dockerd in a network namespace
 * reached over a veth pair, with an sshd beside it (test/support/second-engine.ts, sshd.ts) —
 * against Docker's own way there, `docker -H ssh://user@host exec <container> sh -c 'echo ok'`
 * (a new SSH connection and `docker system dial-stdio` on the machine for each command), on the
 * same container, interleaved so a busy machine moves both alike. Target: ≤ 0.5× the CLI.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { EnginePool } from '#services/engines/engine-pool';
import { EngineStore } from '#services/engines/engine-store';
import { DockerEngine, instanceIdOf, LABELS } from '#services/hands/docker/engine';
import { HandRegistry } from '#services/hands/registry';
import { KnownHosts } from '#services/hands/ssh/known-hosts';
import { SessionStore } from '#services/session/store';
import { Vault } from '#services/vault/vault';
import { BUSYBOX_IMAGE, dockerUnavailableReason, ensureTestImages } from '#test/support/docker';
import { FileKeySource } from '#test/support/file-key-source';
import { secondEngineUnavailableReason, startSecondEngine } from '#test/support/second-engine';
import { makeKey, sshdUnavailableReason, TestSshd, testUser } from '#test/support/sshd';
import { tempDir } from '#test/support/system';
import { ms, p50, p95, type Log } from './harness/common.ts';
import type { Figure } from './session-store.ts';

const ROUNDS = 20;

export async function benchRemoteEngine(log: Log): Promise<Figure[]> {
  const missing = (await dockerUnavailableReason()) ?? secondEngineUnavailableReason() ?? sshdUnavailableReason();
  if (missing !== null) {
    if (process.env['CI'] === 'true') throw new Error(`Remote engine bench: ${missing}`);
    log(`  skipped (remote engine): ${missing}`);
    return [];
  }
  ensureTestImages();
  const dir = tempDir('drover-bench-remote-');
  const second = await startSecondEngine({ link: true });
  let sshd: TestSshd | null = null;
  let vault: Vault | null = null;
  let registry: HandRegistry | null = null;
  let store: SessionStore | null = null;
  try {
    second.loadImages(BUSYBOX_IMAGE);
    chmodSync(path.dirname(second.socket), 0o755);
    chmodSync(second.socket, 0o666);
    const address = second.address ?? '';
    // The docker CLI's ssh:// runs `docker system dial-stdio` there, which finds the engine by DOCKER_HOST.
    sshd = await TestSshd.start({ netns: second.netns, address, extraConfig: [`SetEnv DOCKER_HOST=unix://${second.socket}`] });
    const key = makeKey(dir);
    sshd.authorize(key);
    const { user } = testUser();
    vault = Vault.open({ dataDir: dir, keySource: new FileKeySource(path.join(dir, 'vault.key')) });
    const secret = await vault.create({ name: 'engine key', kind: 'ssh-private-key', value: key.privateKey });
    const knownHosts = new KnownHosts(path.join(dir, 'known-hosts.json'));
    knownHosts.trust({ host: address, port: sshd.port, algorithm: 'ssh-ed25519', fingerprint: sshd.hostFingerprint() });
    store = SessionStore.open({ dataDir: dir });
    const local = new DockerEngine({ instance: instanceIdOf(dir) });
    const engines = new EngineStore(path.join(dir, 'engines.json'));
    engines.put({
      id: 'far',
      kind: 'ssh',
      name: 'Far box',
      url: `ssh://${user}@${address}:${sshd.port}`,
      auth: { method: 'key', key_secret_id: secret.id },
      socket_path: second.socket,
    });
    const pool = new EnginePool({ store: engines, local, knownHosts, secrets: vault });
    registry = new HandRegistry({
      store,
      docker: local,
      engines: pool,
      secrets: vault,
      knownHosts,
      checkpoints: false,
      log: () => undefined,
    });
    const { id: sessionId } = store.createSession({ title: 'remote engine bench' });
    registry.attach(sessionId, { name: 'far', config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none', engine: 'far' } });
    const [hand] = await registry.handsFor(sessionId);
    if (!hand) throw new Error('the hand is missing');
    const signal = new AbortController().signal;
    const bashOk = async (): Promise<void> => {
      const outcome = await hand.execute('far__bash', { command: 'echo ok' }, { signal });
      const said = outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
      if (outcome.isError || !said.startsWith('ok')) throw new Error(`the hand's bash answered ${JSON.stringify(said)}`);
    };
    await bashOk(); // picks the engine, starts the container and the shell
    const container = second.docker('ps', '-q', '--filter', `label=${LABELS.session}=${sessionId}`);
    if (!/^[0-9a-f]{12}$/.test(container))
      throw new Error(`expected one container on the second engine, found ${JSON.stringify(container)}`);

    // The docker CLI's ssh with this key and no prompts (it runs `ssh` from PATH).
    const bin = path.join(dir, 'bin');
    const config = path.join(dir, 'ssh_config');
    writeFileSync(
      config,
      `Host *\n  IdentityFile ${key.file}\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  BatchMode yes\n  LogLevel ERROR\n`,
    );
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F ${config} "$@"\n`, { mode: 0o755 });
    const env = { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` };
    const cliOk = async (): Promise<void> => {
      const said = await run(
        'docker',
        ['-H', `ssh://${user}@${address}:${sshd?.port ?? 0}`, 'exec', container, 'sh', '-c', 'echo ok'],
        env,
      );
      if (said.trim() !== 'ok') throw new Error(`docker -H ssh:// exec answered ${JSON.stringify(said)}`);
    };
    await cliOk();

    // For scale: the docker CLI at the engine's socket directly (no SSH at all).
    const socketOk = async (): Promise<void> => {
      const said = await run('docker', ['-H', `unix://${second.socket}`, 'exec', container, 'sh', '-c', 'echo ok'], env);
      if (said.trim() !== 'ok') throw new Error(`docker -H unix:// exec answered ${JSON.stringify(said)}`);
    };
    const drover: number[] = [];
    const cli: number[] = [];
    const direct: number[] = [];
    const time = async (into: number[], step: () => Promise<void>): Promise<void> => {
      const started = performance.now();
      await step();
      into.push(performance.now() - started);
    };
    for (let round = 0; round < ROUNDS; round++) {
      await time(drover, bashOk);
      await time(cli, cliOk);
      await time(direct, socketOk);
    }
    log(
      `  remote engine (ssh://) bash round trip p50/p95: Drover's hand ${ms(p50(drover))}/${ms(p95(drover))}, docker -H ssh:// exec ${ms(p50(cli))}/${ms(p95(cli))}, docker -H unix:// exec at the engine's socket ${ms(p50(direct))}/${ms(p95(direct))}`,
    );
    const ratio = p50(drover) / p50(cli);
    return [
      {
        name: 'Remote engine: a bash round trip through a Docker hand on an ssh:// engine p50 (echo ok)',
        value: p50(drover),
        unit: 'ms',
        baseline: { name: "`docker -H ssh://… exec <container> sh -c 'echo ok'`", value: p50(cli) },
        ratio,
        target: '≤ 0.5× docker -H ssh:// exec',
        pass: ratio <= 0.5,
      },
      {
        name: 'Remote engine: the same bash round trip, vs the docker CLI at the engine socket itself (no SSH)',
        value: p50(drover),
        unit: 'ms',
        baseline: { name: "`docker -H unix://<engine socket> exec <container> sh -c 'echo ok'`", value: p50(direct) },
        ratio: p50(drover) / p50(direct),
        target: 'reported',
      },
    ];
  } finally {
    await registry?.close();
    store?.close();
    await sshd?.stop();
    await second.close();
    await vault?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(command, args, { env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    }),
  );
}
