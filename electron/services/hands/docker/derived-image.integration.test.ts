// Derived images for an environment's packages, for real: the Docker engine builds them with npm
// from a package registry served by this test on Docker's bridge (this machine has no internet, so
// the base image is this machine's node and npm, with npm pointed at that registry). Built once and
// cached by content (a second session starts without building), progress while building, a failed
// build a clear hand.failed, and an image without the package manager refused in words.
// pip and apt: derived-image-pip / derived-image-apt.integration.test.ts (the same way, with this machine's
// python3/pip and apt-get/dpkg); here also apt's refusal on an image without apt-get.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DockerPackages } from '#shared/hands';
import { BUSYBOX_IMAGE, dockerCli, requireDocker } from '#test/support/docker';
import { derivedTagOf, packageSession, removeImages, serveOnBridge, type BridgeServer } from '#test/support/package-images';
import { ensureRootfsImage } from '#test/support/rootfs-image';
import { requirePart, tempDir } from '#test/support/system';
import { DockerEngine, instanceIdOf } from './engine.ts';

const ready = await requireDocker();
const NODE_IMAGE = 'drover-test/node:1';
/** This machine's npm package folder (where `npm` resolves to), placed at the same path in the image. */
const NPM_DIR = (() => {
  try {
    return path.dirname(path.dirname(realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim())));
  } catch {
    return null;
  }
})();
/** The node running these tests, wherever it is installed. */
const NODE = realpathSync(process.execPath);
const nodeReady =
  ready && requirePart('npm for the npm build test', NPM_DIR !== null ? null : 'this machine has no npm (Debian: apt-get install npm)');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** This machine's node and npm on busybox, as an image. */
function ensureNodeImage(): void {
  ensureRootfsImage(NODE_IMAGE, {
    binaries: [NODE],
    folders: [NPM_DIR ?? ''],
    symlinks: [
      ['/usr/bin/npm', path.join(NPM_DIR ?? '', 'bin/npm-cli.js')],
      ...(NODE === '/usr/bin/node' ? [] : ([['/usr/bin/node', NODE]] as Array<[string, string]>)),
    ],
  });
}

/** A package registry with one package, `drover-hello` (a `drover-hello` command printing a greeting); any other name is a 404. */
async function startNpmRegistry(engine: DockerEngine): Promise<{ url: string; requests: string[]; server: BridgeServer }> {
  const dir = tempDir('drover-npm-');
  const pkg = path.join(dir, 'package');
  mkdirSync(pkg);
  writeFileSync(
    path.join(pkg, 'package.json'),
    JSON.stringify({ name: 'drover-hello', version: '1.0.0', bin: { 'drover-hello': 'hello.js' } }),
  );
  writeFileSync(path.join(pkg, 'hello.js'), '#!/usr/bin/env node\nconsole.log("hello from a derived image");\n');
  execFileSync('tar', ['-czf', path.join(dir, 'hello.tgz'), '-C', dir, 'package']);
  const tarball = readFileSync(path.join(dir, 'hello.tgz'));
  rmSync(dir, { recursive: true, force: true });
  const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
  const requests: string[] = [];
  let url = '';
  const server = await serveOnBridge(engine, (request, response) => {
    requests.push(request.url ?? '');
    if (request.url === '/drover-hello') {
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          name: 'drover-hello',
          'dist-tags': { latest: '1.0.0' },
          versions: {
            '1.0.0': {
              name: 'drover-hello',
              version: '1.0.0',
              bin: { 'drover-hello': 'hello.js' },
              dist: { tarball: `${url}drover-hello/-/drover-hello-1.0.0.tgz`, integrity },
            },
          },
        }),
      );
    } else if (request.url === '/drover-hello/-/drover-hello-1.0.0.tgz') {
      response.end(tarball);
    } else {
      response.statusCode = 404;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ error: 'Not found' }));
    }
  });
  url = server.url;
  return { url, requests, server };
}

const session = (dir: string, engine: DockerEngine, image: string, packages: Partial<DockerPackages>) =>
  packageSession(dir, engine, image, packages, cleanups);

