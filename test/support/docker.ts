/**
 * The real Docker engine for tests, and the small images they run, built on this machine (Docker
 * Hub is unreachable here): a root filesystem piped into `docker import`.
 *
 * - `drover-test/busybox:1` — Debian's static busybox: `sh` and the usual tools, no bash.
 * - `drover-test/bash:1` — the same plus this machine's bash and the libraries it links.
 *
 * Where Docker is missing, tests skip with the reason (or fail under CI=true, see system.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DockerEngine } from '#services/hands/docker/engine';
import { requirePart, tempDir } from './system.ts';

export const BUSYBOX_IMAGE = 'drover-test/busybox:1';
export const BASH_IMAGE = 'drover-test/bash:1';
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Why the Docker engine cannot be used here, or null. */
export async function dockerUnavailableReason(): Promise<string | null> {
  const reason = await new DockerEngine({ instance: 'probe' }).unavailableReason();
  if (reason) return reason;
  if (spawnSync('docker', ['version'], { stdio: 'ignore' }).status !== 0) return 'the docker CLI is not installed (Debian: apt-get install docker.io)';
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
  if (!imageExists(BUSYBOX_IMAGE)) importRootfs(BUSYBOX_IMAGE, false);
  if (!imageExists(BASH_IMAGE)) importRootfs(BASH_IMAGE, true);
}

function importRootfs(reference: string, withBash: boolean): void {
  const root = tempDir('drover-rootfs-');
  try {
    for (const dir of ['bin', 'tmp', 'etc', 'root', 'usr/bin', 'proc', 'sys', 'dev']) mkdirSync(path.join(root, dir), { recursive: true });
    copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
    const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((name) => /^[\w.[-]+$/.test(name) && name !== 'busybox');
    for (const applet of applets) symlinkSync('busybox', path.join(root, 'bin', applet));
    writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\n');
    if (withBash) {
      rmSync(path.join(root, 'bin/bash'), { force: true });
      copyFileSync('/bin/bash', path.join(root, 'bin/bash'));
      // The libraries bash links (ldd prints "name => /path (addr)" or "/path (addr)").
      for (const line of execFileSync('ldd', ['/bin/bash'], { encoding: 'utf8' }).split('\n')) {
        const library = /(\/\S+)\s+\(0x/.exec(line)?.[1];
        if (!library) continue;
        mkdirSync(path.join(root, path.dirname(library)), { recursive: true });
        copyFileSync(library, path.join(root, library));
      }
    }
    execFileSync('sh', ['-c', `tar -C "$1" -c . | docker import -c 'ENV ${DEFAULT_PATH}' - "$2"`, 'sh', root, reference], { stdio: 'pipe' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** `docker` CLI, output as text; throws with stderr when it fails. */
export function dockerCli(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}
