/**
 * Builds better-sqlite3 for Electron's ABI beside the Node build in node_modules (which the tests
 * and serve mode keep using), once per Electron version, platform and architecture. Used by
 * `npm start` / `npm run dev` (scripts/prepare-electron.ts) and by the packaging step (scripts/dist.ts),
 * which copies the result into the packed app.
 *
 * It tries the prebuilt binary first (prebuild-install, shipped with better-sqlite3) and falls
 * back to compiling against Electron's headers with node-gyp (needs python3, make and a C++
 * compiler). Both need the network once.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { electronSqliteBinding, electronSqliteBuildDir, type BindingTarget } from '#services/native-binding';

const require = createRequire(import.meta.url);

/** Returns the Electron build's path, building it first when it is missing; throws saying what to do when it cannot. */
export function ensureElectronSqlite(target: BindingTarget): string {
  const binding = electronSqliteBinding(target);
  if (existsSync(binding)) return binding;

  const { electronVersion, platform, arch } = target;
  const source = path.dirname(require.resolve('better-sqlite3/package.json'));
  const buildDir = electronSqliteBuildDir(target);
  console.log(`Building the database module for Electron ${electronVersion} on ${platform}-${arch} (once; this can take a few minutes)…`);
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir, { recursive: true });
  for (const entry of ['package.json', 'binding.gyp', 'src', 'deps', 'lib']) {
    cpSync(path.join(source, entry), path.join(buildDir, entry), { recursive: true });
  }

  // An npm `nodedir` setting makes node-gyp compile against that Node's headers whatever the
  // --target, which would yield a Node-ABI binary under the Electron name: build without it.
  const buildEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.toLowerCase() !== 'npm_config_nodedir'));

  const run = (command: string, args: string[]): boolean =>
    spawnSync(command, args, { cwd: buildDir, stdio: 'inherit', env: buildEnv, shell: process.platform === 'win32' }).status === 0;

  /** An Electron-ABI binary must fail to load in plain Node; one that loads was built for Node. */
  const builtForNode = (file: string): boolean =>
    platform === process.platform &&
    arch === process.arch &&
    spawnSync(process.execPath, ['-e', 'process.dlopen({ exports: {} }, process.argv[1])', file], { env: buildEnv }).status === 0;

  const prebuildInstall = require.resolve('prebuild-install/bin.js');
  const electronArgs = [`--runtime=electron`, `--target=${electronVersion}`, `--arch=${arch}`];
  const built =
    run(process.execPath, [prebuildInstall, ...electronArgs, `--platform=${platform}`]) ||
    run('node-gyp', ['rebuild', '--release', ...electronArgs, '--dist-url=https://electronjs.org/headers']);

  if (built && existsSync(binding) && builtForNode(binding)) {
    rmSync(buildDir, { recursive: true, force: true });
    throw new Error(
      `The database module was built for Node ${process.versions.node}, not for Electron ${electronVersion} ` +
        '(is an npm "nodedir" or node-gyp "target" setting forcing it?). Remove that setting and try again.',
    );
  }
  if (!built || !existsSync(binding)) {
    rmSync(buildDir, { recursive: true, force: true });
    throw new Error(
      `Could not build better-sqlite3 for Electron ${electronVersion}: neither a prebuilt binary could be downloaded ` +
        'nor a local build completed (see the output above). Check your network connection, and that python3, make and ' +
        'a C++ compiler are installed, then try again.',
    );
  }
  console.log(`Built ${binding}.`);
  return binding;
}
