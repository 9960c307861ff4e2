/**
 * The real Docker engine for tests, and the small images they run, built on this machine (Docker
 * Hub is unreachable here): a root filesystem piped into `docker import`.
 *
 * - `drover-test/busybox:1` — Debian's static busybox: `sh` and the usual tools, no bash.
 * - `drover-test/bash:1` — the same plus this machine's bash and the libraries it links.
 * - `drover-test/git:1` — the bash image plus this machine's git (with its HTTP transport) and the
 *   libraries they link: enough for `git log`, `commit`, `fetch` and `push` over http.
 *
 * Where Docker is missing, tests skip with the reason (or fail under CI=true, see system.ts).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { DockerEngine, LABELS } from '#services/hands/docker/engine';
import { requirePart, tempDir } from './system.ts';

export const BUSYBOX_IMAGE = 'drover-test/busybox:1';
export const BASH_IMAGE = 'drover-test/bash:1';
export const GIT_IMAGE = 'drover-test/git:1';
/** Git's HTTP transport (fetch and push over http spawn it); Debian's place for it. */
const GIT_REMOTE_HTTP = '/usr/lib/git-core/git-remote-http';
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Why the Docker engine cannot be used here, or null. */
export async function dockerUnavailableReason(): Promise<string | null> {
  const reason = await new DockerEngine({ instance: 'probe' }).unavailableReason();
  if (reason) return reason;
  if (spawnSync('docker', ['version'], { stdio: 'ignore' }).status !== 0)
    return 'the docker CLI is not installed (Debian: apt-get install docker.io)';
  if (!existsSync('/bin/busybox')) return 'busybox is not installed (Debian: apt-get install busybox-static)';
  return null;
}

/** True when Docker and the test images are ready; prints why not (or throws under CI=true). */
export async function requireDocker(): Promise<boolean> {
  if (!requirePart('Docker engine', await dockerUnavailableReason())) return false;
  ensureTestImages();
  return true;
}

function imageExists(reference: string): boolean {
  return spawnSync('docker', ['image', 'inspect', reference], { stdio: 'ignore' }).status === 0;
}

/** Builds the test images unless they are there (idempotent; a second or so each). */
export function ensureTestImages(): void {
  if (!imageExists(BUSYBOX_IMAGE)) importRootfs(BUSYBOX_IMAGE, []);
  if (!imageExists(BASH_IMAGE)) importRootfs(BASH_IMAGE, ['/bin/bash']);
}

/** Why the git test image cannot be built here (this machine's git is its source), or null. */
export function gitImageUnavailableReason(): string | null {
  if (spawnSync('git', ['--version'], { stdio: 'ignore' }).status !== 0)
    return 'git is not installed on this machine (Debian: apt-get install git)';
  if (!existsSync('/usr/bin/git') || !existsSync(GIT_REMOTE_HTTP))
    return `git's http transport is not at ${GIT_REMOTE_HTTP} (Debian: apt-get install git)`;
  return null;
}

/** Builds GIT_IMAGE unless it is there (a few seconds). Call after requireDocker(), when gitImageUnavailableReason() is null. */
export function ensureGitImage(): void {
  if (imageExists(GIT_IMAGE)) return;
  importRootfs(GIT_IMAGE, ['/bin/bash', '/usr/bin/git', GIT_REMOTE_HTTP], (root) => {
    // git runs its helpers (`git send-pack`, `git-remote-https`) from its exec path.
    symlinkSync('/usr/bin/git', path.join(root, 'usr/lib/git-core/git'));
    symlinkSync('git-remote-http', path.join(root, 'usr/lib/git-core/git-remote-https'));
    mkdirSync(path.join(root, 'usr/share/git-core/templates'), { recursive: true }); // else `git init` warns
  });
}

