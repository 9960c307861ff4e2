/**
 * SSH hands against a real OpenSSH server on 127.0.0.1 (test/support/sshd.ts): a command's round
 * trip on Drover's warm, multiplexed connection (a new channel per command, as snapshots and kills
 * use it) and through the hand's `bash` tool (its persistent shell) against OpenSSH's own client,
 * both fresh (`ssh host cmd`, a new connection each time) and multiplexed over a ControlMaster;
 * and the same exec through a jump host against OpenSSH through it (ProxyJump's `-W`) over a
 * ControlMaster — all in one run, interleaved, so a busy machine moves every side alike.
 * Target: ≤ 1.0× ControlMaster.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SshHandConfigSchema } from '#shared/hands';
import { SshConnection } from '#services/hands/ssh/connection';
import { KnownHosts } from '#services/hands/ssh/known-hosts';
import { SshHand } from '#services/hands/ssh/ssh-hand';
import { Vault } from '#services/vault/vault';
import { FileKeySource } from '#test/support/file-key-source';
import { makeKey, sshdUnavailableReason, TestSshd, testUser } from '#test/support/sshd';
import { tempDir } from '#test/support/system';
import { ms, p50, p95, type Log } from './harness/common.ts';
import { benchSshCheckpoints } from './ssh-checkpoints.ts';
import type { Figure } from './session-store.ts';

const ROUNDS = 10;
/**
 * Commands each side runs back to back per round (as a snapshot or "Test connection" does): a
 * stall that only hits a command following another closely (e.g. Nagle waiting for a delayed ACK
 * of the last one's packets, ~40 ms) shows here, where one command per round would hide it.
 */
const BURST = 4;

