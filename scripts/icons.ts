/**
 * Makes build/icons (the PNGs, icon.ico and icon.icns electron-builder packs) from build/icon.svg,
 * the one source image. Run `npm run icons` after changing the SVG, and commit the result: the
 * files are small and the packager needs them as they are.
 *
 * The SVG is rasterised with resvg (@resvg/resvg-js: a maintained, dependency-free renderer
 * shipped as prebuilt binaries in npm packages), so every machine renders the same pixels without
 * a browser; the .ico and .icns containers are written by electron/services/packaging/icons.ts.
 *
 * Usage: tsx scripts/icons.ts [--out <folder>]   (default build/icons)
 */
import path from 'node:path';
import { writeIcons } from '#services/packaging/icons-render';

const projectRoot = path.resolve(import.meta.dirname, '..');

const outFlag = process.argv.indexOf('--out');
const outDir = outFlag === -1 ? path.join(projectRoot, 'build', 'icons') : path.resolve(process.argv[outFlag + 1] ?? '');
const written = await writeIcons(path.join(projectRoot, 'build', 'icon.svg'), outDir);
console.log(`Wrote ${written.length} icon files to ${path.relative(process.cwd(), outDir) || '.'}.`);
