/**
 * Where Drover keeps its data: one folder per OS convention, overridable with DROVER_DATA_DIR.
 * Both hosts (the Electron app and serve mode) resolve it here so they always agree.
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { AppError } from '#shared/errors';

export interface DataDirEnvironment {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  home: string;
}

/** The data folder for this user: DROVER_DATA_DIR if set, else the OS's per-user data folder. */
export function resolveDataDir(
  { env, platform, home }: DataDirEnvironment = { env: process.env, platform: process.platform, home: homedir() },
): string {
  const override = env['DROVER_DATA_DIR']?.trim();
  if (override) return path.resolve(override);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Drover');
  if (platform === 'win32') {
    const appData = env['APPDATA']?.trim();
    return path.win32.join(appData || path.win32.join(home, 'AppData', 'Roaming'), 'Drover');
  }
  // XDG Base Directory: a relative XDG_DATA_HOME is invalid and must be ignored.
  const xdg = env['XDG_DATA_HOME']?.trim();
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.local', 'share');
  return path.join(base, 'drover');
}

/** Creates the data folder (private to the user) if it is missing. */
export function ensureDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new AppError(
      'storage-unwritable',
      `Drover cannot create its data folder ${dir} (${reason}). ` +
        'Check that the path is yours and writable, or set DROVER_DATA_DIR to a folder you can write to.',
      { cause: error },
    );
  }
}

/**
 * A warning when other users can read or enter the data folder (its group/others permission
 * bits, e.g. an existing DROVER_DATA_DIR made with a shared umask), else null. Drover's own files
 * in it are private (0600) anyway, but their names and any other files are not.
 */
export function dataDirExposure(dir: string, platform: NodeJS.Platform = process.platform): string | null {
  if (platform === 'win32') return null; // ACLs, not mode bits; the per-user AppData folder is private
  let mode: number;
  try {
    mode = statSync(dir).mode & 0o777;
  } catch {
    return null;
  }
  if ((mode & 0o077) === 0) return null;
  return (
    `The data folder ${dir} can be read by other users on this machine (permissions ${mode.toString(8).padStart(3, '0')}). ` +
    `Drover keeps its own files there private, but to hide the rest run: chmod 700 '${dir}'`
  );
}

/**
 * Runs `open` (which creates `files`, e.g. SQLite opening a database and its -wal/-shm) so that
 * each is private to the user (0600): the main file is created 0600 before, SQLite gives its
 * -wal/-shm the main file's mode, and every one that exists afterwards is set to 0600 (files left
 * 0644 by an older Drover included).
 */
export function withPrivateFiles<T>(files: readonly string[], open: () => T): T {
  const [main] = files;
  if (main !== undefined) {
    try {
      closeSync(openSync(main, 'a', 0o600));
    } catch {
      // open() reports why the file cannot be made, naming it.
    }
  }
  restrictFiles(files);
  const result = open();
  restrictFiles(files);
  return result;
}

/** Sets each existing file of `files` to 0600 (a missing one is skipped). */
export function restrictFiles(files: readonly string[]): void {
  if (process.platform === 'win32') return;
  for (const file of files) {
    try {
      chmodSync(file, 0o600);
    } catch {
      // Missing (not created yet) or not ours: opening it reports the real problem.
    }
  }
}
