/**
 * Test images made from this machine's own programs (Docker Hub is unreachable here): a busybox
 * root filesystem plus binaries (with the libraries they link) and folders copied from this
 * machine, piped into `docker import`. Like test/support/docker.ts's images, for tests that need
 * a language runtime and its package manager (node and npm, python3 and pip).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './system.ts';

export interface RootfsImage {
  /** Binaries copied to the same path, with every library `ldd` lists for them. */
  binaries?: string[];
  /** Folders copied to the same path (symlinks followed). */
  folders?: string[];
  /** Shared objects under these folders get their libraries too (a runtime's extension modules). */
  librariesOf?: string[];
  /** Symlinks to make: [path in the image, its target]. */
  symlinks?: Array<[string, string]>;
  /** Files to write: [path in the image, content]; an empty content with a path ending in `/`: a folder. */
  files?: Array<[string, string]>;
  /** `ENV` lines of the image (PATH and HOME are set). */
  env?: string[];
}

/** Whether the image is on this machine. */
export function imagePresent(reference: string): boolean {
  return execFileSync('docker', ['images', '-q', reference], { encoding: 'utf8' }).trim() !== '';
}

/** Builds `reference` unless it is there. */
export function ensureRootfsImage(reference: string, spec: RootfsImage): void {
  if (imagePresent(reference)) return;
  const root = tempDir('drover-rootfs-');
  const copyLibraries = (binary: string): void => {
    let out: string;
    try {
      out = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return; // not dynamic
    }
    for (const line of out.split('\n')) {
      const library = /(\/\S+)\s+\(0x/.exec(line)?.[1];
      if (!library || existsSync(path.join(root, library))) continue;
      mkdirSync(path.join(root, path.dirname(library)), { recursive: true });
      copyFileSync(library, path.join(root, library));
    }
  };
  try {
    for (const dir of ['bin', 'etc', 'root', 'usr/bin', 'usr/local/bin', 'proc', 'sys', 'dev'])
      mkdirSync(path.join(root, dir), { recursive: true });
    mkdirSync(path.join(root, 'tmp'));
    chmodSync(path.join(root, 'tmp'), 0o1777);
    copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
    for (const applet of execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n')) {
      if (/^[\w.[-]+$/.test(applet) && applet !== 'busybox') symlinkSync('busybox', path.join(root, 'bin', applet));
    }
    symlinkSync('/bin/busybox', path.join(root, 'usr/bin/env')); // scripts' #!/usr/bin/env …
    writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\n');
    for (const binary of spec.binaries ?? []) {
      mkdirSync(path.join(root, path.dirname(binary)), { recursive: true });
      rmSync(path.join(root, binary), { force: true }); // a busybox applet of the same name (never written through)
      copyFileSync(binary, path.join(root, binary));
      copyLibraries(binary);
    }
    for (const folder of spec.folders ?? []) cpSync(folder, path.join(root, folder), { recursive: true, dereference: true });
    for (const folder of spec.librariesOf ?? []) {
      const objects = execFileSync('find', [folder, '-name', '*.so*', '-type', 'f'], { encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const object of objects) copyLibraries(object);
    }
    for (const [link, target] of spec.symlinks ?? []) {
      mkdirSync(path.join(root, path.dirname(link)), { recursive: true });
      rmSync(path.join(root, link), { force: true });
      symlinkSync(target, path.join(root, link));
    }
    for (const [file, content] of spec.files ?? []) {
      const at = path.join(root, file);
      if (file.endsWith('/')) mkdirSync(at, { recursive: true });
      else {
        mkdirSync(path.dirname(at), { recursive: true });
        writeFileSync(at, content);
      }
    }
    const env = ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/root', ...(spec.env ?? [])];
    const changes = env.flatMap((line) => ['-c', `ENV ${line}`]);
    const script = 'root=$1; reference=$2; shift 2; tar -C "$root" -c . | docker import "$@" - "$reference"';
    execFileSync('sh', ['-c', script, 'sh', root, reference, ...changes], { stdio: 'pipe' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