describe.runIf(nodeReady)('an environment’s npm packages', () => {
  let registry: { url: string; requests: string[]; server: BridgeServer };
  let base: string;
  let dir: string;
  let engine: DockerEngine;
  const built: string[] = [];

  beforeAll(async () => {
    ensureNodeImage();
    dir = tempDir('drover-derived-');
    engine = new DockerEngine({ instance: instanceIdOf(dir) });
    registry = await startNpmRegistry(engine);
    // The base image: node and npm, with npm pointed at this test's registry (as an organisation's mirror would be).
    base = `drover-test/node-registry:${createHash('sha256').update(registry.url).digest('hex').slice(0, 12)}`;
    const container = dockerCli('create', NODE_IMAGE, 'true');
    dockerCli('commit', '--change', `ENV npm_config_registry=${registry.url}`, container, base);
    dockerCli('rm', container);
  }, 120_000);

  afterAll(async () => {
    await registry?.server.close();
    removeImages([...built, base]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds a derived image once, with progress, and starts from it; a second session reuses it without building', async () => {
    const tag = derivedTagOf(base, { npm: ['drover-hello'] });
    built.push(tag);
    const first = session(path.join(dir, 'one'), engine, base, { npm: ['drover-hello'] });
    const result = await first.bash('drover-hello; command -v drover-hello');
    expect(result.text).toMatch(/^hello from a derived image\n\/usr\/bin\/drover-hello\n\[exit code 0/);
    const building = first.events('hand.provisioning').filter((event) => event.payload.phase === 'building');
    expect(building).toHaveLength(1);
    expect(building[0]?.payload.message).toBe(`Building an image from ${base} with npm: drover-hello (once: later starts reuse it)`);
    expect(first.progress.filter((p) => p.phase === 'building').length).toBeGreaterThanOrEqual(2);
    expect(first.progress.some((p) => p.phase === 'building' && /added 1 package/.test(p.message))).toBe(true);
    expect(first.events('hand.ready')[0]?.payload.image).toBe(tag);
    const fetched = registry.requests.filter((request) => request.endsWith('.tgz')).length;
    expect(fetched).toBe(1);

    const second = session(path.join(dir, 'two'), engine, base, { npm: ['drover-hello'] });
    expect((await second.bash('drover-hello')).text).toMatch(/^hello from a derived image\n/);
    expect(second.events('hand.provisioning').map((event) => event.payload.phase)).toEqual(['creating']);
    expect(second.progress.some((p) => p.phase === 'building')).toBe(false);
    expect(second.events('hand.ready')[0]?.payload.image).toBe(tag);
    expect(registry.requests.filter((request) => request.endsWith('.tgz')).length).toBe(fetched);
  }, 180_000);

  it('a package the registry does not have fails the build: hand.failed with its last lines and what to do, and nothing tagged', async () => {
    const tag = derivedTagOf(base, { npm: ['drover-missing'] });
    built.push(tag);
    const r = session(path.join(dir, 'three'), engine, base, { npm: ['drover-missing'] });
    const result = await r.bash('true');
    expect(result.isError).toBe(true);
    const [failed] = r.events('hand.failed');
    expect(failed?.payload.message).toMatch(/^Building the image with npm: drover-missing on drover-test\/node-registry:\w+ failed: /);
    expect(failed?.payload.message).toContain('Last lines of the build:');
    expect(failed?.payload.message).not.toContain(String.fromCharCode(27)); // no terminal colours
    expect(failed?.payload.message).not.toMatch(/^Step \d/m); // nor the builder's bookkeeping
    expect(failed?.payload.message).toMatch(/404/);
    expect(failed?.payload.message).toContain('Check the package names and versions');
    expect(result.text).toContain('could not start: Building the image with npm: drover-missing');
    expect(execFileSync('docker', ['images', '-q', tag], { encoding: 'utf8' }).trim()).toBe('');
  }, 180_000);
});

describe.runIf(ready)('an environment’s packages on an image without the package manager', () => {
  it('apt packages on a busybox image: hand.failed says the image has no apt-get and what to do', async () => {
    const dir = tempDir('drover-derived-apt-');
    const engine = new DockerEngine({ instance: instanceIdOf(dir) });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const r = session(dir, engine, BUSYBOX_IMAGE, { apt: ['ripgrep'] });
    const result = await r.bash('true');
    expect(result.isError).toBe(true);
    const message = r.events('hand.failed')[0]?.payload.message ?? '';
    expect(message).toContain('apt packages need apt-get, and the image drover-test/busybox:1 has none');
    expect(message).toContain('Use an image that has them');
  }, 120_000);
});
