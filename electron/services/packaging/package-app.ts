/**
 * Packages Drover with electron-builder: electron-builder.yml is the configuration, and this adds
 * the one step that cannot be written there, afterPack, which puts better-sqlite3's Electron-ABI
 * build where the packed app looks for it (native-binding.ts's packagedSqliteBinding). Dependencies
 * are not rebuilt in place (npmRebuild: false), so node_modules keeps the Node-ABI build the tests use.
 *
 * Build-time only (scripts/dist.ts, and the packaging tests): the app never imports it.
 */
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Arch, build, Platform, type AfterPackContext, type Configuration } from 'electron-builder';
import { packagedSqliteBinding } from '#services/native-binding';

/** Electron's resources folder (app.asar, app.asar.unpacked) inside a packed app's folder. */
export function packedResourcesDir(appOutDir: string, platform: string, productFilename: string): string {
  return platform === 'darwin' || platform === 'mas'
    ? path.join(appOutDir, `${productFilename}.app`, 'Contents', 'Resources')
    : path.join(appOutDir, 'resources');
}

/** Copies the Electron build of better-sqlite3 into a packed app's resources; returns where it went. */
export function placeSqliteBinding(binding: string, resourcesDir: string): string {
  const destination = packagedSqliteBinding(resourcesDir);
  mkdirSync(path.dirname(destination), { recursive: true });
  copyFileSync(binding, destination);
  chmodSync(destination, 0o755);
  return destination;
}

export interface PackageOptions {
  projectDir: string;
  /** An unpacked app only (electron-builder's 'dir' target) instead of the configuration's installers. */
  dir: boolean;
  /** Replaces directories.output (default dist/). */
  outputDir?: string;
  /** A local Electron (an unpacked distribution or its zip) instead of downloading one. */
  electronDist?: string;
  /** The Electron-ABI build of better-sqlite3 for one platform and architecture (built if need be). */
  sqliteBinding: (target: { platform: string; arch: string; electronVersion: string }) => string;
  /** Settings over electron-builder.yml's (e.g. a release build's `publish` provider). */
  overrides?: Configuration;
}

/** Packages for the current OS; returns the artifacts electron-builder made (none for `dir`). */
export async function packageApp(options: PackageOptions): Promise<string[]> {
  const platform = Platform.current();
  const config: Configuration = {
    ...options.overrides,
    ...(options.outputDir === undefined ? {} : { directories: { output: options.outputDir } }),
    ...(options.electronDist === undefined ? {} : { electronDist: options.electronDist }),
    afterPack: (context: AfterPackContext) => {
      const electronVersion = context.packager.config.electronVersion;
      if (!electronVersion) throw new Error('electron-builder did not say which Electron version it packs');
      const binding = options.sqliteBinding({ platform: context.electronPlatformName, arch: Arch[context.arch], electronVersion });
      const resources = packedResourcesDir(context.appOutDir, context.electronPlatformName, context.packager.appInfo.productFilename);
      const placed = placeSqliteBinding(binding, resources);
      console.log(`  • placed the Electron build of better-sqlite3 at ${path.relative(context.appOutDir, placed)}`);
      return Promise.resolve();
    },
  };
  return build({
    projectDir: options.projectDir,
    config,
    publish: 'never',
    ...(options.dir ? { targets: platform.createTarget('dir', Arch[process.arch as keyof typeof Arch]) } : {}),
  });
}
