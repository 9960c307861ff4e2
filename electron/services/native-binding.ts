/**
 * Which better-sqlite3 native binary a process loads. Node (tests, serve mode) and Electron need
 * different builds of the same module (different ABIs), and one `npm install` must serve both:
 * node_modules keeps the Node build, and `npm start` adds an Electron build beside it (see
 * scripts/prepare-electron.ts). A packaged app carries only the Electron build, outside the asar
 * archive (native code cannot load from inside one): the packaging step puts it at
 * `<resources>/app.asar.unpacked/node_modules/better-sqlite3/build/Release/` (see
 * electron/services/packaging/package-app.ts).
 */
import path from 'node:path';
import { AppError } from '#shared/errors';

export interface BindingTarget {
  projectRoot: string;
  electronVersion: string;
  platform: NodeJS.Platform;
  arch: string;
}

/** Where the Electron build of better-sqlite3 for this Electron version lives in a checkout. */
export function electronSqliteBuildDir({ projectRoot, electronVersion, platform, arch }: BindingTarget): string {
  return path.join(projectRoot, 'node_modules', '.drover-native', `better-sqlite3-electron-${electronVersion}-${platform}-${arch}`);
}

export function electronSqliteBinding(target: BindingTarget): string {
  return path.join(electronSqliteBuildDir(target), 'build', 'Release', 'better_sqlite3.node');
}

/** Where a packaged app's Electron build of better-sqlite3 lives, under Electron's `process.resourcesPath`. */
export function packagedSqliteBinding(resourcesPath: string): string {
  return path.join(resourcesPath, 'app.asar.unpacked', 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
}

export interface BindingContext extends BindingTarget {
  /** `process.versions.electron` when running under Electron. */
  runningUnderElectron: boolean;
  /** Electron's `app.isPackaged`. */
  packaged: boolean;
  /** Electron's `process.resourcesPath` (where app.asar and app.asar.unpacked are in a packaged app). */
  resourcesPath: string;
  exists: (file: string) => boolean;
}

/**
 * The `nativeBinding` to pass to better-sqlite3, or undefined to load the module's own build
 * (plain Node). Throws a user-facing error when the Electron build is missing (a checkout that
 * has not built it, an installation missing a file), instead of better-sqlite3's opaque
 * NODE_MODULE_VERSION or "could not locate the bindings file" error.
 */
export function selectSqliteBinding(context: BindingContext): string | undefined {
  if (!context.runningUnderElectron) return undefined;
  if (context.packaged) {
    const packaged = packagedSqliteBinding(context.resourcesPath);
    if (context.exists(packaged)) return packaged;
    throw new AppError(
      'internal',
      `This installation of Drover is incomplete: its database module is missing (looked for ${packaged}). ` +
        'Reinstall Drover from a downloaded installer.',
    );
  }
  const binding = electronSqliteBinding(context);
  if (context.exists(binding)) return binding;
  throw new AppError(
    'internal',
    `The database module has not been built for Electron ${context.electronVersion} (looked for ${binding}). ` +
      'Start Drover with `npm start`, which builds it once, or run `npx tsx scripts/prepare-electron.ts`.',
  );
}
