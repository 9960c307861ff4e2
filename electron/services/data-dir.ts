/**
 * Where Drover keeps its data: one folder per OS convention, overridable with DROVER_DATA_DIR.
 * Both hosts (the Electron app and serve mode) resolve it here so they always agree.
 */
import { mkdirSync } from 'node:fs';
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
