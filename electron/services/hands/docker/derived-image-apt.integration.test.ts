// Derived images with apt packages, for real: this machine's apt-get and dpkg on busybox as the base
// image, its sources pointing at a package archive this test serves on Docker's bridge (a .deb made
// here with dpkg-deb, as an organisation's mirror would serve it); the build installs it, and a
// package the archive lacks fails in apt's words.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireDocker } from '#test/support/docker';
import { PackageFixture } from '#test/support/package-images';
import { ensureRootfsImage } from '#test/support/rootfs-image';
import { requirePart } from '#test/support/system';

const APT_IMAGE = 'drover-test/apt:1';
const TOOLS = [
  '/usr/bin/apt-get',
  '/usr/bin/tar', // GNU tar: dpkg unpacks with its options
  '/usr/bin/dpkg',
  '/usr/bin/dpkg-deb',
  '/usr/bin/dpkg-query',
  '/usr/bin/dpkg-split',
  '/usr/lib/apt/methods/http',
];
const docker = await requireDocker();
const ready =
  docker &&
  requirePart(
    'apt-get, dpkg and GNU tar for the apt build test',
    TOOLS.every((tool) => existsSync(tool)) ? null : `this machine lacks one of ${TOOLS.join(', ')} (a Debian machine has them)`,
  );

/** A flat archive (`deb http://host/ ./`) with one package, drover-hello: its files by URL path. */
function makeArchive(dir: string): Map<string, { body: Buffer }> {
  const pkg = path.join(dir, 'pkg');
  mkdirSync(path.join(pkg, 'DEBIAN'), { recursive: true });
  mkdirSync(path.join(pkg, 'usr/bin'), { recursive: true });
  writeFileSync(
    path.join(pkg, 'DEBIAN/control'),
    'Package: drover-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: Drover tests <tests@drover.invalid>\nDescription: prints a greeting\n',
  );
  writeFileSync(path.join(pkg, 'usr/bin/drover-hello'), '#!/bin/sh\necho "hello from an apt package"\n', { mode: 0o755 });
  const deb = path.join(dir, 'drover-hello_1.0_all.deb');
  execFileSync('dpkg-deb', ['--root-owner-group', '--build', pkg, deb], { stdio: 'ignore' });
  const bytes = readFileSync(deb);
  const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
  const packages = [
    'Package: drover-hello',
    'Version: 1.0',
    'Architecture: all',
    'Maintainer: Drover tests <tests@drover.invalid>',
    'Filename: ./drover-hello_1.0_all.deb',
    `Size: ${bytes.length}`,
    `SHA256: ${sha(bytes)}`,
    'Description: prints a greeting',
    '',
  ].join('\n');
  const release = `Date: ${new Date().toUTCString()}\nSHA256:\n ${sha(packages)} ${Buffer.byteLength(packages)} Packages\n`;
  return new Map([
    ['/Release', { body: Buffer.from(release) }],
    ['/Packages', { body: Buffer.from(packages) }],
    ['/drover-hello_1.0_all.deb', { body: bytes }],
  ]);
}

describe.runIf(ready)('an environment’s apt packages', () => {
  let fixture: PackageFixture | undefined;

  beforeAll(async () => {
    ensureRootfsImage(APT_IMAGE, {
      binaries: TOOLS,
      folders: ['/usr/lib/apt/methods', '/usr/share/dpkg'],
      librariesOf: ['/usr/lib/apt/methods'],
      files: [
        ['/sbin/ldconfig', '#!/bin/sh\nexit 0\n'],
        ['/sbin/start-stop-daemon', '#!/bin/sh\nexec /bin/busybox start-stop-daemon "$@"\n'],
        ['/var/lib/dpkg/status', ''],
        ['/var/lib/dpkg/available', ''],
        ['/var/lib/dpkg/info/', ''],
        ['/var/lib/dpkg/updates/', ''],
        ['/var/lib/dpkg/triggers/', ''],
        ['/var/lib/apt/lists/partial/', ''],
        ['/var/cache/apt/archives/partial/', ''],
        ['/var/log/apt/', ''],
        ['/etc/apt/apt.conf.d/', ''],
        ['/etc/apt/preferences.d/', ''],
        ['/etc/apt/sources.list.d/', ''],
        ['/etc/apt/trusted.gpg.d/', ''],
        ['/etc/dpkg/dpkg.cfg.d/', ''],
        ['/usr/share/doc/', ''],
      ],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    });
    fixture = new PackageFixture('drover-derived-apt-');
    const { host, port } = await fixture.serveFiles(makeArchive(fixture.dir));
    // The sources list names this test's archive: written into a container, committed as the base image.
    fixture.commitBase(APT_IMAGE, `drover-test/apt-archive:${port}`, {
      command: `chmod 755 /sbin/ldconfig /sbin/start-stop-daemon; echo "deb [trusted=yes] http://${host}:${port}/ ./" > /etc/apt/sources.list`,
    });
  }, 180_000);

  afterEach(() => fixture?.endSessions());
  afterAll(() => fixture?.close());

  const session = (name: string, apt: string[]) => {
    if (!fixture) throw new Error('the set-up did not finish');
    return fixture.session(name, { apt });
  };

  it('installs an apt package into the derived image', async () => {
    const r = session('one', ['drover-hello']);
    const result = await r.bash('drover-hello; dpkg-query -W drover-hello');
    expect(r.events('hand.failed')).toEqual([]);
    expect(result.text).toMatch(/^hello from an apt package\ndrover-hello\t1\.0\n\[exit code 0/);
    expect(r.events('hand.provisioning').map((event) => event.payload.phase)).toEqual(['building', 'creating']);
  }, 180_000);

  it('a package the archive does not have: hand.failed in apt’s words, and what to do', async () => {
    const r = session('two', ['drover-missing']);
    expect((await r.bash('true')).isError).toBe(true);
    const message = r.events('hand.failed')[0]?.payload.message ?? '';
    expect(message).toMatch(
      /^Building the image with apt: drover-missing on drover-test\/apt-archive:\d+ failed: an install step exited with code 100\./,
    );
    expect(message).toContain('Unable to locate package drover-missing');
  }, 180_000);
});
