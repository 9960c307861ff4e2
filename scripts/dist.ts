/**
 * `npm run dist` (this OS's installers, per electron-builder.yml) and `npm run dist:dir` (an
 * unpacked app in dist/<os>-unpacked): both run `electron-vite build` first (the npm scripts do),
 * then package with electron-builder, building better-sqlite3 for Electron's ABI for each
 * architecture packed (electron/services/packaging/package-app.ts).
 *
 * Needs the network once per Electron version: electron-builder downloads Electron (unless
 * ELECTRON_BUILDER_ELECTRON_DIST / --electron-dist names a local one) and the tools its targets
 * use, and the database module's Electron build is downloaded or compiled.
 *
 * Usage: tsx scripts/dist.ts [--dir] [--electron-dist <path>] [--output <folder>]
 */
import path from 'node:path';
import { packageApp } from '#services/packaging/package-app';
import { ensureElectronSqlite } from './electron-sqlite.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const distFlag = args.indexOf('--electron-dist');
const electronDist = distFlag === -1 ? process.env['ELECTRON_BUILDER_ELECTRON_DIST'] : args[distFlag + 1];
const outputFlag = args.indexOf('--output');
const outputDir = outputFlag === -1 ? undefined : args[outputFlag + 1];

try {
  const artifacts = await packageApp({
    projectDir: projectRoot,
    dir: args.includes('--dir'),
    ...(electronDist ? { electronDist: path.resolve(electronDist) } : {}),
    ...(outputDir ? { outputDir: path.resolve(outputDir) } : {}),
    sqliteBinding: ({ platform, arch, electronVersion }) =>
      ensureElectronSqlite({ projectRoot, electronVersion, platform: platform as NodeJS.Platform, arch }),
  });
  for (const artifact of artifacts) console.log(`Built ${path.relative(projectRoot, artifact)}`);
} catch (error) {
  console.error(`Packaging failed: ${error instanceof Error ? error.message : String(error)}`);
  console.error(
    'electron-builder downloads Electron and its packaging tools on first use: check the network, or point ' +
      '--electron-dist at an unpacked Electron of the version in package.json.',
  );
  process.exit(1);
}
