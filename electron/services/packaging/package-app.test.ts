// Packaging without Electron: electron-builder.yml passes electron-builder's own validation, and
// the real packager (electron-builder's 'dir' target, with a stand-in Electron distribution since
// none can be downloaded here) packs the app's bundles and better-sqlite3's JavaScript into
// app.asar, its Electron build outside it where native-binding.ts finds it, and nothing else.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { listPackage } from '@electron/asar';
import Database from 'better-sqlite3';
import { DebugLogger } from 'builder-util';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config';
import type { Configuration } from 'electron-builder';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packagedSqliteBinding, selectSqliteBinding } from '#services/native-binding';
import { updateConfigFile, updatesConfigured } from '#services/support/updates';
import { packageApp } from './package-app.ts';

const projectRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const require = createRequire(import.meta.url);
const electronVersion = (JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')) as { version: string }).version;
const nodeSqliteBuild = path.join(path.dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');

async function projectConfig(): Promise<Configuration> {
  return getConfig(projectRoot, null, null);
}

describe('electron-builder.yml', () => {
  it("passes electron-builder's own validation", async () => {
    const config = await projectConfig();
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    expect(config.appId).toBe('dev.drover.app');
    expect(config.productName).toBe('Drover');
  });

  it('is really validated: a misspelt option is refused', async () => {
    const config = { ...(await projectConfig()), asarUnpak: ['**/*.node'] } as Configuration;
    await expect(validateConfiguration(config, new DebugLogger(false))).rejects.toThrow(/asarUnpak/);
  });

  it('builds every installer the issue asks for, and never rebuilds node_modules in place', async () => {
    const config = await projectConfig();
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.mac?.target).toEqual(['dmg', 'zip']);
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.mac?.hardenedRuntime).toBe(true);
    expect(config.mac?.entitlements).toBe('build/entitlements.mac.plist');
    expect(existsSync(path.join(projectRoot, 'build', 'entitlements.mac.plist'))).toBe(true);
    expect(config.npmRebuild).toBe(false);
    expect(config.publish).toBeNull();
  });
});

