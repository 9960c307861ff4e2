/**
 * Which better-sqlite3 native binary a process loads. Node (tests, serve mode) and Electron need
 * different builds of the same module (different ABIs), and one `npm install` must serve both:
 * node_modules keeps the Node build, and `npm start` adds an Electron build beside it (see
 * scripts/prepare-electron.ts). A packaged app needs neither: electron-builder rebuilds
 * node_modules for Electron when it packages.
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

export interface BindingContext extends BindingTarget {
  /** `process.versions.electron` when running under Electron. */
  runningUnderElectron: boolean;
  /** Electron's `app.isPackaged`. */
  packaged: boolean;
  exists: (file: string) => boolean;
}

/**
 * The `nativeBinding` to pass to better-sqlite3, or undefined to load the module's own build
 * (plain Node, or a packaged app). Throws a user-facing error when a checkout runs Electron
 * without the Electron build, instead of better-sqlite3's opaque NODE_MODULE_VERSION error.
 */
export function selectSqliteBinding(context: BindingContext): string | undefined {
  if (!context.runningUnderElectron || context.packaged) return undefined;
  const binding = electronSqliteBinding(context);
  if (context.exists(binding)) return binding;
  throw new AppError(
    'internal',
    `The database module has not been built for Electron ${context.electronVersion} (looked for ${binding}). ` +
      'Start Drover with `npm start`, which builds it once, or run `npx tsx scripts/prepare-electron.ts`.',
  );
}
