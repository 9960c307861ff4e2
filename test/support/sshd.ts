/**
 * A real OpenSSH server for SSH hand tests: `/usr/sbin/sshd -D -e` on 127.0.0.1 and a free port,
 * with its own host key, config, pid file and authorized_keys in a temp folder (the machine's own
 * sshd configuration and ~/.ssh are never touched). Logins are as the dedicated user
 * `drover-ssh-test` (created once with a random password), never as root.
 *
 * Also: client keys (with or without a passphrase), an ssh-agent, a changed host key, and a way to
 * kill the server with all its connections (a dropped machine). Where sshd is missing, tests skip
 * with the reason (or fail under CI=true, see system.ts).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { requirePart, tempDir } from './system.ts';

export const SSHD = '/usr/sbin/sshd';
export const TEST_USER = 'drover-ssh-test';

/** Why a test sshd cannot run here, or null. */
export function sshdUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'the test sshd runs on Linux only';
  if (!existsSync(SSHD)) return `${SSHD} is missing (Debian: apt-get install openssh-server)`;
  for (const tool of ['ssh-keygen', 'ssh-agent', 'ssh-add']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0)
      return `${tool} is missing (Debian: apt-get install openssh-client)`;
  }
  if (process.getuid?.() !== 0) return 'the test sshd logs in as a dedicated user, which needs root to create and to switch to';
  return null;
}

/** True when sshd can run; prints why not (or throws under CI=true). */
export function requireSshd(): boolean {
  return requirePart('OpenSSH server', sshdUnavailableReason());
}

let userPassword: string | null = null;

/** The test user (created if missing) and its password (set afresh, random, once per process). */
export function testUser(): { user: string; password: string; home: string } {
  if (userPassword === null) {
    if (spawnSync('id', [TEST_USER], { stdio: 'ignore' }).status !== 0) {
      execFileSync('useradd', ['--create-home', '--shell', '/bin/bash', TEST_USER], { stdio: 'pipe' });
    }
    const password = randomBytes(12).toString('hex');
    execFileSync('chpasswd', [], { input: `${TEST_USER}:${password}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
    userPassword = password;
  }
  const home = execFileSync('sh', ['-c', `getent passwd ${TEST_USER} | cut -d: -f6`])
    .toString('utf8')
    .trim();
  return { user: TEST_USER, password: userPassword, home };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface KeyPair {
  file: string;
  privateKey: string;
  publicKey: string;
}

/** An ed25519 key pair made by ssh-keygen (encrypted with `passphrase` when given). */
export function makeKey(dir: string, passphrase = ''): KeyPair {
  const file = path.join(dir, `id_${randomBytes(4).toString('hex')}`);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'drover-test', '-f', file], { stdio: 'pipe' });
  return { file, privateKey: readFileSync(file, 'utf8'), publicKey: readFileSync(`${file}.pub`, 'utf8') };
}

/** `ssh-keygen -lf` of a public key file: `SHA256:…` as OpenSSH prints it. */
export function keygenFingerprint(publicKeyFile: string): string {
  const line = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyFile]).toString('utf8');
  const match = /SHA256:[A-Za-z0-9+/]+/.exec(line);
  if (!match) throw new Error(`ssh-keygen printed no fingerprint: ${line}`);
  return match[0];
}

export class TestSshd {
  private process: ChildProcess | null = null;
  private log = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    /** The address it listens on (127.0.0.1, or an address in `netns`). */
    readonly address = '127.0.0.1',
    /** A network namespace it runs in (`/var/run/netns/<name>`), or null. */
    readonly netns: string | null = null,
  ) {}

  /** Starts a server (and the test user, when missing); `netns`/`address`: inside a network namespace, on one of its addresses. */
  static async start(options: { netns?: string; address?: string; extraConfig?: string[] } = {}): Promise<TestSshd> {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    testUser();
    const dir = tempDir('drover-sshd-');
    // The user reads authorized_keys itself: the folder must let it in.
    chmodSync(dir, 0o755);
    writeFileSync(path.join(dir, 'authorized_keys'), '', { mode: 0o644 });
    const sshd = new TestSshd(dir, await freePort(), options.address ?? '127.0.0.1', options.netns ?? null);
    sshd.makeHostKey();
    writeFileSync(
      path.join(dir, 'sshd_config'),
      [
        `ListenAddress ${sshd.address}`,
        `Port ${sshd.port}`,
        `HostKey ${sshd.hostKeyFile}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
        'UsePAM no',
        'StrictModes no',
        'PubkeyAuthentication yes',
        'PasswordAuthentication yes',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin no',
        `AllowUsers ${TEST_USER}`,
        'AllowTcpForwarding yes',
        'Subsystem sftp internal-sftp',
        'LogLevel VERBOSE',
        ...(options.extraConfig ?? []),
        '',
      ].join('\n'),
    );
    await sshd.launch();
    return sshd;
  }

  get hostKeyFile(): string {
    return path.join(this.dir, 'host_ed25519');
  }

  /** `ssh-keygen -lf` of the server's host key. */
  hostFingerprint(): string {
    return keygenFingerprint(`${this.hostKeyFile}.pub`);
  }

  /** Lets `key` log in as the test user. */
  authorize(key: KeyPair): void {
    appendFileSync(path.join(this.dir, 'authorized_keys'), key.publicKey);
  }

  /** sshd's log so far (for failure messages). */
  get output(): string {
    return this.log;
  }

  /** A new host key; the server restarts to present it. */
  async changeHostKey(): Promise<void> {
    this.kill();
    this.makeHostKey();
    await this.launch();
  }

  /** Kills the server and every connection's processes at once (SIGKILL): the machine "drops". */
  kill(): void {
    const pid = this.process?.pid;
    this.process = null;
    if (pid === undefined) return;
    for (const victim of [pid, ...descendants(pid)]) {
      try {
        process.kill(victim, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** Starts the server again on the same port (after `kill`). */
  async restart(): Promise<void> {
    this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private makeHostKey(): void {
    rmSync(this.hostKeyFile, { force: true });
    rmSync(`${this.hostKeyFile}.pub`, { force: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', this.hostKeyFile], { stdio: 'pipe' });
  }

  private async launch(): Promise<void> {
    const args = ['-D', '-e', '-f', path.join(this.dir, 'sshd_config')];
    // nsenter execs sshd: the child's pid is sshd's.
    const child =
      this.netns === null
        ? spawn(SSHD, args, { stdio: ['ignore', 'ignore', 'pipe'] })
        : spawn('nsenter', [`--net=${this.netns}`, SSHD, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sshd did not start within 10 s:\n${this.log}`)), 10_000);
      child.stderr?.on('data', (chunk: Buffer) => {
        this.log += chunk.toString('utf8');
        if (this.log.includes(`Server listening on ${this.address} port ${this.port}`)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`sshd exited with code ${code ?? 'null'}:\n${this.log}`));
      });
    });
  }
}

/** Every descendant of `pid` (children, their children, …), from /proc. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** An ssh-agent of its own (foreground, killed by `stop`) holding the given keys. */
export async function startAgent(keys: KeyPair[]): Promise<{ socket: string; stop(): void }> {
  const dir = tempDir('drover-agent-');
  const socket = path.join(dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  if (!existsSync(socket)) {
    agent.kill('SIGKILL');
    throw new Error('ssh-agent did not create its socket within 5 s');
  }
  for (const key of keys) execFileSync('ssh-add', ['-q', key.file], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'pipe' });
  return {
    socket,
    stop() {
      agent.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