describe('the packed app (electron-builder dir target, a stand-in Electron)', () => {
  let work: string;
  let project: string;
  let electronDist: string;
  let appOutDir: string;
  let asarFiles: string[];
  const resourcesDir = () =>
    process.platform === 'darwin' ? path.join(appOutDir, 'Drover.app', 'Contents', 'Resources') : path.join(appOutDir, 'resources');
  const electronAbiBuild = () => path.join(work, 'electron-abi', 'better_sqlite3.node');

  beforeAll(async () => {
    // Inside the checkout (test-results/ is git-ignored), on node_modules' file system: see below.
    mkdirSync(path.join(projectRoot, 'test-results'), { recursive: true });
    work = mkdtempSync(path.join(projectRoot, 'test-results', 'drover-dist-'));
    // A project laid out like the checkout: the real package.json, configuration, build resources
    // and node_modules, stand-in bundles in out/, and the sources and tests that must stay out.
    project = path.join(work, 'project');
    mkdirSync(project);
    for (const entry of ['package.json', 'electron-builder.yml', 'build'])
      cpSync(path.join(projectRoot, entry), path.join(project, entry), { recursive: true });
    // A real node_modules tree, as npm installed it: electron-builder asks `npm list` which packages
    // to pack, and npm cannot resolve dependencies through a symlinked node_modules (realpaths
    // outside the project). Hard links make it in a second; elsewhere it is copied.
    const modules = path.join(project, 'node_modules');
    try {
      execFileSync('cp', ['-al', path.join(projectRoot, 'node_modules'), modules]);
    } catch {
      rmSync(modules, { recursive: true, force: true });
      cpSync(path.join(projectRoot, 'node_modules'), modules, { recursive: true, verbatimSymlinks: true });
    }
    const files: Record<string, string> = {
      'out/main/index.js': '// main bundle',
      'out/main/index.js.map': '{}',
      'out/main/chunks/sshcrypto-abc.node': 'node-abi helper',
      'out/main/chunks/node-abc.js': '// chunk',
      'out/preload/index.cjs': '// preload bundle',
      'out/renderer/index.html': '<!doctype html>',
      'out/renderer/assets/index-abc.js': '// renderer bundle',
      'electron/main/index.ts': 'source',
      'electron/services/store.test.ts': 'test',
      'shared/rpc.ts': 'source',
      'renderer/src/main.tsx': 'source',
      'test/support/rig.ts': 'test support',
      'e2e/browser/app.spec.ts': 'e2e',
      'bench/index.ts': 'bench',
      'scripts/dist.ts': 'script',
      'docs/architecture.md': 'docs',
      'tsconfig.json': '{}',
    };
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
      writeFileSync(path.join(project, file), text);
    }
    // The Electron build is stood in for by the Node build (same module, loadable here) under another path.
    mkdirSync(path.dirname(electronAbiBuild()), { recursive: true });
    cpSync(nodeSqliteBuild, electronAbiBuild());
    // A stand-in unpacked Electron: what electron-builder copies and renames, without the browser.
    electronDist = path.join(work, 'electron-dist');
    mkdirSync(path.join(electronDist, 'resources'), { recursive: true });
    writeFileSync(path.join(electronDist, 'electron'), '#!/bin/sh\n');
    chmodSync(path.join(electronDist, 'electron'), 0o755);
    writeFileSync(path.join(electronDist, 'electron.exe'), '');
    writeFileSync(path.join(electronDist, 'version'), electronVersion);
    writeFileSync(path.join(electronDist, 'LICENSE'), 'stand-in');

    const asked: Array<{ platform: string; arch: string; electronVersion: string }> = [];
    await packageApp({
      projectDir: project,
      dir: true,
      outputDir: path.join(work, 'dist'),
      electronDist,
      sqliteBinding: (target) => (asked.push(target), electronAbiBuild()),
    });
    expect(asked).toEqual([{ platform: process.platform, arch: process.arch, electronVersion }]);
    // linux-unpacked, win-unpacked, mac, mac-arm64, linux-arm64-unpacked…: the one folder electron-builder made.
    const made = readdirSync(path.join(work, 'dist')).filter((name) => name.endsWith('-unpacked') || name.startsWith('mac'));
    expect(made).toHaveLength(1);
    appOutDir = path.join(work, 'dist', made[0] ?? '');
    const resources = resourcesDir();
    asarFiles = listPackage(path.join(resources, 'app.asar'), { isPack: false }).map((file) => file.split(path.sep).join('/'));
  }, 240_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds the main, preload and renderer bundles and package.json', () => {
    for (const file of [
      '/package.json',
      '/out/main/index.js',
      '/out/main/chunks/node-abc.js',
      '/out/preload/index.cjs',
      '/out/renderer/index.html',
      '/out/renderer/assets/index-abc.js',
    ]) {
      expect(asarFiles).toContain(file);
    }
  });

  it("holds better-sqlite3's JavaScript and what it requires, and no other dependency", () => {
    expect(asarFiles).toContain('/node_modules/better-sqlite3/lib/index.js');
    expect(asarFiles).toContain('/node_modules/bindings/bindings.js');
    const packages = new Set(asarFiles.filter((file) => file.startsWith('/node_modules/')).map((file) => file.split('/')[2]));
    expect([...packages].sort()).toEqual(['better-sqlite3', 'bindings', 'file-uri-to-path']);
  });

  it('leaves out sources, tests, e2e, bench, scripts, docs, source maps, native sources and the Node-ABI build', () => {
    const excluded = /^\/(electron|shared|renderer|test|e2e|bench|scripts|docs|build)\/|^\/tsconfig|\.map$|\.node$|\/(src|deps|build)\//;
    expect(asarFiles.filter((file) => excluded.test(file))).toEqual([]);
    expect(asarFiles.some((file) => file.startsWith('/node_modules/better-sqlite3/build'))).toBe(false);
    const unpackedOut = path.join(resourcesDir(), 'app.asar.unpacked', 'out');
    expect(existsSync(unpackedOut)).toBe(false);
  });

  it("puts better-sqlite3's Electron build outside the archive, where native-binding.ts looks, and the module loads from there", () => {
    const placed = packagedSqliteBinding(resourcesDir());
    expect(readFileSync(placed).equals(readFileSync(electronAbiBuild()))).toBe(true);
    const selected = selectSqliteBinding({
      projectRoot: path.join(resourcesDir(), 'app.asar'),
      electronVersion,
      platform: process.platform,
      arch: process.arch,
      runningUnderElectron: true,
      packaged: true,
      resourcesPath: resourcesDir(),
      exists: existsSync,
    });
    expect(selected).toBe(placed);
    const db = new Database(':memory:', { nativeBinding: selected });
    try {
      expect(db.prepare('select 6 * 7 as answer').get()).toEqual({ answer: 42 });
    } finally {
      db.close();
    }
  });

  it('looks for no updates: electron-builder.yml names no provider, so no app-update.yml is packed', () => {
    expect(existsSync(updateConfigFile(resourcesDir()))).toBe(false);
    expect(updatesConfigured({ packaged: true, resourcesPath: resourcesDir(), exists: existsSync })).toBe(false);
  });

  it("turns the update check on for a release build that names a provider (electron-builder's app-update.yml)", async () => {
    const output = path.join(work, 'dist-release');
    await packageApp({
      projectDir: project,
      dir: true,
      outputDir: output,
      electronDist,
      sqliteBinding: () => electronAbiBuild(),
      overrides: { publish: { provider: 'generic', url: 'https://updates.example.invalid/drover' } },
    });
    const made = readdirSync(output).find((name) => name.endsWith('-unpacked') || name.startsWith('mac')) ?? '';
    const resources =
      process.platform === 'darwin' ? path.join(output, made, 'Drover.app', 'Contents', 'Resources') : path.join(output, made, 'resources');
    expect(readFileSync(updateConfigFile(resources), 'utf8')).toContain('provider: generic');
    expect(updatesConfigured({ packaged: true, resourcesPath: resources, exists: existsSync })).toBe(true);
  }, 240_000);
});