/** A busybox root filesystem plus `binaries` (and the libraries they link) as the image `reference`. */
function importRootfs(reference: string, binaries: string[], finish?: (root: string) => void): void {
  const root = tempDir('drover-rootfs-');
  try {
    for (const dir of ['bin', 'tmp', 'etc', 'root', 'usr/bin', 'proc', 'sys', 'dev']) mkdirSync(path.join(root, dir), { recursive: true });
    copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
    const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' })
      .split('\n')
      .filter((name) => /^[\w.[-]+$/.test(name) && name !== 'busybox');
    for (const applet of applets) symlinkSync('busybox', path.join(root, 'bin', applet));
    writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\n');
    for (const binary of binaries) {
      mkdirSync(path.join(root, path.dirname(binary)), { recursive: true });
      rmSync(path.join(root, binary), { force: true }); // a busybox applet of the same name
      copyFileSync(binary, path.join(root, binary));
      // The libraries it links (ldd prints "name => /path (addr)" or "/path (addr)").
      for (const line of execFileSync('ldd', [binary], { encoding: 'utf8' }).split('\n')) {
        const library = /(\/\S+)\s+\(0x/.exec(line)?.[1];
        if (!library || existsSync(path.join(root, library))) continue;
        mkdirSync(path.join(root, path.dirname(library)), { recursive: true });
        copyFileSync(library, path.join(root, library));
      }
    }
    finish?.(root);
    execFileSync('sh', ['-c', `tar -C "$1" -c . | docker import -c 'ENV ${DEFAULT_PATH}' - "$2"`, 'sh', root, reference], {
      stdio: 'pipe',
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** `docker` CLI, output as text; throws with stderr when it fails. */
export function dockerCli(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Why Debian's docker-registry cannot run here, or null. */
export function registryUnavailableReason(): string | null {
  return spawnSync('docker-registry', ['--version'], { stdio: 'ignore' }).status === 0
    ? null
    : 'docker-registry is not installed (Debian: apt-get install docker-registry)';
}

export interface LocalRegistry {
  /** `127.0.0.1:<port>`: the start of image references in it. */
  readonly host: string;
  /** Tags `image` as `<host>/<name>`, pushes it and removes the local tag (so it is only pullable); the reference. */
  push(image: string, name: string): string;
  close(): void;
}

/** Debian's docker-registry on 127.0.0.1 (Docker pulls from 127.0.0.0/8 over plain http); call after requireDocker(). */
export async function startRegistry(): Promise<LocalRegistry> {
  const dir = tempDir('drover-registry-');
  const port = await freePort();
  writeFileSync(
    path.join(dir, 'config.yml'),
    `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const registry = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
  registry.on('error', () => undefined);
  const pushed: string[] = [];
  const close = (): void => {
    registry.kill();
    if (pushed.length > 0) spawnSync('docker', ['rmi', '-f', ...pushed], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port);
  } catch (error) {
    close();
    throw error;
  }
  const host = `127.0.0.1:${port}`;
  return {
    host,
    push(image, name) {
      const reference = `${host}/${name}`;
      pushed.push(reference);
      dockerCli('tag', image, reference);
      dockerCli('push', reference);
      dockerCli('rmi', reference);
      return reference;
    },
    close,
  };
}

/** A TCP port on 127.0.0.1 that nothing listens on (just now). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** Resolves once something accepts connections on 127.0.0.1:`port` (within 20 s). */
export async function waitForPort(port: number): Promise<void> {
  for (const deadline = Date.now() + 20_000; ;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on 127.0.0.1:${port} within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Removes the containers and snapshot images of one Drover instance (a test's data folder: `instanceIdOf(dir)`). */
export function removeInstanceObjects(instance: string): void {
  const label = `label=${LABELS.instance}=${instance}`;
  const containers = dockerCli('ps', '-aq', '--filter', label).split('\n').filter(Boolean);
  if (containers.length > 0) dockerCli('rm', '-f', '-v', ...containers);
  const images = [...new Set(dockerCli('images', '-q', '--filter', label).split('\n').filter(Boolean))];
  if (images.length > 0) dockerCli('rmi', '-f', ...images);
}
