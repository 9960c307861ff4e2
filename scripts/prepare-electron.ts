/**
 * Builds better-sqlite3 for Electron's ABI beside the Node build, once per Electron version, so
 * `npm test` (Node) and `npm start` (Electron) both work from one `npm install`. Run by
 * `npm start` / `npm run dev`; a no-op when the build exists.
 *
 * It tries the prebuilt binary first (prebuild-install, shipped with better-sqlite3) and falls
 * back to compiling against Electron's headers with node-gyp (needs python3, make and a C++
 * compiler). Both need the network once.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { electronSqliteBinding, electronSqliteBuildDir, type BindingTarget } from '#services/native-binding';

const projectRoot = path.resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const electronVersion = (JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')) as { version: string }).version;
const target: BindingTarget = { projectRoot, electronVersion, platform: process.platform, arch: process.arch };
const binding = electronSqliteBinding(target);

if (existsSync(binding)) process.exit(0);

const source = path.dirname(require.resolve('better-sqlite3/package.json'));
const buildDir = electronSqliteBuildDir(target);
console.log(`Building the database module for Electron ${electronVersion} (once; this can take a few minutes)…`);
rmSync(buildDir, { recursive: true, force: true });
mkdirSync(buildDir, { recursive: true });
for (const entry of ['package.json', 'binding.gyp', 'src', 'deps', 'lib']) {
  cpSync(path.join(source, entry), path.join(buildDir, entry), { recursive: true });
}

// An npm `nodedir` setting makes node-gyp compile against that Node's headers whatever the
// --target, which would yield a Node-ABI binary under the Electron name: build without it.
const buildEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.toLowerCase() !== 'npm_config_nodedir'));

function run(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { cwd: buildDir, stdio: 'inherit', env: buildEnv, shell: process.platform === 'win32' });
  return result.status === 0;
}

/** An Electron-ABI binary must fail to load in plain Node; one that loads was built for Node. */
function builtForNode(file: string): boolean {
  const probe = spawnSync(process.execPath, ['-e', 'process.dlopen({ exports: {} }, process.argv[1])', file], { env: buildEnv });
  return probe.status === 0;
}

const prebuildInstall = require.resolve('prebuild-install/bin.js');
const electronArgs = [`--runtime=electron`, `--target=${electronVersion}`, `--arch=${process.arch}`];
const built =
  run(process.execPath, [prebuildInstall, ...electronArgs]) ||
  run('node-gyp', ['rebuild', '--release', ...electronArgs, '--dist-url=https://electronjs.org/headers']);

if (built && existsSync(binding) && builtForNode(binding)) {
  rmSync(buildDir, { recursive: true, force: true });
  console.error(
    `The database module was built for Node ${process.versions.node}, not for Electron ${electronVersion} ` +
      '(is an npm "nodedir" or node-gyp "target" setting forcing it?). Remove that setting and run `npm start` again.',
  );
  process.exit(1);
}
if (!built || !existsSync(binding)) {
  rmSync(buildDir, { recursive: true, force: true });
  console.error(
    `Could not build better-sqlite3 for Electron ${electronVersion}: neither a prebuilt binary could be downloaded ` +
      'nor a local build completed (see the output above). Check your network connection, and that python3, make and ' +
      'a C++ compiler are installed, then run `npm start` again.',
  );
  process.exit(1);
}
console.log(`Built ${path.relative(projectRoot, binding)}.`);
