// Derived images with pip packages, for real: this machine's python3 and pip on busybox as the base
// image (with pip pointed at a package index this test serves on Docker's bridge, as an
// organisation's mirror would be), a wheel made here; the build installs it (Debian's pip refuses
// system installs unless told: the build tells it), and a missing package fails in pip's words.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireDocker } from '#test/support/docker';
import { PackageFixture } from '#test/support/package-images';
import { ensureRootfsImage } from '#test/support/rootfs-image';
import { requirePart } from '#test/support/system';

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
  let fixture: PackageFixture | undefined;

  beforeAll(async () => {
    ensureRootfsImage(PYTHON_IMAGE, {
      binaries: [PYTHON],
      folders: [PYTHON_LIB, PIP],
      librariesOf: [`${PYTHON_LIB}/lib-dynload`],
      symlinks: [['/usr/bin/python3', path.basename(PYTHON)]],
    });
    fixture = new PackageFixture('drover-derived-pip-');
    const wheel = makeWheel(fixture.dir);
    const bytes = readFileSync(wheel);
    const name = path.basename(wheel);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const index = `<!DOCTYPE html><html><body><a href="/files/${name}#sha256=${sha}">${name}</a></body></html>`;
    const { host, port } = await fixture.serveFiles(
      new Map([
        ['/simple/drover-hello/', { body: index, type: 'text/html' }],
        [`/files/${name}`, { body: bytes }],
      ]),
    );
    fixture.commitBase(PYTHON_IMAGE, `drover-test/python-index:${port}`, {
      changes: [`ENV PIP_INDEX_URL=http://${host}:${port}/simple/`, `ENV PIP_TRUSTED_HOST=${host}`],
    });
  }, 180_000);

  afterEach(() => fixture?.endSessions());
  afterAll(() => fixture?.close());

  const session = (name: string, pip: string[]) => {
    if (!fixture) throw new Error('the set-up did not finish');
    return fixture.session(name, { pip });
  };

  it('installs a pip package into the derived image, even though Debian marks its python externally managed', async () => {
    const r = session('one', ['drover-hello']);
    const result = await r.bash('drover-hello; python3 -c "import drover_hello; print(drover_hello.__file__)"');
    expect(result.text).toMatch(
      /^hello from a pip package\n\/usr\/local\/lib\/python3\.\d+\/dist-packages\/drover_hello\/__init__\.py\n\[exit code 0/,
    );
    expect(r.events('hand.provisioning').map((event) => event.payload.phase)).toEqual(['building', 'creating']);
  }, 180_000);

  it('a package the index does not have: hand.failed in pip’s words, and what to do', async () => {
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
