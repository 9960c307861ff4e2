/**
 * Renders build/icon.svg into the icon files (see icons.ts for the files and their containers).
 * The SVG is rasterised with resvg (@resvg/resvg-js: a maintained, dependency-free renderer shipped
 * as prebuilt binaries in npm packages), so every machine renders the same pixels without a browser.
 * Build-time only: scripts/icons.ts and the tests use it, the app never does.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { iconFiles } from './icons.ts';
/** Renders `svg` to a square PNG of `size` pixels. */
export function renderSvg(svg: Buffer, size: number): Buffer {
  return new Resvg(svg, { fitTo: { mode: 'width', value: size }, font: { loadSystemFonts: false } }).render().asPng();
}

/** Writes every icon file for `svgFile` into `outDir` (emptied first); returns the paths written. */
export async function writeIcons(svgFile: string, outDir: string): Promise<string[]> {
  const svg = readFileSync(svgFile);
  const files = await iconFiles(svg, (size) => renderSvg(svg, size));
  rmSync(outDir, { recursive: true, force: true });
  const written: string[] = [];
  for (const [name, data] of files) {
    const file = path.join(outDir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, data);
    written.push(file);
  }
  return written;
}
