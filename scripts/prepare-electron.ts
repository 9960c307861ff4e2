/**
 * Builds better-sqlite3 for Electron's ABI beside the Node build, once per Electron version, so
 * `npm test` (Node) and `npm start` (Electron) both work from one `npm install`. Run by
 * `npm start` / `npm run dev`; a no-op when the build exists (see scripts/electron-sqlite.ts).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ensureElectronSqlite } from './electron-sqlite.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const electronVersion = (JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')) as { version: string }).version;

try {
  ensureElectronSqlite({ projectRoot, electronVersion, platform: process.platform, arch: process.arch });
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)} (then run \`npm start\` again)`);
  process.exit(1);
}
