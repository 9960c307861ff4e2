// Derived images with pip packages, for real: this machine's python3 and pip on busybox as the base
// image (with pip pointed at a package index this test serves on Docker's bridge, as an
// organisation's mirror would be), a wheel made here; the build installs it (Debian's pip refuses
// system installs unless told: the build tells it), and a missing package fails in pip's words.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventOf, EventType } from '#shared/events';
import { HandRegistry } from '#services/hands/registry';
import { SessionStore } from '#services/session/store';
import { dockerCli, requireDocker } from '#test/support/docker';
import { ensureRootfsImage } from '#test/support/rootfs-image';
import { requirePart, tempDir } from '#test/support/system';
import { derivedTag } from './derived-image.ts';
import { DockerEngine, instanceIdOf } from './engine.ts';

const PYTHON_IMAGE = 'drover-test/python:1';
/** This machine's python3 (Debian's, e.g. /usr/bin/python3.11), its standard library, and Debian's pip. */
const PYTHON = existsSync('/usr/bin/python3') ? realpathSync('/usr/bin/python3') : '/usr/bin/python3';
const PYTHON_LIB = `/usr/lib/${path.basename(PYTHON)}`;
const PIP = '/usr/lib/python3/dist-packages/pip';
const docker = await requireDocker();
const ready =
  docker &&
  requirePart(
    "python3 and Debian's pip for the pip build test",
    existsSync(PYTHON) && existsSync(PYTHON_LIB) && existsSync(PIP)
      ? null
      : `this machine has no ${PYTHON} with ${PYTHON_LIB} and ${PIP} (Debian: apt-get install python3-pip)`,
  );
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A wheel of `drover_hello` with a `drover-hello` console script, made with this machine's python3. */
function makeWheel(dir: string): string {
  const file = path.join(dir, 'drover_hello-1.0.0-py3-none-any.whl');
  const script = `
import base64, hashlib, sys, zipfile
files = {
  'drover_hello/__init__.py': 'def main():\\n    print("hello from a pip package")\\n',
  'drover_hello-1.0.0.dist-info/METADATA': 'Metadata-Version: 2.1\\nName: drover-hello\\nVersion: 1.0.0\\n',
  'drover_hello-1.0.0.dist-info/WHEEL': 'Wheel-Version: 1.0\\nGenerator: drover-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n',
  'drover_hello-1.0.0.dist-info/entry_points.txt': '[console_scripts]\\ndrover-hello = drover_hello:main\\n',
}
record = []
with zipfile.ZipFile(sys.argv[1], 'w') as wheel:
  for name, text in files.items():
    data = text.encode()
    wheel.writestr(name, data)
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
    record.append(f'{name},sha256={digest},{len(data)}')
  record.append('drover_hello-1.0.0.dist-info/RECORD,,')
  wheel.writestr('drover_hello-1.0.0.dist-info/RECORD', '\\n'.join(record) + '\\n')
`;
  execFileSync(PYTHON, ['-c', script, file]);
  return file;
}

describe.runIf(ready)('an environment’s pip packages', () => {
  let server: Server;
  let base = '';
  let dir = '';
  let engine: DockerEngine;
  const built: string[] = [];

  beforeAll(async () => {
    ensureRootfsImage(PYTHON_IMAGE, {
      binaries: [PYTHON],
      folders: [PYTHON_LIB, PIP],
      librariesOf: [`${PYTHON_LIB}/lib-dynload`],
      symlinks: [['/usr/bin/python3', path.basename(PYTHON)]],
    });
    dir = tempDir('drover-derived-pip-');
    engine = new DockerEngine({ instance: instanceIdOf(dir) });
    const wheel = makeWheel(dir);
    const bytes = readFileSync(wheel);
    const name = path.basename(wheel);
    const sha = createHash('sha256').update(bytes).digest('hex');
    server = createServer((request, response) => {
      if (request.url === '/simple/drover-hello/') {
        response.setHeader('content-type', 'text/html');
        response.end(`<!DOCTYPE html><html><body><a href="/files/${name}#sha256=${sha}">${name}</a></body></html>`);
      } else if (request.url === `/files/${name}`) {
        response.end(bytes);
      } else {
        response.statusCode = 404;
        response.end('not found');
      }
    });
    const gateway = await engine.bridgeGateway();
    await new Promise<void>((resolve) => server.listen(0, gateway, resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    base = `drover-test/python-index:${port}`;
    const container = dockerCli('create', PYTHON_IMAGE, 'true');
    dockerCli(
      'commit',
      '--change',
      `ENV PIP_INDEX_URL=http://${gateway}:${port}/simple/`,
      '--change',
      `ENV PIP_TRUSTED_HOST=${gateway}`,
      container,
      base,
    );
    dockerCli('rm', container);
  }, 180_000);

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    for (const image of [...built, base]) if (image) execFileSync('docker', ['rmi', '-f', image], { stdio: 'ignore' });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function session(name: string, pip: string[]) {
    const store = SessionStore.open({ dataDir: path.join(dir, name) });
    const registry = new HandRegistry({ store, docker: engine, log: () => undefined });
    const { id } = store.createSession({ title: 'pip' });
    registry.attach(id, { name: 'env', config: { kind: 'docker', image: base, network: 'none', packages: { apt: [], pip, npm: [] } } });
    cleanups.push(async () => {
      await registry.close();
      await registry.sessionDeleted(id);
      store.close();
    });
    return {
      async bash(command: string): Promise<{ isError: boolean; text: string }> {
        const [hand] = await registry.handsFor(id);
        if (!hand) throw new Error('no hand');
        const outcome = await hand.execute('env__bash', { command }, { signal: new AbortController().signal });
        return { isError: outcome.isError, text: outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n') };
      },
      events: <K extends EventType>(type: K) => store.getEvents(id, { types: [type] }) as Array<EventOf<K>>,
    };
  }

  it('installs a pip package into the derived image, even though Debian marks its python externally managed', async () => {
    built.push(derivedTag(dockerCli('image', 'inspect', '--format', '{{.Id}}', base), { apt: [], pip: ['drover-hello'], npm: [] }));
    const r = session('one', ['drover-hello']);
    const result = await r.bash('drover-hello; python3 -c "import drover_hello; print(drover_hello.__file__)"');
    expect(result.text).toMatch(
      /^hello from a pip package\n\/usr\/local\/lib\/python3\.\d+\/dist-packages\/drover_hello\/__init__\.py\n\[exit code 0/,
    );
    expect(r.events('hand.provisioning').map((event) => event.payload.phase)).toEqual(['building', 'creating']);
  }, 180_000);

  it('a package the index does not have: hand.failed in pip’s words, and what to do', async () => {
    built.push(derivedTag(dockerCli('image', 'inspect', '--format', '{{.Id}}', base), { apt: [], pip: ['drover-missing'], npm: [] }));
    const r = session('two', ['drover-missing']);
    expect((await r.bash('true')).isError).toBe(true);
    const message = r.events('hand.failed')[0]?.payload.message ?? '';
    expect(message).toMatch(
      /^Building the image with pip: drover-missing on drover-test\/python-index:\d+ failed: an install step exited with code 1\./,
    );
    expect(message).toContain('No matching distribution found for drover-missing');
    expect(message).toContain('Check the package names and versions');
  }, 180_000);
});
