/**
 * SSH hands against a real OpenSSH server on 127.0.0.1 (test/support/sshd.ts): a command's round
 * trip on Drover's warm, multiplexed connection against OpenSSH's own client, both fresh
 * (`ssh host cmd`, a new connection each time) and multiplexed over a ControlMaster — all in one
 * run, interleaved, so a busy machine moves every side alike. Target: ≤ 1.0× ControlMaster.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SshHandConfigSchema } from '#shared/hands';
import { SshConnection } from '#services/hands/ssh/connection';
import { KnownHosts } from '#services/hands/ssh/known-hosts';
import { Vault } from '#services/vault/vault';
import { FileKeySource } from '#test/support/file-key-source';
import { makeKey, sshdUnavailableReason, TestSshd, testUser } from '#test/support/sshd';
import { tempDir } from '#test/support/system';
import { ms, p50, p95, type Log } from './harness.ts';
import type { Figure } from './session-store.ts';

const ROUNDS = 40;

export async function benchSsh(log: Log): Promise<Figure[]> {
  const missing = sshdUnavailableReason();
  if (missing !== null) {
    if (process.env['CI'] === 'true') throw new Error(`SSH bench: ${missing}`);
    log(`  skipped: ${missing}`);
    return [];
  }
  const dir = tempDir('drover-bench-ssh-');
  const sshd = await TestSshd.start();
  const { user } = testUser();
  const key = makeKey(dir);
  sshd.authorize(key);
  const knownHostsFile = path.join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, `[127.0.0.1]:${sshd.port} ${readFileSync(`${sshd.hostKeyFile}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ')}\n`);
  const vault = Vault.open({ dataDir: dir, keySource: new FileKeySource(path.join(dir, 'vault.key')) });
  const knownHosts = new KnownHosts(path.join(dir, 'known-hosts.json'));
  knownHosts.trust({ host: '127.0.0.1', port: sshd.port, algorithm: 'ssh-ed25519', fingerprint: sshd.hostFingerprint() });
  const secret = await vault.create({ name: 'bench key', kind: 'ssh-private-key', value: key.privateKey });
  const config = SshHandConfigSchema.parse({ kind: 'ssh', host: '127.0.0.1', port: sshd.port, user, auth: { method: 'key', key_secret_id: secret.id } });
  const controlPath = path.join(dir, 'cm.sock');
  const common = ['-i', key.file, '-p', String(sshd.port), '-o', `UserKnownHostsFile=${knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-F', '/dev/null'];
  const target = `${user}@127.0.0.1`;
  let master: ReturnType<typeof spawn> | null = null;
  let connection: SshConnection | null = null;
  try {
    connection = await SshConnection.open(config, { secrets: vault, knownHosts });
    master = spawn('ssh', [...common, '-M', '-S', controlPath, '-N', target], { stdio: 'ignore' });
    await waitFor(() => run('ssh', [...common, '-S', controlPath, '-O', 'check', target]).then((code) => code === 0), 'the ControlMaster to come up');

    const drover: number[] = [];
    const fresh: number[] = [];
    const multiplexed: number[] = [];
    const warm = connection;
    // One of each per round, so each side sees the same load.
    for (let round = 0; round < ROUNDS; round++) {
      let started = performance.now();
      const result = await warm.exec('echo ok');
      if (result.output.toString().trim() !== 'ok') throw new Error(`Drover's exec answered ${JSON.stringify(result.output.toString())}`);
      drover.push(performance.now() - started);
      started = performance.now();
      if ((await run('ssh', [...common, '-S', controlPath, target, 'echo ok'])) !== 0) throw new Error('ssh over the ControlMaster failed');
      multiplexed.push(performance.now() - started);
      if (round % 4 === 0) {
        started = performance.now();
        if ((await run('ssh', [...common, '-o', 'ControlPath=none', target, 'echo ok'])) !== 0) throw new Error('a fresh ssh failed');
        fresh.push(performance.now() - started);
      }
    }
    log(`  round trip p50/p95: Drover ${ms(p50(drover))}/${ms(p95(drover))}, ssh over ControlMaster ${ms(p50(multiplexed))}/${ms(p95(multiplexed))}, fresh ssh ${ms(p50(fresh))}/${ms(p95(fresh))}`);
    const ratio = p50(drover) / p50(multiplexed);
    return [
      {
        name: 'SSH: command round trip on the warm connection p50 (echo ok)',
        value: p50(drover),
        unit: 'ms',
        baseline: { name: 'OpenSSH `ssh host cmd` over a ControlMaster', value: p50(multiplexed) },
        ratio,
        target: '≤ 1.0× ControlMaster',
        pass: ratio <= 1.0,
      },
      {
        name: 'SSH: command round trip on the warm connection p50, vs a fresh OpenSSH connection',
        value: p50(drover),
        unit: 'ms',
        baseline: { name: 'OpenSSH `ssh host cmd` (new connection each time)', value: p50(fresh) },
        ratio: p50(drover) / p50(fresh),
        target: 'reported',
      },
    ];
  } finally {
    connection?.close();
    if (master !== null) {
      await run('ssh', [...common, '-S', controlPath, '-O', 'exit', target]);
      master.kill();
    }
    await sshd.stop();
    await vault.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve) => execFile(command, args, { timeout: 30_000 }, (error) => resolve(error === null ? 0 : typeof error.code === 'number' ? error.code : 1)));
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