export async function benchSsh(log: Log): Promise<Figure[]> {
  const missing = sshdUnavailableReason();
  if (missing !== null) {
    if (process.env['CI'] === 'true') throw new Error(`SSH bench: ${missing}`);
    log(`  skipped: ${missing}`);
    return [];
  }
  const dir = tempDir('drover-bench-ssh-');
  const [sshd, jumpSshd] = await Promise.all([TestSshd.start(), TestSshd.start()]);
  const { user, home } = testUser();
  const key = makeKey(dir);
  const knownHostsFile = path.join(dir, 'known_hosts');
  const vault = Vault.open({ dataDir: dir, keySource: new FileKeySource(path.join(dir, 'vault.key')) });
  const knownHosts = new KnownHosts(path.join(dir, 'known-hosts.json'));
  for (const server of [sshd, jumpSshd]) {
    server.authorize(key);
    appendFileSync(
      knownHostsFile,
      `[127.0.0.1]:${server.port} ${readFileSync(`${server.hostKeyFile}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ')}\n`,
    );
    knownHosts.trust({ host: '127.0.0.1', port: server.port, algorithm: 'ssh-ed25519', fingerprint: server.hostFingerprint() });
  }
  const secret = await vault.create({ name: 'bench key', kind: 'ssh-private-key', value: key.privateKey });
  const endpoint = (port: number) => ({ host: '127.0.0.1', port, user, auth: { method: 'key', key_secret_id: secret.id } });
  const config = SshHandConfigSchema.parse({ kind: 'ssh', ...endpoint(sshd.port), snapshots: false });
  const jumpConfig = SshHandConfigSchema.parse({ kind: 'ssh', ...endpoint(sshd.port), jump: endpoint(jumpSshd.port) });
  const deps = { secrets: vault, knownHosts };
  const options = [
    '-i',
    key.file,
    '-o',
    `UserKnownHostsFile=${knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-F',
    '/dev/null',
  ];
  const common = [...options, '-p', String(sshd.port)];
  // ProxyJump's own mechanism, spelled out so the jump hop gets the same options (-J would not).
  const viaJump = [...common, '-o', `ProxyCommand=ssh ${options.join(' ')} -p ${jumpSshd.port} -W %h:%p ${user}@127.0.0.1`];
  const controlPath = path.join(dir, 'cm.sock');
  const jumpControlPath = path.join(dir, 'cm-jump.sock');
  const target = `${user}@127.0.0.1`;
  const masters: ChildProcess[] = [];
  const openMaster = async (args: string[], socket: string): Promise<void> => {
    masters.push(spawn('ssh', [...args, '-M', '-S', socket, '-N', target], { stdio: 'ignore' }));
    await waitFor(
      () => run('ssh', [...args, '-S', socket, '-O', 'check', target]).then((code) => code === 0),
      'a ControlMaster to come up',
    );
  };
  let connection: SshConnection | null = null;
  let jumped: SshConnection | null = null;
  const hand = new SshHand(
    { sessionId: 'ses_bench', name: 'bench', config },
    { record: () => undefined, progress: () => undefined, log: () => undefined },
    deps,
  );
  try {
    const warm = await SshConnection.open(config, deps);
    connection = warm;
    jumped = await SshConnection.open(jumpConfig, deps);
    await openMaster(common, controlPath);
    await openMaster(viaJump, jumpControlPath);
    const signal = new AbortController().signal;
    const bashOk = async (): Promise<void> => {
      const outcome = await hand.execute('bash', { command: 'echo ok' }, { signal });
      const said = outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
      if (outcome.isError || !said.startsWith('ok\n')) throw new Error(`the hand's bash answered ${JSON.stringify(said)}`);
    };
    await bashOk(); // connects and starts the shell

    const drover: number[] = [];
    const bash: number[] = [];
    const fresh: number[] = [];
    const multiplexed: number[] = [];
    const droverJump: number[] = [];
    const multiplexedJump: number[] = [];
    const time = async (into: number[], step: () => Promise<void>, times = BURST): Promise<void> => {
      for (let i = 0; i < times; i++) {
        const started = performance.now();
        await step();
        into.push(performance.now() - started);
      }
    };
    const execOk = (on: SshConnection) => async (): Promise<void> => {
      const result = await on.exec('echo ok');
      if (result.output.toString().trim() !== 'ok') throw new Error(`Drover's exec answered ${JSON.stringify(result.output.toString())}`);
    };
    const sshOk = (args: string[], what: string) => async (): Promise<void> => {
      if ((await run('ssh', [...args, target, 'echo ok'])) !== 0) throw new Error(`${what} failed`);
    };
    // A burst of each per round, so each side sees the same load.
    for (let round = 0; round < ROUNDS; round++) {
      await time(drover, execOk(connection));
      await time(bash, bashOk);
      await time(multiplexed, sshOk([...common, '-S', controlPath], 'ssh over the ControlMaster'));
      await time(droverJump, execOk(jumped));
      await time(multiplexedJump, sshOk([...viaJump, '-S', jumpControlPath], 'ssh through the jump host over its ControlMaster'));
      await time(fresh, sshOk([...common, '-o', 'ControlPath=none'], 'a fresh ssh'), 1);
    }
    log(
      `  round trip p50/p95: Drover exec ${ms(p50(drover))}/${ms(p95(drover))}, the hand's bash ${ms(p50(bash))}/${ms(p95(bash))}, ssh over ControlMaster ${ms(p50(multiplexed))}/${ms(p95(multiplexed))}, fresh ssh ${ms(p50(fresh))}/${ms(p95(fresh))}`,
    );
    log(
      `  through a jump host p50/p95: Drover exec ${ms(p50(droverJump))}/${ms(p95(droverJump))}, ssh over ControlMaster ${ms(p50(multiplexedJump))}/${ms(p95(multiplexedJump))}`,
    );
    const ratio = p50(drover) / p50(multiplexed);
    const bashRatio = p50(bash) / p50(multiplexed);
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
      {
        name: 'SSH: a bash round trip through the hand p50 (echo ok, its persistent shell)',
        value: p50(bash),
        unit: 'ms',
        baseline: { name: 'OpenSSH `ssh host cmd` over a ControlMaster', value: p50(multiplexed) },
        ratio: bashRatio,
        target: '≤ 1.0× ControlMaster',
        pass: bashRatio <= 1.0,
      },
      {
        name: 'SSH: command round trip through a jump host p50 (echo ok)',
        value: p50(droverJump),
        unit: 'ms',
        baseline: { name: 'OpenSSH through the jump host (-W) over a ControlMaster', value: p50(multiplexedJump) },
        ratio: p50(droverJump) / p50(multiplexedJump),
        // Reported only: both sides often wait ~40 ms on the jump host's sshd, which holds a second
        // small write to its client until the first is acknowledged (Nagle on its side, not ours).
        target: 'reported',
      },
      ...(await benchSshCheckpoints(warm, home, log)),
    ];
  } finally {
    await hand.dispose({ keep: false });
    connection?.close();
    jumped?.close();
    await run('ssh', [...common, '-S', controlPath, '-O', 'exit', target]);
    await run('ssh', [...viaJump, '-S', jumpControlPath, '-O', 'exit', target]);
    for (const master of masters) master.kill();
    await Promise.all([sshd.stop(), jumpSshd.stop()]);
    await vault.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve) =>
    execFile(command, args, { timeout: 30_000 }, (error) => resolve(error === null ? 0 : typeof error.code === 'number' ? error.code : 1)),
  );
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
