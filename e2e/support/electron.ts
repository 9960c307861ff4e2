// Whether the Electron binary can be launched here, for the 'electron' Playwright project's specs.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Why Electron cannot be launched here, or null when it can. Follows the electron package's own
 * index.js (path.txt names the binary under dist/, ELECTRON_OVERRIDE_DIST_PATH replaces dist/)
 * instead of calling `require('electron')`: when the binary is missing, that require starts a
 * network download, which must not happen inside a test run.
 */
export function electronMissingReason(): string | null {
  const install =
    'Electron binary not installed (node_modules/electron has no dist/; installs here run with ELECTRON_SKIP_BINARY_DOWNLOAD=1). ' +
    'Where downloads work: `npx install-electron`, check with `npx electron --version`, then `npm run build`';
  let packageDir: string;
  try {
    packageDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return 'the electron npm package is not installed: run `npm ci`';
  }
  const pathFile = path.join(packageDir, 'path.txt');
  const executable = existsSync(pathFile) ? readFileSync(pathFile, 'utf8') : undefined;
  const override = process.env['ELECTRON_OVERRIDE_DIST_PATH'];
  if (override) {
    const binary = path.join(override, executable ?? 'electron');
    return existsSync(binary) ? null : `ELECTRON_OVERRIDE_DIST_PATH=${override} holds no Electron binary (${binary})`;
  }
  if (executable === undefined || !existsSync(path.join(packageDir, 'dist', executable))) return install;
  if (process.platform === 'linux' && !process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY']) {
    const reason = 'no display for Electron: run the tests under `xvfb-run`';
    // The binary is there, so a CI that cannot show it is misconfigured, not this machine's limit.
    if (process.env['CI'] === 'true') throw new Error(`Electron needs a display under CI=true: ${reason}`);
    return reason;
  }
  return null;
}

/** The installed Electron's unpacked distribution (node_modules/electron/dist, or ELECTRON_OVERRIDE_DIST_PATH). */
export function electronDistDir(): string {
  const override = process.env['ELECTRON_OVERRIDE_DIST_PATH'];
  if (override) return override;
  return path.join(path.dirname(createRequire(import.meta.url).resolve('electron/package.json')), 'dist');
}
