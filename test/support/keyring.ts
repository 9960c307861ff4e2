/**
 * A real OS keyring for tests: a private D-Bus session bus (its own socket and config, no service
 * activation, so nothing on it starts by itself) and gnome-keyring-daemon's Secret Service on it,
 * unlocked with a password piped on standard input. HOME, XDG_* and the runtime folder are temp
 * folders, so the user's own bus and keyring are never touched.
 *
 * libdbus reads DBUS_SESSION_BUS_ADDRESS once per process, at the first keyring call, so tests
 * use a keyring from child processes started with `env` (see vault-child.ts).
 *
 * Where dbus-daemon or gnome-keyring-daemon are missing, startSecretService returns null with the
 * reason printed (and throws under CI=true; see system.ts).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { requirePart, tempDir } from './system.ts';

const execFileAsync = promisify(execFile);

/** The login keyring's password in every test keyring. */
const KEYRING_PASSWORD = 'drover-test-keyring';
const LOGIN_COLLECTION = '/org/freedesktop/secrets/collection/login';
const START_TIMEOUT_MS = 15_000;

export interface SessionBus {
  address: string;
  env: { DBUS_SESSION_BUS_ADDRESS: string };
  stop(): Promise<void>;
}

export interface SecretService extends SessionBus {
  /** The keyring's home: its login keyring is under `<home>/.local/share/keyrings`. */
  home: string;
  /** Locks the login keyring (as a screen lock or `secret-tool lock` would). */
  lock(): Promise<void>;
}

/** Why a private Secret Service cannot be started here, or null. */
export function secretServiceUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'the test keyring (gnome-keyring on a private D-Bus) is Linux-only';
  const tools: Array<[string, string[], string]> = [
    ['dbus-daemon', ['--version'], 'dbus-daemon is not installed (Debian: apt-get install dbus)'],
    ['dbus-send', ['--help'], 'dbus-send is not installed (Debian: apt-get install dbus)'],
    ['gnome-keyring-daemon', ['--version'], 'gnome-keyring-daemon is not installed (Debian: apt-get install gnome-keyring)'],
  ];
  for (const [command, args, reason] of tools) {
    const result = spawnSync(command, args, { stdio: 'ignore' });
    if (result.error !== undefined) return reason;
  }
  return null;
}

/** A session bus of its own with nothing on it. Throws when dbus-daemon cannot start. */
export async function startSessionBus(): Promise<SessionBus> {
  const dir = tempDir('drover-bus-');
  const socket = path.join(dir, 'bus');
  const config = path.join(dir, 'bus.conf');
  // No <servicedir>: a name nobody owns stays unowned (the system's session config would
  // auto-start the user's real gnome-keyring on first use).
  writeFileSync(
    config,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`,
  );
  const daemon = spawn('dbus-daemon', [`--config-file=${config}`, '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  daemon.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`dbus-daemon printed no address within ${START_TIMEOUT_MS} ms: ${stderr}`)),
        START_TIMEOUT_MS,
      );
      daemon.once('error', reject);
      daemon.once('exit', (code) => reject(new Error(`dbus-daemon exited with ${code}: ${stderr}`)));
      if (!daemon.stdout) return reject(new Error('dbus-daemon has no stdout'));
      createInterface({ input: daemon.stdout }).once('line', (line) => {
        clearTimeout(timer);
        resolve(line.trim());
      });
    });
    return {
      address,
      env: { DBUS_SESSION_BUS_ADDRESS: address },
      async stop() {
        await terminate(daemon);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await terminate(daemon);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * gnome-keyring's Secret Service on a private session bus, its login keyring unlocked, once it
 * answers. With `home`, the keyring lives there (and stays after stop: a second daemon on the same
 * home is a keyring restart); without, a temp home is made and removed on stop.
 * Null (reason printed) where the tools are missing; throws under CI=true then.
 */
export async function startSecretService(options: { home?: string } = {}): Promise<SecretService | null> {
  if (!requirePart('gnome-keyring Secret Service on a private D-Bus session bus', secretServiceUnavailableReason())) return null;
  const ownHome = options.home === undefined;
  const home = options.home ?? tempDir('drover-keyring-home-');
  const runtime = tempDir('drover-keyring-run-');
  chmodSync(runtime, 0o700);
  for (const dir of ['.local/share', '.config', '.cache']) mkdirSync(path.join(home, dir), { recursive: true });
  const bus = await startSessionBus();
  const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: home,
      XDG_DATA_HOME: path.join(home, '.local/share'),
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_RUNTIME_DIR: runtime,
      DBUS_SESSION_BUS_ADDRESS: bus.address,
    },
  });
  let stderr = '';
  keyring.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  keyring.stdin?.end(KEYRING_PASSWORD);
  const stop = async (): Promise<void> => {
    await terminate(keyring);
    await bus.stop();
    rmSync(runtime, { recursive: true, force: true });
    if (ownHome) rmSync(home, { recursive: true, force: true });
  };
  try {
    await waitForLoginKeyring(bus.address, keyring, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    ...bus,
    home,
    stop,
    async lock() {
      await dbusSend(bus.address, ['/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.Lock', `array:objpath:${LOGIN_COLLECTION}`]);
    },
  };
}

/** Polls until the Secret Service answers with an unlocked login keyring as its default. */
async function waitForLoginKeyring(address: string, daemon: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    if (daemon.exitCode !== null) throw new Error(`gnome-keyring-daemon exited with ${daemon.exitCode}: ${stderr()}`);
    try {
      const alias = await dbusSend(address, ['/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.ReadAlias', 'string:default']);
      if (alias.includes(LOGIN_COLLECTION)) {
        const locked = await dbusSend(address, [
          LOGIN_COLLECTION,
          'org.freedesktop.DBus.Properties.Get',
          'string:org.freedesktop.Secret.Collection',
          'string:Locked',
        ]);
        if (/boolean false/.test(locked)) return;
        last = 'the login keyring is locked';
      } else {
        last = `no default keyring yet: ${alias.trim()}`;
      }
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gnome-keyring-daemon did not answer within ${START_TIMEOUT_MS} ms (${last}): ${stderr()}`);
}

async function dbusSend(address: string, [objectPath, method, ...args]: string[]): Promise<string> {
  if (objectPath === undefined || method === undefined) throw new Error('dbusSend needs an object path and a method');
  const { stdout } = await execFileAsync(
    'dbus-send',
    [`--bus=${address}`, '--print-reply', '--dest=org.freedesktop.secrets', objectPath, method, ...args],
    {
      timeout: 5_000,
    },
  );
  return stdout;
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
