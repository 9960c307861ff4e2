/**
 * A second Docker engine in a never-started state, beside the shared one and without touching it:
 * its own dockerd (own --data-root, --exec-root, --pidfile, socket and managed containerd) inside a
 * network namespace of its own, so its bridge (docker0 in there), its iptables rules and its
 * addresses are all its own. Like an engine on a machine that has just installed Docker, its
 * bridge network has no `Gateway` in `IPAM.Config` (see /work/shared/ENVIRONMENT.md).
 *
 * The engine runs with `nsenter --net=…` (not `ip netns exec`, which remounts /sys and hides the
 * cgroups). `runInEngineNetwork` runs a command in the same namespace: there it is "this
 * computer" for the engine's containers. `close()` stops dockerd by its pid file and removes its
 * folders, mounts and namespace.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { tempDir } from './system.ts';

export interface SecondEngine {
  /** The engine's socket (`unix://` + this for the docker CLI). */
  readonly socket: string;
  /** The network namespace it runs in (`/var/run/netns/<name>`). */
  readonly netns: string;
  /** The subnet its default bridge takes (distinct from the shared engine's). */
  readonly subnet: string;
  /** With `link`: the namespace's address on a veth pair, reachable from this computer (sshd, a TCP engine listen there). */
  readonly address: string | null;
  /** `docker -H unix://<socket> <args>`; its output. */
  docker(...args: string[]): string;
  /** Copies images from the shared engine (`docker save | docker load`). */
  loadImages(...references: string[]): void;
  /** The dockerd log (for failure messages). */
  log(): string;
  close(): Promise<void>;
}

const SUBNET_BASE = '10.213.0.0/16';
const SUBNET = '10.213.0.0/24';

/** Why a second engine cannot run here, or null. */
export function secondEngineUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'a second Docker engine in a network namespace needs Linux';
  if (process.getuid?.() !== 0) return 'starting a second dockerd in its own network namespace needs root';
  for (const [tool, hint] of [
    ['dockerd', 'apt-get install docker.io'],
    ['nsenter', 'apt-get install util-linux'],
    ['ip', 'apt-get install iproute2'],
  ] as const) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0)
      return `${tool} is not installed (Debian: ${hint})`;
  }
  return null;
}

export interface SecondEngineOptions {
  /** A veth pair between this computer and the namespace (a /30 in 10.214.0.0/16), so the engine's "machine" is reachable. */
  link?: boolean;
  /** More dockerd arguments (e.g. `--tlsverify … -H tcp://<address>:2376`), given the namespace's address. */
  dockerdArgs?: (address: string | null) => string[];
}

/** Starts the engine (a few seconds); throws with dockerd's log when it does not answer in 30 s. */
export async function startSecondEngine(options: SecondEngineOptions = {}): Promise<SecondEngine> {
  const dir = tempDir('drover-eng-');
  const name = `drover-eng-${randomBytes(4).toString('hex')}`;
  const netns = `/var/run/netns/${name}`;
  const socket = path.join(dir, 'sock');
  const pidFile = path.join(dir, 'pid');
  const logFile = path.join(dir, 'dockerd.log');
  for (const sub of ['data', 'exec']) mkdirSync(path.join(dir, sub));
  const slot = randomBytes(2).readUInt16BE(0) % 16_384; // a /30 of 10.214.0.0/16
  const hostVeth = `dv${randomBytes(3).toString('hex')}`;
  const address = options.link ? `10.214.${slot >> 6}.${((slot & 63) << 2) + 2}` : null;
  const docker = (...args: string[]): string =>
    execFileSync('docker', ['-H', `unix://${socket}`, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '(no log)');

  let pid: number | undefined;
  const close = async (): Promise<void> => {
    const running = pid ?? readPid(pidFile);
    if (running !== undefined) {
      try {
        process.kill(running, 'SIGTERM');
      } catch {
        // already gone
      }
      for (let waited = 0; waited < 200 && alive(running); waited++) await sleep(100);
      if (alive(running)) process.kill(running, 'SIGKILL');
    }
    // Whatever dockerd left mounted below its folders (it unmounts on a clean stop), deepest first.
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter((target) => target.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const target of mounts) spawnSync('umount', ['-l', target], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
    spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
    if (options.link) spawnSync('ip', ['link', 'delete', hostVeth], { stdio: 'ignore' });
  };

  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
    execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up'], { stdio: 'pipe' });
    if (address !== null) {
      const hostAddress = `10.214.${slot >> 6}.${((slot & 63) << 2) + 1}`;
      for (const args of [
        ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name],
        ['addr', 'add', `${hostAddress}/30`, 'dev', hostVeth],
        ['link', 'set', hostVeth, 'up'],
        ['-n', name, 'addr', 'add', `${address}/30`, 'dev', 'eth0'],
        ['-n', name, 'link', 'set', 'eth0', 'up'],
      ])
        execFileSync('ip', args, { stdio: 'pipe' });
    }
    const out = openSync(logFile, 'a');
    const child = spawn(
      'nsenter',
      [
        `--net=${netns}`,
        'dockerd',
        '--data-root',
        path.join(dir, 'data'),
        '--exec-root',
        path.join(dir, 'exec'),
        '--pidfile',
        pidFile,
        '--host',
        `unix://${socket}`,
        '--default-address-pool',
        `base=${SUBNET_BASE},size=24`,
        ...(options.dockerdArgs?.(address) ?? []),
      ],
      { stdio: ['ignore', out, out], detached: false },
    );
    closeSync(out);
    pid = child.pid;
    child.on('error', () => undefined);
    for (let waited = 0; ; waited++) {
      if (spawnSync('docker', ['-H', `unix://${socket}`, 'info'], { stdio: 'ignore' }).status === 0) break;
      if (waited >= 120 || child.exitCode !== null) throw new Error(`The second dockerd did not start; its log:\n${log()}`);
      await sleep(250);
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    socket,
    netns,
    subnet: SUBNET,
    address,
    docker,
    loadImages(...references) {
      execFileSync('sh', ['-c', 'docker save "$@" | docker -H "unix://$SOCK" load -q', 'sh', ...references], {
        stdio: 'pipe',
        env: { ...process.env, SOCK: socket },
      });
    },
    log,
    close,
  };
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
